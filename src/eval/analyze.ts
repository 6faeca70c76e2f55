/**
 * Turns what the runner recorded (switch-side counter samples and when each phase started and
 * ended) into per-phase measures and the time series. Pure: tested with synthetic recordings.
 */
import {
  attainment,
  mean,
  MeasureError,
  phaseMean,
  ratesFromSamples,
  reactionTime,
  reclaimTime,
  slowestEvent,
  stabilityCoV,
  steadyState,
  utilization,
  type Timing,
} from './measures.ts';
import { throughput, type GuaranteeVmResult, type PhaseResult, type PolicySeries } from './result.ts';

/** One reading of every VF counter (index = VM index) at a monotonic time. */
export interface RawSample {
  readonly atMs: number;
  readonly counters: readonly bigint[];
  /** Bytes the port delivered (uplink TX): the emulated port drops what its queue cannot hold, the VF counters still count it. */
  readonly portBytes: bigint;
}

/** A Guarantee VM sending through a phase, with its guarantee in emulated bits/s. */
export interface WindowSla {
  readonly vmIndex: number;
  readonly guaranteeBps: number;
}

/** A measured phase as it happened. */
export interface PhaseWindow {
  readonly index: number;
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Guarantee VMs sending through the phase. */
  readonly gVms: readonly WindowSla[];
  readonly activeBeVms: number;
  /** Guarantee VMs whose reaction is measured from startMs (something started sending there). */
  readonly reactionVms: readonly number[];
}

/** A Guarantee VM stopped at startMs: watch the Best-Effort VMs reclaim until endMs; `gVms` still send. */
export interface TailWindow {
  readonly phaseIndex: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly gVms: readonly number[];
}

/** Everything recorded while one policy ran. */
export interface PolicyRecording {
  readonly samples: readonly RawSample[];
  readonly phases: readonly PhaseWindow[];
  readonly tails: readonly TailWindow[];
}

/** Which VMs are Guarantee VMs (sending or not), and how the series were sampled. */
export interface AnalysisContext {
  readonly guaranteeVms: readonly number[];
  readonly vmCount: number;
  readonly warmupMs: number;
  readonly timing: Timing;
}

/** One sending Guarantee VM's raw numbers in a phase. */
export interface GuaranteeVmStats {
  readonly vmIndex: number;
  readonly guaranteeBps: number;
  readonly gBps: number;
  readonly gCoV: number;
  /** Its rate per sample over the whole phase, warm-up included (reaction is measured on it). */
  readonly series: readonly number[];
  readonly reaction: boolean;
}

/** A phase's raw numbers before it is judged against the demands and the baseline. */
export interface PhaseStats {
  readonly window: PhaseWindow;
  /** Every Guarantee VM together. */
  readonly gBps: number;
  readonly beBps: number;
  readonly totalBps: number;
  /** What the port delivered (all VMs together). */
  readonly deliveredBps: number;
  readonly samples: number;
  readonly gVms: readonly GuaranteeVmStats[];
  /** What BE got through the port per sample after a Guarantee VM stopped, for the reclaim time. */
  readonly tailBe?: readonly number[];
  /** What the Guarantee VMs still sending took meanwhile (mean over the reclaim window). */
  readonly tailGRestBps?: number;
}

/** Per-VM rate series (rates[vm][interval]) and each interval's midpoint and end. */
export interface Intervals {
  readonly rates: number[][];
  readonly portRates: number[];
  readonly midMs: number[];
  readonly endMs: number[];
}

/** Rates of every VM between consecutive samples. */
export function intervalsOf(samples: readonly RawSample[], vmCount: number): Intervals {
  const rates = Array.from({ length: vmCount }, (_, v) =>
    ratesFromSamples(samples.map((s) => {
      const txBytes = s.counters[v];
      if (txBytes === undefined) throw new MeasureError(`a sample at ${s.atMs} ms has ${s.counters.length} counters, expected ${vmCount}`);
      return { txBytes, atMs: s.atMs };
    })));
  const portRates = ratesFromSamples(samples.map((s) => ({ txBytes: s.portBytes, atMs: s.atMs })));
  const midMs: number[] = [];
  const endMs: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = (samples[i - 1] as RawSample).atMs;
    const b = (samples[i] as RawSample).atMs;
    midMs.push((a + b) / 2);
    endMs.push(b);
  }
  return { rates, portRates, midMs, endMs };
}

// Intervals belong to a window by their midpoint, so each interval counts exactly once.
function indicesIn(iv: Intervals, startMs: number, endMs: number): number[] {
  const out: number[] = [];
  iv.midMs.forEach((m, i) => {
    if (m >= startMs && m < endMs) out.push(i);
  });
  return out;
}

function sumAt(iv: Intervals, vms: readonly number[], idx: readonly number[]): number[] {
  return idx.map((i) => vms.reduce((acc, v) => acc + (iv.rates[v]?.[i] ?? 0), 0));
}

/**
 * What the Best-Effort VMs got through the port per sample: the port's output minus G's
 * (after G stops, G is ~0 and this is the port's output).
 */
function beDeliveredIn(iv: Intervals, gVms: readonly number[], idx: readonly number[]): number[] {
  const g = sumAt(iv, gVms, idx);
  return idx.map((i, k) => Math.max(0, (iv.portRates[i] ?? 0) - (g[k] ?? 0)));
}

