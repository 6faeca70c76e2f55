/** `daqs experiment contention|adaptability|multi|churn`: the experiments, every policy side by side. */
import { defaultOutDir, runExperimentToDir } from '../../eval/experiment.ts';
import { POLICY_NAMES } from '../../eval/policies.ts';
import { createProgressPrinter } from '../../eval/progress.ts';
import type { ScenarioName } from '../../eval/result.ts';
import { estimateSeconds } from '../../eval/plan.ts';
import { defaultOptions, guaranteeVmCount, validateOptions, type ExperimentOptions } from '../../eval/scenarios.ts';
import { renderPhaseTable, renderSummaryTable, summaryJson } from '../../eval/table.ts';
import { formatRate } from '../../units/rate.ts';
import { defineCommand, UsageError, type CommandInput } from '../define.ts';
import { decimal, listOf, rateBps, wholeNumber } from '../values.ts';

const SCENARIO_HELP: Readonly<Record<ScenarioName, string>> = {
  contention: 'one Guarantee VM against one Best-Effort VM, one phase per guarantee (paper Fig. 3)',
  adaptability: 'one Guarantee VM while one more Best-Effort VM starts every phase (paper Fig. 4)',
  multi: 'three Guarantee VMs (5, 10, 15gbit; 1, 2, 3 threads) while Best-Effort VMs with 1, 4, 8 threads join one per phase',
  churn: '64 VMs: Best-Effort VMs start and stop at seeded random times, the Guarantee VMs (as multi) go off and on',
};

// A bare "10" is 10 bit/s in tc's language; nobody means that for a scenario's rates.
const paperRate = rateBps({ minBps: 1e6 });

function paperRates(text: string): number[] {
  return text.split(',').map((g) => paperRate(g.trim()));
}

const threadCount = wholeNumber(1, 64);

function threadCounts(text: string): number[] {
  return text.split(',').map((t) => threadCount(t.trim()));
}

/** Parsed command line: the experiment options plus where to write and how to print. */
export interface ExperimentArgs {
  readonly options: ExperimentOptions;
  readonly outDir: string | null;
  readonly json: boolean;
  readonly help: boolean;
}

const SPEC = {
  name: 'experiment',
  description: `Brings up an emulated host, runs each policy through the scenario one after the other
(baseline always first), takes the host down, and writes result.json, timeseries.csv and
figures (SVG, PNG) to the output directory. Rates of the scenario are in paper units
(a 40 Gbit/s port); the emulated port runs at --capacity, scale = 40gbit / capacity.
Options without a default below take the scenario's.`,
  args: [{ name: 'scenario', choices: SCENARIO_HELP }],
  options: {
    policies: { type: 'string', value: 'LIST', parse: listOf(POLICY_NAMES), help: `comma-separated, from ${POLICY_NAMES.join(',')} (default: all)` },
    capacity: { type: 'string', value: 'RATE', default: '2gbit', parse: paperRate, help: 'emulated port speed' },
    'phase-seconds': { type: 'string', value: 'S', parse: decimal(), help: 'length of each phase, warm-up included (default 10; churn 6: the longest gap between changes, each gap drawn from [S/2, S]); also how long each Guarantee VM sends alone for its D_G' },
    'warmup-seconds': { type: 'string', value: 'S', parse: decimal(), help: 'dropped at the start of each phase (default 2; churn 1)' },
    'reclaim-seconds': { type: 'string', value: 'S', parse: decimal(), help: 'after the last phase (contention: each), the Guarantee VMs stop; watch BE reclaim (default 3, 0 = off; churn judges reclaim at every Guarantee VM stop instead)' },
    'lead-seconds': { type: 'string', value: 'S', parse: decimal(), help: 'contention: G sends alone before the BE VM starts (default 1); churn: every VM idle before the first change (default 3)' },
    guarantees: { type: 'string', value: 'LIST', parse: paperRates, help: 'paper units, e.g. 10gbit,15gbit (contention default 10..30gbit, one phase each; adaptability 10gbit; multi and churn 5gbit,10gbit,15gbit, one Guarantee VM each)' },
    'g-demand': { type: 'string', value: 'RATE', parse: paperRate, help: 'each Guarantee VM\'s demand cap, paper units, iperf2 -b split over its threads (default 18.5gbit)' },
    'g-uncapped': { type: 'boolean', help: 'no demand cap on the Guarantee VMs (the variant that meets the higher guarantees)' },
    'g-threads': { type: 'string', value: 'LIST', parse: threadCounts, help: 'iperf2 threads of Guarantee VM k: LIST[k mod length] (default 1; multi and churn 1,2,3)' },
    'be-threads': { type: 'string', value: 'LIST', parse: threadCounts, help: 'threads of Best-Effort VM k, the same way (contention 5, adaptability 2, multi 1,4,8, churn 1,2,4)' },
    'be-vms': { type: 'string', value: 'N', parse: wholeNumber(1), help: 'Best-Effort VMs (contention 1, adaptability 7 and multi 3: phases = N + 1; churn 61)' },
    vms: { type: 'string', value: 'N', parse: wholeNumber(2), help: 'churn: all VMs, Guarantee VMs included (default 64); sets --be-vms' },
    changes: { type: 'string', value: 'N', parse: wholeNumber(1), help: 'churn: changes after the start (default 20)' },
    'max-senders': { type: 'string', value: 'N', parse: wholeNumber(2), help: 'churn: most VMs sending at once, Guarantee VMs included (default 10)' },
    seed: { type: 'string', value: 'N', parse: wholeNumber(0, 2 ** 32 - 1), help: 'churn: seed of the schedule (default 1); the same seed plays the same changes' },
    'period-ms': { type: 'string', value: 'MS', parse: wholeNumber(1), help: 'counter sampling period = tick (default 200)' },
    'real-guarantee': { type: 'boolean', help: 'the Guarantee VM (VM 0: G1 in multi and churn) is a real QEMU guest (TCG), the others namespaces' },
    'testbed-name': { type: 'string', value: 'NAME', help: 'emulated host instance name, up to 8 lowercase letters/digits (default ex<pid>)' },
    out: { type: 'string', value: 'DIR', help: 'output directory (default out/experiments/<scenario>-<timestamp>)' },
    json: { type: 'boolean', help: 'quiet: print only the summary JSON on stdout' },
  },
} as const;

