/** `daqs experiment contention|adaptability`: the paper's experiments, every policy side by side. */
import { parseArgs } from 'node:util';
import { defaultOutDir, runExperimentToDir } from '../../eval/experiment.ts';
import { POLICY_NAMES, type PolicyName } from '../../eval/policies.ts';
import { createProgressPrinter } from '../../eval/progress.ts';
import { SCENARIOS, type ScenarioName } from '../../eval/result.ts';
import { defaultOptions, estimateSeconds, validateOptions, type ExperimentOptions } from '../../eval/scenarios.ts';
import { renderPhaseTable, renderSummaryTable, summaryJson } from '../../eval/table.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'run the paper\'s experiments (contention, adaptability) for every policy on an emulated host';

const USAGE = `usage: daqs experiment <contention|adaptability> [options]

Brings up an emulated host, runs each policy through the scenario one after the other
(baseline always first), takes the host down, and writes result.json, timeseries.csv and
figures (SVG, PNG) to the output directory. Rates of the scenario are in paper units
(a 40 Gbit/s port); the emulated port runs at --capacity, scale = 40gbit / capacity.

options:
  --policies LIST        comma-separated, from ${POLICY_NAMES.join(',')} (default: all)
  --capacity RATE        emulated port speed (default 2gbit)
  --phase-seconds S      length of each phase, warm-up included (default 10)
  --warmup-seconds S     dropped at the start of each phase (default 2)
  --reclaim-seconds S    after the last phase (contention: each), G stops; watch BE reclaim (default 3, 0 = off)
  --lead-seconds S       contention: G sends alone before the BE VM starts (default 1)
  --guarantees LIST      paper units, e.g. 10gbit,15gbit (contention default 10..30gbit; adaptability 10gbit)
  --g-demand RATE        Guarantee VM demand cap, paper units, iperf2 -b (default 18.5gbit)
  --g-uncapped           no demand cap on the Guarantee VM (the variant that meets the higher guarantees)
  --g-threads N          Guarantee VM iperf2 threads (default 1)
  --be-threads N         threads per Best-Effort VM (contention 5, adaptability 2)
  --be-vms N             Best-Effort VMs (contention 1, adaptability 7: phases = N + 1)
  --period-ms MS         counter sampling period = tick (default 200)
  --testbed-name NAME    emulated host instance name, ≤ 8 lowercase letters/digits (default ex<pid>)
  --out DIR              output directory (default out/experiments/<scenario>-<timestamp>)
  --json                 quiet: print only the summary JSON on stdout
  -h, --help`;