/** Measures every phase of a recording: means after warm-up, per Guarantee VM CoV and series, reclaim series. */
export function analyzeRecording(rec: PolicyRecording, ctx: AnalysisContext): PhaseStats[] {
  const iv = intervalsOf(rec.samples, ctx.vmCount);
  const gVms = ctx.guaranteeVms;
  const beVms = Array.from({ length: ctx.vmCount }, (_, i) => i).filter((i) => !gVms.includes(i));
  return rec.phases.map((w) => {
    const idx = indicesIn(iv, w.startMs, w.endMs);
    if (idx.length === 0) throw new MeasureError(`phase ${w.index} (${w.label}) has no samples: is the sampling period longer than the phase?`);
    const warmup = idx.filter((i) => (iv.midMs[i] as number) < w.startMs + ctx.warmupMs).length;
    const g = sumAt(iv, gVms, idx);
    const be = sumAt(iv, beVms, idx);
    const gBps = phaseMean(g, warmup);
    const beBps = phaseMean(be, warmup);
    const tail = rec.tails.find((t) => t.phaseIndex === w.index);
    const tailIdx = tail ? indicesIn(iv, tail.startMs, tail.endMs) : [];
    return {
      window: w,
      gBps,
      beBps,
      totalBps: gBps + beBps,
      deliveredBps: phaseMean(idx.map((i) => iv.portRates[i] ?? 0), warmup),
      samples: steadyState(g, warmup).length,
      gVms: w.gVms.map((s) => {
        const series = sumAt(iv, [s.vmIndex], idx);
        return { vmIndex: s.vmIndex, guaranteeBps: s.guaranteeBps, gBps: phaseMean(series, warmup), gCoV: stabilityCoV(series, warmup), series, reaction: w.reactionVms.includes(s.vmIndex) };
      }),
      ...(tail ? { tailBe: beDeliveredIn(iv, gVms, tailIdx), tailGRestBps: tailIdx.length === 0 ? 0 : mean(sumAt(iv, tail.gVms, tailIdx)) } : {}),
    };
  });
}

/** D_G of each Guarantee VM: its mean in the calibration phase where it sent alone. */
export function demandsOf(stats: readonly PhaseStats[]): Map<number, number> {
  return new Map(stats.flatMap((s) => s.gVms.map((v) => [v.vmIndex, v.gBps] as const)));
}

/**
 * Judges phase stats against each Guarantee VM's demand alone and the baseline's totals:
 * attainment and reaction per Guarantee VM against min(its guarantee, its D_G), the phase's
 * worst of them, utilization, and reclaim against the baseline total minus what the Guarantee
 * VMs still sending took.
 */
export function judgePhases(stats: readonly PhaseStats[], demandOf: (vmIndex: number) => number, baselineOf: (phaseIndex: number) => PhaseStats, scale: number, timing: Timing): PhaseResult[] {
  return stats.map((s) => {
    const w = s.window;
    const baseline = baselineOf(w.index);
    const base = baseline.totalBps;
    const gVms: GuaranteeVmResult[] = s.gVms.map((v) => {
      const demandBps = demandOf(v.vmIndex);
      const reaction = v.reaction ? reactionTime(v.series, 0, v.guaranteeBps, demandBps, timing) : undefined;
      return {
        vmIndex: v.vmIndex,
        guarantee: throughput(v.guaranteeBps, scale),
        gDemand: throughput(demandBps, scale),
        g: throughput(v.gBps, scale),
        attainment: attainment(v.gBps, v.guaranteeBps, demandBps),
        gCoV: v.gCoV,
        ...(reaction ? { reaction } : {}),
      };
    });
    const reaction = slowestEvent(gVms.flatMap((v) => (v.reaction ? [v.reaction] : [])));
    // Delivered against delivered: the VF counters of a baseline with many flows also count
    // what the port dropped (~10% here), a bar no policy that avoids drops could reach.
    const reclaim = s.tailBe ? reclaimTime(s.tailBe, 0, baseline.deliveredBps, s.tailGRestBps ?? 0, timing) : undefined;
    const sum = (f: (v: GuaranteeVmResult) => number): number => gVms.reduce((a, v) => a + f(v), 0);
    return {
      index: w.index,
      label: w.label,
      activeBeVms: w.activeBeVms,
      gVms,
      guarantee: throughput(sum((v) => v.guarantee.emulatedBps), scale),
      gDemand: throughput(sum((v) => v.gDemand.emulatedBps), scale),
      g: throughput(s.gBps, scale),
      be: throughput(s.beBps, scale),
      total: throughput(s.totalBps, scale),
      baselineTotal: throughput(base, scale),
      delivered: throughput(s.deliveredBps, scale),
      baselineDelivered: throughput(baseline.deliveredBps, scale),
      attainment: gVms.length === 0 ? null : Math.min(...gVms.map((v) => v.attainment)),
      utilization: utilization(s.deliveredBps, baseline.deliveredBps),
      utilizationVfSide: utilization(s.totalBps, base),
      gCoV: gVms.length === 0 ? null : Math.max(...gVms.map((v) => v.gCoV)),
      samples: s.samples,
      ...(reaction ? { reaction } : {}),
      ...(reclaim ? { reclaim } : {}),
    };
  });
}

/** The time series of a recording: seconds since its first sample, phase marks, per-VM rates. */
export function seriesOf(rec: PolicyRecording, vmCount: number): PolicySeries {
  const iv = intervalsOf(rec.samples, vmCount);
  const t0 = rec.samples[0]?.atMs ?? 0;
  return {
    tS: iv.endMs.map((e) => Math.round(e - t0) / 1000),
    phase: iv.midMs.map((m) => rec.phases.find((w) => m >= w.startMs && m < w.endMs)?.index ?? -1),
    ratesBps: iv.rates.map((r) => r.map((v) => Math.round(v))),
    portBps: iv.portRates.map((v) => Math.round(v)),
  };
}
