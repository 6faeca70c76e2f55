/**
 * Runs one experiment end to end on its own emulated host: measure the Guarantee VM's demand
 * alone, run every policy through the scenario's phases one after the other while sampling the
 * switch-side counters, take the host down (also on error or abort), then judge the recordings.
 */
import { hostname, cpus, release, totalmem } from 'node:os';
import { testbedUp as realTestbedUp, type Testbed, type TestbedOptions } from '../testbed/index.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { analyzeRecording, demandsOf, judgePhases, seriesOf, type PhaseStats, type PolicyRecording } from './analyze.ts';
import { MeasureError, summarize } from './measures.ts';
import { planPhases, planSessions, SETTLE_MS, vmSpecsOf, type VmSpec } from './plan.ts';
import { policyByName, type ControlledPolicy, type PolicyName } from './policies.ts';
import { RESULT_SCHEMA, type ExperimentResult, type PolicyResult, type PolicySeries } from './result.ts';
import { testbedCounterSource, type NowMs } from './sampler.ts';
import { Recorder, recordDemand, resetHost, runPlan, type Ctx, type ProgressEvent } from './steps.ts';
import { PAPER_CAPACITY_BPS, scaleOf, validateOptions, type ExperimentOptions } from './scenarios.ts';

export type { ProgressEvent } from './steps.ts';

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
  /** Pause after each policy session (contention: each guarantee); default SETTLE_MS. */
  readonly settleMs?: number;
}


/** Baseline first (everything is judged against it), then the others in the order given. */
export function runOrder(policies: readonly PolicyName[]): PolicyName[] {
  return ['baseline', ...policies.filter((p) => p !== 'baseline')];
}

function machineInfo(): ExperimentResult['machine'] {
  const c = cpus();
  return { hostname: hostname(), kernel: release(), cpus: Math.max(1, c.length), cpuModel: c[0]?.model ?? 'unknown', node: process.version, memBytes: totalmem() };
}

function parametersOf(o: ExperimentOptions, scale: number, vms: readonly VmSpec[]): Record<string, unknown> {
  return {
    ...o,
    paperCapacityBps: PAPER_CAPACITY_BPS,
    guaranteesBps: o.guaranteesPaperBps.map((g) => g / scale),
    gDemandCapBps: o.gDemandCapPaperBps === null ? null : o.gDemandCapPaperBps / scale,
    // Every VM as it sent: role, iperf2 threads, demand cap (paper units).
    vms,
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
  const vms = vmSpecsOf(o);
  const tb = await up({ name: o.testbedName, vms: vms.length, capacityBps: o.capacityBps, ...(o.realGuarantee ? { real: 1 } : {}) });
  const c: Ctx = { o: { ...o, policies: order }, tb, vms, sessions: planSessions(o), counters: testbedCounterSource(tb), scale, now, signal: deps.signal, onProgress: deps.onProgress, settleMs: deps.settleMs ?? SETTLE_MS };
  const recordings = new Map<PolicyName, PolicyRecording>();
  const errors = new Map<PolicyName, { code: string; message: string }>();
  let demandRec: PolicyRecording;
  try {
    await resetHost(tb);
    demandRec = await recordDemand(c);
    for (const [i, name] of order.entries()) {
      const rec = new Recorder(c, name, i, order.length);
      try {
        await runPlan(c, policyFor(name), rec);
        recordings.set(name, await rec.finish());
      } catch (e) {
        if (deps.signal?.aborted) throw new ExperimentAbortedError();
        errors.set(name, errorOf(e));
        log.error({ op: 'experiment', policy: name, err: e }, 'policy run failed; continuing with the next');
        // Keep the phases measured before the failure: the result stays marked incomplete,
        // but its figures and numbers show how far the policy got and what it did.
        const partial = await rec.finish().catch(() => null);
        if (partial && partial.phases.length > 0) recordings.set(name, partial);
        await resetHost(tb).catch((re: unknown) => log.error({ op: 'experiment', err: re }, 'reset after failure failed'));
      } finally {
        await rec.abandon();
      }
    }
  } catch (e) {
    if (deps.signal?.aborted) throw new ExperimentAbortedError();
    throw e;
  } finally {
    await tb.stopAllTraffic().catch(() => undefined);
    await tb.down();
  }
  return assemble(c, startedAt, demandRec, order, recordings, errors);
}

function assemble(c: Ctx, startedAt: string, demandRec: PolicyRecording, order: readonly PolicyName[], recordings: Map<PolicyName, PolicyRecording>, errors: Map<PolicyName, { code: string; message: string }>): ExperimentResult {
  const { o, scale, vms } = c;
  const vmCount = vms.length;
  const timing = { periodMs: o.periodMs, tickMs: o.tickMs };
  const actx = { guaranteeVms: vms.filter((v) => v.role === 'guarantee').map((v) => v.index), vmCount, warmupMs: o.warmupSeconds * 1000, timing };
  const demands = demandsOf(analyzeRecording(demandRec, actx));
  const demandOf = (vmIndex: number): number => {
    const d = demands.get(vmIndex);
    if (d === undefined) throw new MeasureError(`no demand measured for VM ${vmIndex}`);
    return d;
  };
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
      const phases = judgePhases(analyzeRecording(rec, actx), demandOf, baselineOf, scale, timing);
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
    parameters: parametersOf(o, scale, vms),
    scale: { factor: scale, paperCapacityBps: PAPER_CAPACITY_BPS, emulatedCapacityBps: o.capacityBps },
    machine: machineInfo(),
    phases: planPhases(o).map((p) => ({ index: p.index, label: p.label })),
    policies,
    series: {
      periodMs: o.periodMs,
      tickMs: o.tickMs,
      vms: vms.map((v) => ({ index: v.index, role: v.role, label: v.label })),
      policies: series,
    },
  };
}
