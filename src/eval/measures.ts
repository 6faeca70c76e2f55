/**
 * The measures of evaluation.md as pure functions on sampled series. Nothing here reads a
 * clock or a counter: the runner samples, these functions judge, and the tests feed them
 * synthetic series with known answers.
 */
import { attainableBps, GUARANTEE_MET_FRAC, guaranteeMetBps } from '../core/guarantee.ts';
import { counterRateBps, type CounterReading } from '../units/counter-rate.ts';

/** Error for a measure that cannot be computed from what it was given; `code` is stable. */
export class MeasureError extends Error {
  readonly code = 'E_MEASURE';
  constructor(message: string) {
    super(message);
    this.name = 'MeasureError';
  }
}

/** One counter reading: bytes sent so far and when (monotonic ms). */
export type CounterSample = CounterReading;

/**
 * Rates (bits/s) from timestamped counters. The runner aims at a fixed period, but a loaded
 * 2-core machine delays timers, so dividing by the measured interval keeps each rate honest.
 * A counter that went backwards (an interface re-created) gives that interval no rate
 * (units/counter-rate.ts); a measure series needs a number there, and it counts as 0.
 */
export function ratesFromSamples(samples: readonly CounterSample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as CounterSample;
    const b = samples[i] as CounterSample;
    if (!(b.atMs > a.atMs)) throw new MeasureError(`samples ${i - 1} and ${i} are not increasing in time (${a.atMs} -> ${b.atMs} ms)`);
    out.push(counterRateBps(a, b) ?? 0);
  }
  return out;
}

/** Element-wise sum of equally long series (total or Best-Effort aggregate). */
export function sumSeries(series: readonly (readonly number[])[]): number[] {
  const first = series[0];
  if (!first) return [];
  for (const s of series) {
    if (s.length !== first.length) throw new MeasureError(`series lengths differ (${first.length} vs ${s.length})`);
  }
  return first.map((_, i) => series.reduce((acc, s) => acc + (s[i] as number), 0));
}

/** The samples of a phase left after dropping the warm-up at its start. */
export function steadyState(series: readonly number[], warmupSamples: number): number[] {
  if (!Number.isInteger(warmupSamples) || warmupSamples < 0) throw new MeasureError(`warmupSamples must be a non-negative integer, got ${warmupSamples}`);
  const rest = series.slice(warmupSamples);
  if (rest.length === 0) {
    throw new MeasureError(`phase has ${series.length} samples, none left after a warm-up of ${warmupSamples}: make the phase longer than the warm-up`);
  }
  return rest;
}

/** Arithmetic mean; an empty series has no mean. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new MeasureError('mean of an empty series');
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean rate of a phase, warm-up dropped. */
export function phaseMean(series: readonly number[], warmupSamples: number): number {
  return mean(steadyState(series, warmupSamples));
}

/** Attainment A = G / min(guarantee, D_G). */
export function attainment(gBps: number, guaranteeBps: number, demandBps: number): number {
  const target = attainableBps(guaranteeBps, demandBps);
  if (!(target > 0)) throw new MeasureError(`attainment needs min(guarantee ${guaranteeBps}, demand ${demandBps}) > 0`);
  return gBps / target;
}

/** Utilization U = total / baseline total in the same phase. */
export function utilization(totalBps: number, baselineTotalBps: number): number {
  if (!(baselineTotalBps > 0)) throw new MeasureError(`utilization needs a positive baseline total, got ${baselineTotalBps}`);
  return totalBps / baselineTotalBps;
}

/** Coefficient of variation (population standard deviation / mean); 0 for a flat series. */
export function coefficientOfVariation(values: readonly number[]): number {
  const m = mean(values);
  if (m === 0) return 0;
  const variance = values.reduce((acc, v) => acc + (v - m) ** 2, 0) / values.length;
  return Math.sqrt(variance) / m;
}

/** Stability: CoV of G per sample (one per tick) in steady state. */
export function stabilityCoV(gSeries: readonly number[], warmupSamples: number): number {
  return coefficientOfVariation(steadyState(gSeries, warmupSamples));
}

