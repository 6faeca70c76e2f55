/**
 * Runs one experiment end to end on its own emulated host: measure the Guarantee VM's demand
 * alone, run every policy through the scenario's phases one after the other while sampling the
 * switch-side counters, take the host down (also on error or abort), then judge the recordings.
 */
import { hostname, cpus, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { testbedUp as realTestbedUp, type Testbed, type TestbedOptions, type TrafficOptions } from '../testbed/index.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { analyzeRecording, judgePhases, seriesOf, type PhaseStats, type PhaseWindow, type PolicyRecording, type RawSample, type TailWindow } from './analyze.ts';
import { summarize } from './measures.ts';
import { policyByName, type ControlledPolicy, type ExperimentSla, type PolicyName } from './policies.ts';
import { RESULT_SCHEMA, type ExperimentResult, type PolicyResult, type PolicySeries } from './result.ts';
import { openFastCounters, type ClosableCounterSource } from './fast-counters.ts';
import { startSampler, testbedCounterSource, type CounterSource, type NowMs } from './sampler.ts';
import { PAPER_CAPACITY_BPS, planPhases, scaleOf, validateOptions, vmCountOf, type ExperimentOptions, type PlannedPhase } from './scenarios.ts';

/** What the progress display shows after every sample. */
export interface ProgressEvent {
  readonly policy: string;
  /** "D_G alone", "phase 10 Gbit/s", "reclaim", ... */
  readonly step: string;
  readonly stepElapsedS: number;
  /** Latest per-VM rates, emulated bits/s (VM 0 is the Guarantee VM). */
  readonly ratesBps: readonly number[];
  readonly scale: number;
  /** Policies done / to run, for an overall position. */
  readonly policyIndex: number;
  readonly policyCount: number;
}

/** Error for a run stopped by Ctrl-C or a caller's AbortSignal; the host is already down. */
export class ExperimentAbortedError extends Error {
  readonly code = 'E_ABORTED';
  constructor() {
    super('experiment aborted; the emulated host was taken down');
    this.name = 'ExperimentAbortedError';
  }
}

/** Side effects the runner uses, replaceable in tests. */
export interface RunnerDeps {
  readonly testbedUp?: (opts: TestbedOptions) => Promise<Testbed>;
  readonly policyFor?: (name: PolicyName) => ControlledPolicy;
  readonly onProgress?: (e: ProgressEvent) => void;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  readonly now?: NowMs;
  /** Opens the fast counter path (default: /proc of the switch namespace); a rejection falls back to the testbed's reader. */
  readonly openCounters?: (tb: Testbed) => Promise<ClosableCounterSource>;
  /** Pause between policy runs and contention phases; default SETTLE_MS. */
  readonly settleMs?: number;
}

// Pause between policy runs and contention phases so queues drain and rates fall to zero.
const SETTLE_MS = 1000;

interface Ctx {
  readonly o: ExperimentOptions;
  readonly tb: Testbed;
  /** Where samples come from: the fast /proc path, or the testbed's own reader. */
  readonly counters: CounterSource;
  readonly scale: number;
  readonly deps: RunnerDeps;
  readonly now: NowMs;
  readonly signal: AbortSignal | undefined;
}

function gTraffic(c: Ctx): TrafficOptions {
  const cap = c.o.gDemandCapPaperBps;
  // iperf2 -b is per thread: the demand cap is split over the Guarantee VM's threads.
  return cap === null ? { threads: c.o.gThreads } : { threads: c.o.gThreads, perThreadRateBps: cap / c.scale / c.o.gThreads };
}

function beTraffic(c: Ctx): TrafficOptions {
  return { threads: c.o.beThreads };
}

/** Puts the host back to "no policy": no traffic, no VF limits, the plain port. */
async function resetHost(tb: Testbed): Promise<void> {
  await tb.stopAllTraffic();
  await tb.setPortScheduler(null);
  for (const vm of tb.vms) await tb.setVfLimit(vm.index, null);
}

class Recorder {
  readonly phases: PhaseWindow[] = [];
  readonly tails: TailWindow[] = [];
  step = 'starting';
  private stepStartMs: number;
  private readonly sampler;

  constructor(private readonly c: Ctx, private readonly policy: string, policyIndex: number, policyCount: number) {
    this.stepStartMs = c.now();
    this.sampler = startSampler(c.counters, c.o.periodMs, (s, all) => {
      const prev = all[all.length - 2];
      if (!prev || !c.deps.onProgress) return;
      const dtMs = s.atMs - prev.atMs;
      const ratesBps = s.counters.map((b, i) => (dtMs > 0 ? (Number(b - (prev.counters[i] ?? b)) * 8000) / dtMs : 0));
      c.deps.onProgress({ policy: this.policy, step: this.step, stepElapsedS: (c.now() - this.stepStartMs) / 1000, ratesBps, scale: c.scale, policyIndex, policyCount });
    }, c.now);
  }

  setStep(step: string): void {
    this.step = step;
    this.stepStartMs = this.c.now();
  }

  async finish(): Promise<PolicyRecording> {
    await this.sampler.stop();
    return { samples: [...this.sampler.samples] as RawSample[], phases: this.phases, tails: this.tails };
  }

  async abandon(): Promise<void> {
    await this.sampler.stop().catch(() => undefined);
  }
}

function slasFor(c: Ctx, p: PlannedPhase): ExperimentSla[] {
  return [{ vmIndex: 0, guaranteeBps: p.guaranteePaperBps / c.scale }];
}

async function wait(c: Ctx, ms: number): Promise<void> {
  await sleep(ms, undefined, c.signal ? { signal: c.signal } : {});
}

/** Measures what the Guarantee VM sends alone with no policy (D_G). */
async function recordDemand(c: Ctx): Promise<PolicyRecording> {
  const rec = new Recorder(c, 'calibration', 0, c.o.policies.length);
  try {
    rec.setStep('D_G: Guarantee VM alone');
    await c.tb.startTraffic(0, gTraffic(c));
    const startMs = c.now();
    await wait(c, c.o.phaseSeconds * 1000);
    rec.phases.push({ index: 0, label: 'D_G', startMs, endMs: c.now(), guaranteeBps: 1, activeBeVms: 0, reaction: false });
    await c.tb.stopAllTraffic();
    return await rec.finish();
  } finally {
    await rec.abandon();
    await c.tb.stopAllTraffic();
  }
}

async function runContention(c: Ctx, policy: ControlledPolicy, rec: Recorder): Promise<void> {
  for (const p of planPhases(c.o)) {
    rec.setStep(`${p.label}: starting policy`);
    const running = await policy.start(c.tb, slasFor(c, p));
    try {
      rec.setStep(`${p.label}: G alone`);
      const g = await c.tb.startTraffic(0, gTraffic(c));
      await wait(c, c.o.leadSeconds * 1000);
      for (let vm = 1; vm <= p.activeBeVms; vm++) await c.tb.startTraffic(vm, beTraffic(c));
      const startMs = c.now();
      rec.setStep(`guarantee ${p.label}`);
      // A phase lasts phase-seconds; its first warmup-seconds are dropped by the analysis.
      await wait(c, c.o.phaseSeconds * 1000);
      rec.phases.push({ index: p.index, label: p.label, startMs, endMs: c.now(), guaranteeBps: p.guaranteePaperBps / c.scale, activeBeVms: p.activeBeVms, reaction: true });
      if (c.o.reclaimSeconds > 0) {
        await g.stop();
        const tailStart = c.now();
        rec.setStep(`${p.label}: G stopped, reclaim`);
        await wait(c, c.o.reclaimSeconds * 1000);
        rec.tails.push({ phaseIndex: p.index, startMs: tailStart, endMs: c.now() });
      }
    } finally {
      await c.tb.stopAllTraffic();
      await running.stop();
    }
    rec.setStep('settling');
    await wait(c, c.deps.settleMs ?? SETTLE_MS);
  }
}

async function runAdaptability(c: Ctx, policy: ControlledPolicy, rec: Recorder): Promise<void> {
  const phases = planPhases(c.o);
  const first = phases[0] as PlannedPhase;
  const running = await policy.start(c.tb, slasFor(c, first));
  try {
    const g = await c.tb.startTraffic(0, gTraffic(c));
    for (const p of phases) {
      // Phase n: the n-th Best-Effort VM starts sending (VM index n); earlier ones keep going.
      if (p.activeBeVms > 0) await c.tb.startTraffic(p.activeBeVms, beTraffic(c));
      const startMs = c.now();
      rec.setStep(p.label);
      await wait(c, c.o.phaseSeconds * 1000);
      rec.phases.push({ index: p.index, label: p.label, startMs, endMs: c.now(), guaranteeBps: p.guaranteePaperBps / c.scale, activeBeVms: p.activeBeVms, reaction: p.activeBeVms > 0 });
    }
    if (c.o.reclaimSeconds > 0) {
      await g.stop();
      const tailStart = c.now();
      rec.setStep('G stopped, reclaim');
      await wait(c, c.o.reclaimSeconds * 1000);
      rec.tails.push({ phaseIndex: (phases[phases.length - 1] as PlannedPhase).index, startMs: tailStart, endMs: c.now() });
    }
  } finally {
    await c.tb.stopAllTraffic();
    await running.stop();
  }
  rec.setStep('settling');
  await wait(c, c.deps.settleMs ?? SETTLE_MS);
}

/** Baseline first (everything is judged against it), then the others in the order given. */
export function runOrder(policies: readonly PolicyName[]): PolicyName[] {
  return ['baseline', ...policies.filter((p) => p !== 'baseline')];
}

function machineInfo(): ExperimentResult['machine'] {
  const c = cpus();
  return { hostname: hostname(), kernel: release(), cpus: Math.max(1, c.length), cpuModel: c[0]?.model ?? 'unknown', node: process.version, memBytes: totalmem() };
}

function parametersOf(o: ExperimentOptions, scale: number): Record<string, unknown> {
  return {
    ...o,
    paperCapacityBps: PAPER_CAPACITY_BPS,
    guaranteesBps: o.guaranteesPaperBps.map((g) => g / scale),
    gDemandCapBps: o.gDemandCapPaperBps === null ? null : o.gDemandCapPaperBps / scale,
  };
}

function errorOf(e: unknown): { code: string; message: string } {
  const err = e as Error & { code?: unknown };
  return { code: typeof err.code === 'string' ? err.code : 'E_UNEXPECTED', message: err.message ?? String(e) };
}

/** Runs the experiment and returns its result; the emulated host is always taken down. */
export async function runExperiment(o: ExperimentOptions, deps: RunnerDeps = {}): Promise<ExperimentResult> {
  validateOptions(o);
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => performance.now());
  const scale = scaleOf(o);
  const order = runOrder(o.policies);
  const startedAt = new Date().toISOString();
  const up = deps.testbedUp ?? ((opts: TestbedOptions) => realTestbedUp(opts, { log }));
  const policyFor = deps.policyFor ?? policyByName;
  const tb = await up({ name: o.testbedName, vms: vmCountOf(o), capacityBps: o.capacityBps });
  let fast: ClosableCounterSource | null = null;
  let counterSource = 'proc-net-dev';
  try {
    fast = await (deps.openCounters ?? openFastCounters)(tb);
  } catch (e) {
    // Still correct, only coarser in time: say so in the log and in the result.
    counterSource = 'ip-link';
    log.warn({ op: 'experiment', err: e }, 'fast counter path unavailable; sampling with the testbed reader');
  }
  const c: Ctx = { o: { ...o, policies: order }, tb, counters: fast ?? testbedCounterSource(tb), scale, deps, now, signal: deps.signal };
  const recordings = new Map<PolicyName, PolicyRecording>();
  const errors = new Map<PolicyName, { code: string; message: string }>();
  let demandRec: PolicyRecording;
  try {
    await resetHost(tb);
    demandRec = await recordDemand(c);
    for (const [i, name] of order.entries()) {
      const rec = new Recorder(c, name, i, order.length);
      try {
        const policy = policyFor(name);
        if (o.scenario === 'contention') await runContention(c, policy, rec);
        else await runAdaptability(c, policy, rec);
        recordings.set(name, await rec.finish());
      } catch (e) {
        if (deps.signal?.aborted) throw new ExperimentAbortedError();
        errors.set(name, errorOf(e));
        log.error({ op: 'experiment', policy: name, err: e }, 'policy run failed; continuing with the next');
        await resetHost(tb).catch((re: unknown) => log.error({ op: 'experiment', err: re }, 'reset after failure failed'));
      } finally {
        await rec.abandon();
      }
    }
  } catch (e) {
    if (deps.signal?.aborted) throw new ExperimentAbortedError();
    throw e;
  } finally {
    await fast?.close().catch(() => undefined);
    await tb.stopAllTraffic().catch(() => undefined);
    await tb.down();
  }
  return assemble(c, startedAt, demandRec, order, recordings, errors, counterSource);
}