const OPTIONS = {
  policies: { type: 'string' },
  capacity: { type: 'string' },
  'phase-seconds': { type: 'string' },
  'warmup-seconds': { type: 'string' },
  'reclaim-seconds': { type: 'string' },
  'lead-seconds': { type: 'string' },
  guarantees: { type: 'string' },
  'g-demand': { type: 'string' },
  'g-uncapped': { type: 'boolean' },
  'g-threads': { type: 'string' },
  'be-threads': { type: 'string' },
  'be-vms': { type: 'string' },
  'period-ms': { type: 'string' },
  'testbed-name': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parsed command line: the experiment options plus where to write and how to print. */
export interface ExperimentArgs {
  readonly options: ExperimentOptions;
  readonly outDir: string | null;
  readonly json: boolean;
  readonly help: boolean;
}

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function rate(name: string, v: string): number {
  let bps: number;
  try {
    bps = parseRateBps(v);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
  // A bare "10" is 10 bit/s in tc's language; nobody means that here.
  if (bps < 1e6) throw new UsageError(`--${name}: ${JSON.stringify(v)} is ${bps} bit/s; give a unit, e.g. 10gbit`);
  return bps;
}

/** Parses `daqs experiment` arguments; throws UsageError naming the bad option. */
export function parseExperimentArgs(args: readonly string[]): ExperimentArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return { options: defaultOptions('contention'), outDir: null, json: false, help: true };
  const [scenario, ...extra] = positionals;
  if (!scenario || !(SCENARIOS as readonly string[]).includes(scenario) || extra.length > 0) {
    throw new UsageError(`name one scenario: ${SCENARIOS.join(' or ')}${scenario ? ` (got ${positionals.join(' ')})` : ''}\n${USAGE}`);
  }
  const d = defaultOptions(scenario as ScenarioName);
  let policies: PolicyName[] = [...d.policies];
  if (v.policies !== undefined) {
    const names = v.policies.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(POLICY_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) throw new UsageError(`--policies: unknown ${unknown.join(', ')}; choose from ${POLICY_NAMES.join(', ')}`);
    policies = names as PolicyName[];
  }
  if (v['g-uncapped'] && v['g-demand'] !== undefined) throw new UsageError('--g-uncapped and --g-demand contradict each other; give one');
  const options: ExperimentOptions = {
    ...d,
    policies,
    capacityBps: v.capacity === undefined ? d.capacityBps : rate('capacity', v.capacity),
    phaseSeconds: num('phase-seconds', v['phase-seconds'], d.phaseSeconds),
    warmupSeconds: num('warmup-seconds', v['warmup-seconds'], d.warmupSeconds),
    reclaimSeconds: num('reclaim-seconds', v['reclaim-seconds'], d.reclaimSeconds),
    leadSeconds: num('lead-seconds', v['lead-seconds'], d.leadSeconds),
    guaranteesPaperBps: v.guarantees === undefined ? d.guaranteesPaperBps : v.guarantees.split(',').map((g) => rate('guarantees', g.trim())),
    gDemandCapPaperBps: v['g-uncapped'] ? null : v['g-demand'] === undefined ? d.gDemandCapPaperBps : rate('g-demand', v['g-demand']),
    gThreads: num('g-threads', v['g-threads'], d.gThreads),
    beThreads: num('be-threads', v['be-threads'], d.beThreads),
    beVms: num('be-vms', v['be-vms'], d.beVms),
    periodMs: num('period-ms', v['period-ms'], d.periodMs),
    tickMs: num('period-ms', v['period-ms'], d.tickMs),
    testbedName: v['testbed-name'] ?? d.testbedName,
  };
  try {
    validateOptions(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { options, outDir: v.out ?? null, json: v.json === true, help: false };
}

/** Runs `daqs experiment`. Exit code 0 when the result is complete and consistent, 1 otherwise. */
export async function run(args: string[]): Promise<number> {
  const a = parseExperimentArgs(args);
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const o = a.options;
  const dir = a.outDir ?? defaultOutDir(o.scenario);
  const abort = new AbortController();
  let firstInterruptMs: number | null = null;
  const onSignal = (): void => {
    const nowMs = Date.now();
    // First Ctrl-C: stop cleanly (host taken down). A second one a moment later: the user
    // insists. Repeats within a second are the same keypress reaching us twice (a wrapper
    // such as `timeout` or npm forwarding the signal to its process group), not insistence.
    if (firstInterruptMs !== null) {
      if (nowMs - firstInterruptMs > 1000) process.exit(130);
      return;
    }
    firstInterruptMs = nowMs;
    console.error('\ninterrupted: stopping traffic and taking the emulated host down (Ctrl-C again to force)...');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = a.json ? null : createProgressPrinter(process.stderr);
  try {
    if (!a.json) {
      console.error(`daqs experiment ${o.scenario}: policies ${o.policies.join(', ')}; port ${formatRate(o.capacityBps)} = 40gbit paper (×${40e9 / o.capacityBps}); ` +
        `about ${Math.ceil(estimateSeconds(o) / 60)} min; writing to ${dir}`);
    }
    const out = await runExperimentToDir(o, dir, { signal: abort.signal, ...(progress ? { onProgress: (e) => progress.update(e) } : {}) });
    progress?.done();
    const files = { dir, json: out.json, csv: out.csv, svg: out.figures.svg, png: out.figures.png };
    if (a.json) {
      console.log(JSON.stringify({ ...summaryJson(out.result, files), problems: out.problems }, null, 2));
    } else {
      console.log(renderSummaryTable(out.result));
      console.log('');
      console.log(renderPhaseTable(out.result));
      console.log('');
      console.log(`wrote ${[out.json, out.csv, ...out.figures.svg, ...out.figures.png].join(', ')}`);
      if (out.figures.pngError) console.error(`PNG figures not written: ${out.figures.pngError.code}: ${out.figures.pngError.message}`);
      if (out.problems.length > 0) console.error(`result is incomplete:\n  - ${out.problems.join('\n  - ')}`);
    }
    return out.problems.length === 0 ? 0 : 1;
  } finally {
    progress?.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
