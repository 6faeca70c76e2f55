import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { attachTestbed } from '../testbed/attach-view.ts';
import { formatRate } from '../units/rate.ts';
import { checkAdmission } from './admission.ts';
import { resolvePortCapacity, type CapacityDeps, type PortCapacity } from './capacity.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { isAdmissionIssue, toConfigIssues } from './issues.ts';
import { readLinkSpeedBps } from './link-speed.ts';
import { configSchema, type DaqsConfig } from './schema.ts';

/** A configuration ready to run: validated, with the port capacity known and admitted. */
export interface LoadedConfig {
  readonly config: DaqsConfig;
  readonly capacity: PortCapacity;
  /** The file it came from. */
  readonly path: string;
  /** The file's text, so a reload can tell whether anything changed. */
  readonly text: string;
}

/** Parses and validates YAML text; throws ConfigError listing every problem at once. */
export function parseConfigText(text: string, source = '<text>'): DaqsConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return { path: at ? `line ${at.line}, column ${at.col}` : 'YAML', value: undefined, rule: `is not valid YAML: ${e.message} [${e.code}]` };
    });
    throw new ConfigError('E_CONFIG_YAML', source, issues);
  }
  // An empty file parses to null; validate it as {} so the missing keys are named.
  const data: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const onlyAdmission = result.error.issues.every(isAdmissionIssue);
  throw new ConfigError(onlyAdmission ? 'E_CONFIG_ADMISSION' : 'E_CONFIG_INVALID', source, toConfigIssues(configSchema, result.error.issues));
}

/** The real ways to learn a capacity: sysfs link speed, or the running testbed's port rate. */
export const defaultCapacityDeps: CapacityDeps = {
  linkSpeedBps: (iface) => readLinkSpeedBps(iface),
  testbedCapacityBps: async (name) => (await attachTestbed(name)).capacityBps,
};

/**
 * Reads, validates and completes a configuration file: when the file gives no capacity it is
 * read from the link (or the testbed), and admission control runs against that number.
 */
export async function loadConfig(path: string, deps: CapacityDeps = defaultCapacityDeps): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'the file does not exist (pass --config FILE; see deploy/daqs.example.yaml)' : err.message;
    throw new ConfigError('E_CONFIG_READ', path, [{ path: '', value: undefined, rule: `cannot read: ${why}` }], { cause: e });
  }
  return completeConfig(parseConfigText(text, path), path, text, deps);
}

/** Resolves the capacity of a parsed configuration and runs admission control against it. */
export async function completeConfig(config: DaqsConfig, path: string, text: string, deps: CapacityDeps): Promise<LoadedConfig> {
  let capacity: PortCapacity;
  try {
    capacity = await resolvePortCapacity(config.port, deps);
  } catch (e) {
    throw new ConfigError('E_CAPACITY_UNKNOWN', path, [{ path: 'port.capacity', value: undefined, rule: `is not set and ${(e as Error).message}` }], { cause: e });
  }
  if (capacity.source !== 'config') {
    const claims = Object.entries(config.vms).map(([id, vm]) => ({ id, guaranteeBps: vm.guaranteeBps ?? 0 }));
    const where = config.port.interface !== null ? `the link speed of ${config.port.interface}` : `testbed ${config.port.testbed ?? ''}'s port`;
    const issue = checkAdmission(claims, capacity.capacityBps, `port.capacity (it is not set, so ${where}, ${formatRate(capacity.capacityBps)}, is used)`);
    if (issue) throw new ConfigError('E_CONFIG_ADMISSION', path, [issue]);
  }
  return { config, capacity, path, text };
}