function assemble(c: Ctx, startedAt: string, demandRec: PolicyRecording, order: readonly PolicyName[], recordings: Map<PolicyName, PolicyRecording>, errors: Map<PolicyName, { code: string; message: string }>, counterSource: string): ExperimentResult {
  const { o, scale } = c;
  const vmCount = vmCountOf(o);
  const timing = { periodMs: o.periodMs, tickMs: o.tickMs };
  const actx = { guaranteeVms: [0], vmCount, warmupMs: o.warmupSeconds * 1000, timing };
  const demandBps = (analyzeRecording(demandRec, actx)[0] as { gBps: number }).gBps;
  const baselineRec = recordings.get('baseline');
  const baselineStats = baselineRec ? analyzeRecording(baselineRec, actx) : null;
  const baselineOf = (phaseIndex: number): PhaseStats => {
    const s = baselineStats?.find((p) => p.window.index === phaseIndex);
    if (!s) throw Object.assign(new Error(`no baseline measurement for phase ${phaseIndex}: the baseline run failed (${errors.get('baseline')?.message ?? 'unknown'})`), { code: 'E_NO_BASELINE' });
    return s;
  };
  const series: Record<string, PolicySeries> = {};
  const policies: PolicyResult[] = order.map((name) => {
    const rec = recordings.get(name);
    const err = errors.get(name) ?? null;
    if (!rec) return { name, phases: [], summary: null, error: err ?? { code: 'E_NOT_RUN', message: 'policy did not run' } };
    series[name] = seriesOf(rec, vmCount);
    try {
      const phases = judgePhases(analyzeRecording(rec, actx), demandBps, baselineOf, scale, timing);
      return { name, phases, summary: summarize(phases), error: err };
    } catch (e) {
      return { name, phases: [], summary: null, error: errorOf(e) };
    }
  });
  return {
    schema: RESULT_SCHEMA,
    scenario: o.scenario,
    startedAt,
    finishedAt: new Date().toISOString(),
    parameters: { ...parametersOf(o, scale), counterSource },
    scale: { factor: scale, paperCapacityBps: PAPER_CAPACITY_BPS, emulatedCapacityBps: o.capacityBps },
    machine: machineInfo(),
    phases: planPhases(o).map((p) => ({ index: p.index, label: p.label })),
    policies,
    series: {
      periodMs: o.periodMs,
      tickMs: o.tickMs,
      vms: Array.from({ length: vmCount }, (_, i) => ({ index: i, role: i === 0 ? 'guarantee' as const : 'best-effort' as const, label: i === 0 ? 'G' : `BE${i}` })),
      policies: series,
    },
  };
}
