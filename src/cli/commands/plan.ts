/** `daqs plan`: what the policy would set for given rates, touching no VM. */
import { parseArgs } from 'node:util';
import { loadConfig, parseConfigText, completeConfig, defaultCapacityDeps } from '../../config/index.ts';
import { planCaps, type PlanVm } from '../../daemon/plan.ts';
import { createPolicy } from '../../policy/index.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { renderTable } from '../../util/text-table.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'show the caps a policy would set for given rates: daqs plan --config FILE --rate VM=RATE ...';

const HELP = `usage: daqs plan --config FILE --rate VM=RATE [--rate VM=RATE ...] [--policy NAME] [--capacity RATE] [--ticks N] [--json]

Runs the configured policy (or --policy) on the given per-VM rates for N ticks (default 5),
each VM sending min(its rate, its cap), and prints each VM's role, guarantee, demand estimate
and cap. VMs of the config without --rate send 0; --rate VMs not in the config are Best-Effort.
Nothing is applied to any VM. Example:
  daqs plan --config deploy/daqs.example.yaml --rate web1=12gbit --rate batch1=35gbit`;

function parseRateArg(text: string): [string, number] {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`--rate "${text}" must be VM=RATE, e.g. --rate web1=12gbit`);
  try {
    return [text.slice(0, eq), parseRateBps(text.slice(eq + 1))];
  } catch (e) {
    throw new UsageError(`--rate "${text}": ${(e as Error).message}`);
  }
}

/** Prints the plan table (or JSON). */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: {
      config: { type: 'string', short: 'c' }, rate: { type: 'string', multiple: true }, policy: { type: 'string' },
      capacity: { type: 'string' }, ticks: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.config) throw new UsageError(`--config FILE is required\n${HELP}`);
  const ticks = values.ticks === undefined ? 5 : Number(values.ticks);
  if (!Number.isInteger(ticks) || ticks < 1 || ticks > 1000) throw new UsageError(`--ticks "${values.ticks}" must be a whole number from 1 to 1000`);
  let capacityOverride: number | undefined;
  if (values.capacity !== undefined) {
    try {
      capacityOverride = parseRateBps(values.capacity);
    } catch (e) {
      throw new UsageError(`--capacity: ${(e as Error).message}`);
    }
  }
  const loaded = capacityOverride === undefined
    ? await loadConfig(values.config)
    : await (async () => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(values.config as string, 'utf8');
      const cfg = parseConfigText(text, values.config);
      return completeConfig({ ...cfg, port: { ...cfg.port, capacityBps: capacityOverride } }, values.config as string, text, defaultCapacityDeps);
    })();
  const cfg = loaded.config;
  const rates = new Map((values.rate ?? []).map(parseRateArg));
  const ids = [...new Set([...Object.keys(cfg.vms), ...rates.keys()])];
  const vms: PlanVm[] = ids.map((id) => {
    const s = cfg.vms[id];
    return { id, rateBps: rates.get(id) ?? 0, sla: { guaranteeBps: s?.guaranteeBps ?? 0, maxBps: s?.maxBps ?? null, weight: s?.weight ?? 1 } };
  });
  const policy = createPolicy(values.policy ?? cfg.policy);
  const plan = planCaps(policy, loaded.capacity.capacityBps, vms, ticks, cfg.port.tickMs);
  if (values.json) {
    console.log(JSON.stringify(plan, null, 2));
    return 0;
  }
  const fmt = (bps: number | null): string => (bps === null ? '-' : formatRate(bps));
  console.log(`policy ${plan.policy}, port ${formatRate(plan.capacityBps)} (learned ${formatRate(plan.learnedCapacityBps)}), after ${ticks} ticks`);
  const header = ['VM', 'ROLE', 'GUARANTEE', 'MAX', 'WEIGHT', 'RATE', 'DEMAND', 'CAP', 'SENDS'];
  const lines = plan.rows.map((r) => [r.id, r.sla.guaranteeBps > 0 ? 'guarantee' : 'best-effort', fmt(r.sla.guaranteeBps || null), fmt(r.sla.maxBps), String(r.sla.weight), fmt(rates.get(r.id) ?? 0), fmt(r.demandBps), r.capBps === null ? 'none' : formatRate(r.capBps), fmt(r.sendsBps)]);
  for (const l of renderTable(header, lines)) console.log(l);
  return 0;
}