/** How long an event took: null seconds/ticks when it did not happen inside the window. */
export interface EventTime {
  readonly reached: boolean;
  readonly seconds: number | null;
  readonly ticks: number | null;
  /** How long the series was watched after the trigger, in seconds. */
  readonly windowS: number;
}

/** Timing of the series, shared by reaction and reclaim detection. */
export interface Timing {
  readonly periodMs: number;
  readonly tickMs: number;
}

/**
 * Samples from `fromIndex` until the series first stays >= threshold for `holdSamples`
 * consecutive samples; null when that never happens before the series ends.
 */
export function samplesUntilHeld(series: readonly number[], fromIndex: number, thresholdBps: number, holdSamples: number): number | null {
  if (!Number.isInteger(holdSamples) || holdSamples < 1) throw new MeasureError(`holdSamples must be an integer >= 1, got ${holdSamples}`);
  if (!Number.isInteger(fromIndex) || fromIndex < 0) throw new MeasureError(`fromIndex must be a non-negative integer, got ${fromIndex}`);
  let run = 0;
  for (let i = fromIndex; i < series.length; i++) {
    run = (series[i] as number) >= thresholdBps ? run + 1 : 0;
    if (run >= holdSamples) return i - holdSamples + 1 - fromIndex;
  }
  return null;
}

/**
 * Samples from `fromIndex` until the series is at or above the threshold at a sample AND its
 * mean over the `holdSamples` samples starting there is too; null if never, or if the series
 * ends before a whole window. Per-tick rates of a TCP flow swing ±10–20% on their own (also
 * under an ideal hardware scheduler), so "holds for one second" is judged on the second's mean;
 * requiring the first sample to be over the bar keeps a late recovery from counting early.
 */
export function samplesUntilHeldOnAverage(series: readonly number[], fromIndex: number, thresholdBps: number, holdSamples: number): number | null {
  if (!Number.isInteger(holdSamples) || holdSamples < 1) throw new MeasureError(`holdSamples must be an integer >= 1, got ${holdSamples}`);
  if (!Number.isInteger(fromIndex) || fromIndex < 0) throw new MeasureError(`fromIndex must be a non-negative integer, got ${fromIndex}`);
  for (let i = fromIndex; i + holdSamples <= series.length; i++) {
    if ((series[i] as number) < thresholdBps) continue;
    if (mean(series.slice(i, i + holdSamples)) >= thresholdBps) return i - fromIndex;
  }
  return null;
}

function toEventTime(samples: number | null, windowSamples: number, t: Timing): EventTime {
  const windowS = (windowSamples * t.periodMs) / 1000;
  if (samples === null) return { reached: false, seconds: null, ticks: null, windowS };
  // Ticks round up: an event inside a tick is only seen by the controller at that tick's end.
  return { reached: true, seconds: (samples * t.periodMs) / 1000, ticks: Math.ceil((samples * t.periodMs) / t.tickMs), windowS };
}

/** Share of the target that counts as "holding" the guarantee or "having reclaimed": the loop's "guarantee met" bar. */
export const HOLD_FRACTION = GUARANTEE_MET_FRAC;

/** Samples in one second at the series' period (at least 1). */
export function samplesPerSecond(t: Timing): number {
  return Math.max(1, Math.round(1000 / t.periodMs));
}

/**
 * Reaction time: from a new Best-Effort sender's start (sample index `startIndex`) until G
 * holds >= 0.95 × min(guarantee, D_G) for one second (see samplesUntilHeldOnAverage).
 */
export function reactionTime(gSeries: readonly number[], startIndex: number, guaranteeBps: number, demandBps: number, t: Timing): EventTime {
  const found = samplesUntilHeldOnAverage(gSeries, startIndex, guaranteeMetBps(guaranteeBps, demandBps), samplesPerSecond(t));
  return toEventTime(found, gSeries.length - startIndex, t);
}

/**
 * Reclaim time: from G stopping or slowing (sample `startIndex`) until the Best-Effort VMs
 * together reach >= 0.95 × (baseline total − G) and stay there on average for one second
 * (the same rule as reaction, so a single counter burst does not count as reclaimed).
 */
