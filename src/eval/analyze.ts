/**
 * Turns what the runner recorded (switch-side counter samples and when each phase started and
 * ended) into per-phase measures and the time series. Pure: tested with synthetic recordings.
 */
import {
  attainment,
  MeasureError,
  phaseMean,
  ratesFromSamples,
  reactionTime,
  reclaimTime,
  stabilityCoV,
  steadyState,
  utilization,
  type Timing,
} from './measures.ts';
import { throughput, type PhaseResult, type PolicySeries } from './result.ts';

/** One reading of every VF counter (index = VM index) at a monotonic time. */
export interface RawSample {
  readonly atMs: number;
  readonly counters: readonly bigint[];
  /** Bytes the port delivered (uplink TX): the emulated port drops what its queue cannot hold, the VF counters still count it. */
  readonly portBytes: bigint;
}

/** A measured phase as it happened. */
export interface PhaseWindow {
  readonly index: number;
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Emulated bits/s. */
  readonly guaranteeBps: number;
  readonly activeBeVms: number;
  /** A Best-Effort sender started at startMs: measure the Guarantee VM's reaction. */
  readonly reaction: boolean;
}

/** After a phase, G stopped at startMs: watch the Best-Effort VMs reclaim until endMs. */
export interface TailWindow {
  readonly phaseIndex: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** Everything recorded while one policy ran. */
export interface PolicyRecording {
  readonly samples: readonly RawSample[];
  readonly phases: readonly PhaseWindow[];
  readonly tails: readonly TailWindow[];
}

/** Which VMs are Guarantee VMs, and how the series were sampled. */
export interface AnalysisContext {
  readonly guaranteeVms: readonly number[];
  readonly vmCount: number;
  readonly warmupMs: number;
  readonly timing: Timing;
}

/** A phase's raw numbers before it is judged against the demand and the baseline. */
export interface PhaseStats {
  readonly window: PhaseWindow;
  readonly gBps: number;
  readonly beBps: number;
  readonly totalBps: number;
  /** What the port delivered (all VMs together). */
  readonly deliveredBps: number;
  readonly gCoV: number;
  readonly samples: number;
  /** G per sample over the whole phase, warm-up included (reaction is measured on it). */
  readonly gSeries: readonly number[];
  /** What BE got through the port per sample after G stopped, for the reclaim time. */
  readonly tailBe?: readonly number[];
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

/** Measures every phase of a recording: means after warm-up, CoV, reaction, reclaim series. */
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
    return {
      window: w,
      gBps,
      beBps,
      totalBps: gBps + beBps,
      deliveredBps: phaseMean(idx.map((i) => iv.portRates[i] ?? 0), warmup),
      gCoV: stabilityCoV(g, warmup),
      samples: steadyState(g, warmup).length,
      gSeries: g,
      ...(tail ? { tailBe: beDeliveredIn(iv, gVms, indicesIn(iv, tail.startMs, tail.endMs)) } : {}),
    };
  });
}

/**
 * Judges phase stats against the Guarantee VM's demand and the baseline's totals: attainment,
 * utilization, reaction against min(guarantee, D_G), reclaim against the baseline total.
 */
export function judgePhases(stats: readonly PhaseStats[], demandBps: number, baselineOf: (phaseIndex: number) => PhaseStats, scale: number, timing: Timing): PhaseResult[] {
  return stats.map((s) => {
    const w = s.window;
    const baseline = baselineOf(w.index);
    const base = baseline.totalBps;
    const reaction = w.reaction ? reactionTime(s.gSeries, 0, w.guaranteeBps, demandBps, timing) : undefined;
    // Delivered against delivered: the VF counters of a baseline with many flows also count
    // what the port dropped (~10% here), a bar no policy that avoids drops could reach.
    const reclaim = s.tailBe ? reclaimTime(s.tailBe, 0, baseline.deliveredBps, 0, timing) : undefined;
    return {
      index: w.index,
      label: w.label,
      activeBeVms: w.activeBeVms,
      guarantee: throughput(w.guaranteeBps, scale),
      gDemand: throughput(demandBps, scale),
      g: throughput(s.gBps, scale),
      be: throughput(s.beBps, scale),
      total: throughput(s.totalBps, scale),
      baselineTotal: throughput(base, scale),
      delivered: throughput(s.deliveredBps, scale),
      baselineDelivered: throughput(baseline.deliveredBps, scale),
      attainment: attainment(s.gBps, w.guaranteeBps, demandBps),
      utilization: utilization(s.deliveredBps, baseline.deliveredBps),
      utilizationVfSide: utilization(s.totalBps, base),
      gCoV: s.gCoV,
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
