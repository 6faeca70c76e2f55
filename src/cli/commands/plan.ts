/** `daqs plan`: what the policy would set for given rates, touching no VM. */
import { readFile } from 'node:fs/promises';
import { completeConfig, defaultCapacityDeps, loadConfig, parseConfigText, type LoadedConfig } from '../../config/index.ts';
import { planCaps, type PlanVm } from '../../daemon/plan.ts';
import { createPolicy } from '../../policy/index.ts';
import { POLICY_NAMES } from '../../policy/names.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { renderTable } from '../../util/text-table.ts';
import { defineCommand, UsageError } from '../define.ts';
import { oneOf, rateBps, wholeNumber } from '../values.ts';

// "web1=12gbit" -> ['web1', 12e9]
function vmRate(text: string): readonly [string, number] {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new Error(`${JSON.stringify(text)} must be VM=RATE, e.g. web1=12gbit`);
  return [text.slice(0, eq), parseRateBps(text.slice(eq + 1))];
}

/** Prints the plan table (or JSON). */
export const run = defineCommand({
  name: 'plan',
  description: `Runs the configured policy (or --policy) on the given per-VM rates for --ticks ticks,
each VM sending min(its rate, its cap), and prints each VM's role, guarantee, demand estimate
and cap. VMs of the config without --rate send 0. Nothing is applied to any VM. Example:
  daqs plan --config deploy/daqs.example.yaml --rate web1=12gbit --rate batch1=35gbit --best-effort other=5gbit`,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', required: true, help: 'the configuration file (VMs, guarantees, policy, port)' },
    rate: { type: 'string', value: 'VM=RATE', multiple: true, parse: vmRate, help: 'what a VM of the config sends uncapped (a name not in the config is refused: see --best-effort)' },
    'best-effort': { type: 'string', value: 'VM=RATE', multiple: true, parse: vmRate, help: 'a Best-Effort VM the config does not list (as the daemon treats unlisted running VMs) and what it sends' },
    policy: { type: 'string', value: 'NAME', parse: oneOf(POLICY_NAMES), help: `the policy to plan with instead of the config's: ${POLICY_NAMES.join(', ')}` },
    capacity: { type: 'string', value: 'RATE', parse: rateBps({ minBps: 1e6 }), help: "the port capacity instead of the config's (or the link speed)" },
    ticks: { type: 'string', value: 'N', default: '5', parse: wholeNumber(1, 1000), help: 'ticks to run the policy for, 1-1000' },
    json: { type: 'boolean', help: 'print the plan as JSON' },
  },
}, async ({ values }, io) => {
  const loaded = await loadWithCapacity(values.config, values.capacity);
  const cfg = loaded.config;
  const listed = Object.keys(cfg.vms);
  const rates = new Map<string, number>();
  for (const [id, bps] of values.rate) {
    if (!Object.hasOwn(cfg.vms, id)) {
      throw new UsageError(`--rate ${id}=...: ${values.config} has no VM ${JSON.stringify(id)} (it lists ${listed.join(', ') || 'none'}); for a Best-Effort VM the file does not list, use --best-effort ${id}=RATE`);
    }
    if (rates.has(id)) throw new UsageError(`--rate: ${id} is given twice`);
    rates.set(id, bps);
  }
  for (const [id, bps] of values['best-effort']) {
    if (Object.hasOwn(cfg.vms, id)) throw new UsageError(`--best-effort ${id}=...: ${id} is in ${values.config}, which sets its SLA: use --rate ${id}=RATE`);
    if (rates.has(id)) throw new UsageError(`--best-effort: ${id} is given twice`);
    rates.set(id, bps);
  }
  const vms: PlanVm[] = [...new Set([...listed, ...rates.keys()])].map((id) => {
    const s = cfg.vms[id];
    return { id, rateBps: rates.get(id) ?? 0, sla: { guaranteeBps: s?.guaranteeBps ?? 0, maxBps: s?.maxBps ?? null, weight: s?.weight ?? 1 } };
  });
  const plan = planCaps(createPolicy(values.policy ?? cfg.policy), loaded.capacity.capacityBps, vms, values.ticks, cfg.port.tickMs);
  if (values.json) {
    io.out(JSON.stringify(plan, null, 2));
    return 0;
  }
  const fmt = (bps: number | null): string => (bps === null ? '-' : formatRate(bps));
  io.out(`policy ${plan.policy}, port ${formatRate(plan.capacityBps)} (learned ${formatRate(plan.learnedCapacityBps)}), after ${values.ticks} ticks`);
  const header = ['VM', 'ROLE', 'GUARANTEE', 'MAX', 'WEIGHT', 'RATE', 'DEMAND', 'CAP', 'SENDS'];
  const lines = plan.rows.map((r) => [r.id, r.sla.guaranteeBps > 0 ? 'guarantee' : 'best-effort', fmt(r.sla.guaranteeBps || null), fmt(r.sla.maxBps), String(r.sla.weight), fmt(rates.get(r.id) ?? 0), fmt(r.demandBps), r.capBps === null ? 'none' : formatRate(r.capBps), fmt(r.sendsBps)]);
  for (const l of renderTable(header, lines)) io.out(l);
  return 0;
});

// The config as the daemon would load it; --capacity replaces port.capacity before admission.
async function loadWithCapacity(path: string, capacityBps: number | undefined): Promise<LoadedConfig> {
  if (capacityBps === undefined) return loadConfig(path);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--config ${path}: cannot read it (${e.code ?? e.message})`);
  });
  const cfg = parseConfigText(text, path);
  return completeConfig({ ...cfg, port: { ...cfg.port, capacityBps } }, path, text, defaultCapacityDeps);
}
