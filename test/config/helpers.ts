import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';

/** A minimal valid configuration object; tests spread their changes over it. */
export function baseConfig(): Record<string, unknown> {
  return { port: { interface: 'eth0', capacity: '40gbit' }, vms: { web1: { guarantee: '10gbit' } } };
}

/** Parses an object written as YAML and returns the ConfigError it raises (fails if none). */
export function refusal(obj: unknown): ConfigError {
  try {
    parseConfigText(stringify(obj), 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('configuration was accepted but a refusal was expected');
}