/** Runs `daqs experiment`. Exit code 0 when the result is complete and consistent, 1 otherwise. */
export const run = defineCommand(SPEC, async (input) => runExperiment(toExperimentArgs(input)));

function toExperimentArgs({ values: v, args }: CommandInput<typeof SPEC.options>): ExperimentArgs {
  const d = defaultOptions(args[0] as ScenarioName);
  if (v['g-uncapped'] && v['g-demand'] !== undefined) throw new UsageError('--g-uncapped and --g-demand contradict each other; give one');
  if (v.vms !== undefined && v['be-vms'] !== undefined) throw new UsageError('--vms and --be-vms say the same thing twice; give one');
  if (v.vms !== undefined && d.scenario !== 'churn') throw new UsageError('--vms is for churn; the other scenarios take --be-vms');
  const guaranteesPaperBps = v.guarantees ?? d.guaranteesPaperBps;
  const gVms = guaranteeVmCount({ scenario: d.scenario, guaranteesPaperBps });
  if (v.vms !== undefined && v.vms <= gVms) throw new UsageError(`--vms: ${v.vms} leaves no Best-Effort VM beside ${gVms} Guarantee VMs; give more than ${gVms}`);
  const options: ExperimentOptions = {
    ...d,
    policies: v.policies ?? d.policies,
    capacityBps: v.capacity,
    phaseSeconds: v['phase-seconds'] ?? d.phaseSeconds,
    warmupSeconds: v['warmup-seconds'] ?? d.warmupSeconds,
    reclaimSeconds: v['reclaim-seconds'] ?? d.reclaimSeconds,
    leadSeconds: v['lead-seconds'] ?? d.leadSeconds,
    guaranteesPaperBps,
    gDemandCapPaperBps: v['g-uncapped'] ? null : v['g-demand'] ?? d.gDemandCapPaperBps,
    gThreads: v['g-threads'] ?? d.gThreads,
    beThreads: v['be-threads'] ?? d.beThreads,
    beVms: v.vms === undefined ? v['be-vms'] ?? d.beVms : v.vms - gVms,
    changes: v.changes ?? d.changes,
    maxSenders: v['max-senders'] ?? d.maxSenders,
    seed: v.seed ?? d.seed,
    periodMs: v['period-ms'] ?? d.periodMs,
    tickMs: v['period-ms'] ?? d.tickMs,
    testbedName: v['testbed-name'] ?? d.testbedName,
    ...(v['real-guarantee'] ? { realGuarantee: true } : {}),
  };
  try {
    validateOptions(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { options, outDir: v.out ?? null, json: v.json, help: false };
}

/** Parses `daqs experiment` arguments; throws UsageError naming the bad option. */
export function parseExperimentArgs(args: readonly string[]): ExperimentArgs {
  const input = run.parse(args);
  if (input === 'help') return { options: defaultOptions('contention'), outDir: null, json: false, help: true };
  return toExperimentArgs(input);
}

async function runExperiment(a: ExperimentArgs): Promise<number> {
  const o = a.options;
  const dir = a.outDir ?? defaultOutDir(o.scenario);
  const abort = new AbortController();
  let firstInterruptMs: number | null = null;
  const onSignal = (): void => {
    const nowMs = performance.now();
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