export function reclaimTime(beSeries: readonly number[], startIndex: number, baselineTotalBps: number, gBps: number, t: Timing): EventTime {
  const found = samplesUntilHeldOnAverage(beSeries, startIndex, HOLD_FRACTION * Math.max(0, baselineTotalBps - gBps), samplesPerSecond(t));
  return toEventTime(found, beSeries.length - startIndex, t);
}

/** The per-phase numbers a policy summary is built from. */
export interface PhaseMeasures {
  /** Worst Guarantee VM of the phase; null when none sends. */
  readonly attainment: number | null;
  readonly utilization: number;
  readonly gCoV: number | null;
  readonly gVms?: readonly { readonly vmIndex: number; readonly attainment: number }[];
  readonly reaction?: EventTime;
  readonly reclaim?: EventTime;
}

/** One policy's result over a whole scenario. */
export interface PolicySummary {
  /** Worst attainment of any Guarantee VM over phases. */
  readonly minAttainment: number;
  /** Worst attainment of each Guarantee VM over the phases it sent in, by VM index. */
  readonly minAttainmentByVm: { vmIndex: number; minAttainment: number }[];
  readonly meanUtilization: number;
  /** Worst reaction in ticks; null when none applied or one never reached the bar (see reactionMissed). */
  readonly maxReactionTicks: number | null;
  readonly maxReactionS: number | null;
  /** Phases whose reaction never held within the phase. */
  readonly reactionMissed: number;
  readonly maxReclaimTicks: number | null;
  readonly maxReclaimS: number | null;
  readonly reclaimMissed: number;
  /** Worst steady-state CoV of a Guarantee VM over phases. */
  readonly gCoV: number;
}

function worst(events: readonly EventTime[]): { ticks: number | null; seconds: number | null; missed: number } {
  const missed = events.filter((e) => !e.reached).length;
  if (events.length === 0 || missed > 0) return { ticks: null, seconds: null, missed };
  return {
    ticks: Math.max(...events.map((e) => e.ticks as number)),
    seconds: Math.max(...events.map((e) => e.seconds as number)),
    missed,
  };
}

/**
 * The slowest of several events at one trigger: one that never happened wins (with the
 * shortest window it was watched for), else the one with the most ticks. Undefined for none.
 */
export function slowestEvent(events: readonly EventTime[]): EventTime | undefined {
  const missed = events.filter((e) => !e.reached);
  if (missed.length > 0) return missed.reduce((a, b) => (b.windowS < a.windowS ? b : a));
  return events.reduce<EventTime | undefined>((a, b) => (a === undefined || (b.seconds as number) > (a.seconds as number) ? b : a), undefined);
}

function present<T>(v: T | null): v is T {
  return v !== null;
}

/** Summarizes a policy's phases: worst attainment (overall and per Guarantee VM), mean utilization, worst times and CoV. */
export function summarize(phases: readonly PhaseMeasures[]): PolicySummary {
  if (phases.length === 0) throw new MeasureError('cannot summarize a policy with no phases');
  const attainments = phases.map((p) => p.attainment).filter(present);
  if (attainments.length === 0) throw new MeasureError('cannot summarize attainment: no phase had a Guarantee VM sending');
  const covs = phases.map((p) => p.gCoV).filter(present);
  const byVm = new Map<number, number>();
  for (const v of phases.flatMap((p) => p.gVms ?? [])) byVm.set(v.vmIndex, Math.min(byVm.get(v.vmIndex) ?? Infinity, v.attainment));
  const reaction = worst(phases.flatMap((p) => (p.reaction ? [p.reaction] : [])));
  const reclaim = worst(phases.flatMap((p) => (p.reclaim ? [p.reclaim] : [])));
  return {
    minAttainment: Math.min(...attainments),
    minAttainmentByVm: [...byVm].sort((a, b) => a[0] - b[0]).map(([vmIndex, minAttainment]) => ({ vmIndex, minAttainment })),
    meanUtilization: mean(phases.map((p) => p.utilization)),
    maxReactionTicks: reaction.ticks,
    maxReactionS: reaction.seconds,
    reactionMissed: reaction.missed,
    maxReclaimTicks: reclaim.ticks,
    maxReclaimS: reclaim.seconds,
    reclaimMissed: reclaim.missed,
    gCoV: covs.length === 0 ? 0 : Math.max(...covs),
  };
}
