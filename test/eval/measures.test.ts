import { describe, expect, it } from 'vitest';
import {
  attainment,
  coefficientOfVariation,
  MeasureError,
  phaseMean,
  ratesFromSamples,
  reactionTime,
  reclaimTime,
  samplesUntilHeld,
  samplesUntilHeldOnAverage,
  slowestEvent,
  stabilityCoV,
  sumSeries,
  summarize,
  utilization,
  type EventTime,
  type PhaseMeasures,
} from '../../src/eval/measures.ts';

const T = { periodMs: 200, tickMs: 200 };

describe('ratesFromSamples', () => {
  it('divides by the measured interval, not the nominal one', () => {
    const rates = ratesFromSamples([
      { txBytes: 0n, atMs: 0 },
      { txBytes: 25_000_000n, atMs: 200 },
      { txBytes: 75_000_000n, atMs: 600 }, // a late timer: 400 ms, twice the bytes, same rate
    ]);
    expect(rates).toEqual([1e9, 1e9]);
  });

  it('gives a counter that went backwards (a reset) no rate, counted as 0, never a negative or wrapped one', () => {
    const rates = ratesFromSamples([
      { txBytes: 1_000_000n, atMs: 0 },
      { txBytes: 10n, atMs: 100 },
      { txBytes: 12_510n, atMs: 200 },
    ]);
    expect(rates).toEqual([0, 1_000_000]);
  });

  it('refuses samples that do not move forward in time', () => {
    expect(() => ratesFromSamples([{ txBytes: 0n, atMs: 5 }, { txBytes: 1n, atMs: 5 }])).toThrow(/not increasing/);
  });
});

describe('sumSeries and phaseMean', () => {
  it('adds element-wise', () => {
    expect(sumSeries([[1, 2, 3], [10, 20, 30]])).toEqual([11, 22, 33]);
  });
  it('refuses series of different lengths', () => {
    expect(() => sumSeries([[1, 2], [1]])).toThrow(MeasureError);
  });
  it.each([
    { series: [0, 0, 10, 20], warmup: 2, want: 15 },
    { series: [4, 8], warmup: 0, want: 6 },
    { series: [100, 1, 1, 1, 1], warmup: 1, want: 1 },
  ])('mean of $series after $warmup warm-up samples is $want', ({ series, warmup, want }) => {
    expect(phaseMean(series, warmup)).toBe(want);
  });
  it('says the phase is too short when the warm-up eats it', () => {
    expect(() => phaseMean([1, 2], 2)).toThrow(/longer than the warm-up/);
  });
});

describe('attainment and utilization', () => {
  it.each([
    { name: 'guarantee met exactly', g: 10e9, guarantee: 10e9, demand: 18.5e9, want: 1 },
    { name: 'guarantee above demand: judged against demand', g: 18.5e9, guarantee: 25e9, demand: 18.5e9, want: 1 },
    { name: 'half of the guarantee', g: 5e9, guarantee: 10e9, demand: 18.5e9, want: 0.5 },
    { name: 'demand lower than guarantee, G short of demand', g: 9e9, guarantee: 20e9, demand: 18e9, want: 0.5 },
  ])('attainment: $name', ({ g, guarantee, demand, want }) => {
    expect(attainment(g, guarantee, demand)).toBeCloseTo(want, 12);
  });
  it('attainment refuses a zero target', () => {
    expect(() => attainment(1, 0, 1e9)).toThrow(MeasureError);
  });
  it.each([
    { total: 37.49e9, baseline: 37.49e9, want: 1 },
    { total: 34.8657e9, baseline: 37.49e9, want: 0.93 },
    { total: 24.7e9, baseline: 37.49e9, want: 0.6588 },
  ])('utilization $total / $baseline', ({ total, baseline, want }) => {
    expect(utilization(total, baseline)).toBeCloseTo(want, 3);
  });
  it('utilization refuses a zero baseline', () => {
    expect(() => utilization(1, 0)).toThrow(MeasureError);
  });
});

describe('stability', () => {
  it.each([
    { name: 'flat', series: [5, 5, 5, 5], warmup: 0, want: 0 },
    { name: 'alternating ±10%', series: [9, 11, 9, 11], warmup: 0, want: 0.1 },
    { name: 'warm-up spike dropped', series: [0, 100, 10, 10, 10], warmup: 2, want: 0 },
    { name: 'all zero', series: [0, 0], warmup: 0, want: 0 },
  ])('$name', ({ series, warmup, want }) => {
    expect(stabilityCoV(series, warmup)).toBeCloseTo(want, 12);
  });
  it('CoV is scale-free', () => {
    expect(coefficientOfVariation([1, 2, 3])).toBeCloseTo(coefficientOfVariation([1e9, 2e9, 3e9]), 12);
  });
});

describe('samplesUntilHeld', () => {
  it.each([
    { name: 'already holding', series: [5, 5, 5], from: 0, hold: 2, want: 0 },
    { name: 'holds after a dip', series: [5, 1, 5, 5], from: 0, hold: 2, want: 2 },
    { name: 'a single spike does not count', series: [1, 5, 1, 5, 5, 5], from: 0, hold: 3, want: 3 },
    { name: 'counts from the trigger', series: [5, 5, 1, 1, 5, 5], from: 2, hold: 2, want: 2 },
    { name: 'never holds long enough', series: [5, 1, 5], from: 0, hold: 2, want: null },
    { name: 'threshold is inclusive', series: [4.75, 4.75], from: 0, hold: 2, want: 0 },
  ])('$name', ({ series, from, hold, want }) => {
    expect(samplesUntilHeld(series, from, 4.75, hold)).toBe(want);
  });
});

describe('reactionTime', () => {
  // G guarantee 10, demand 18.5: bar is 9.5 held for 1 s = 5 samples at 200 ms.
  const ok = 9.6;
  const low = 6;
  it.each<{ name: string; series: number[]; start: number; want: Partial<EventTime> }>([
    { name: 'never disturbed', series: [ok, ok, ok, ok, ok, ok], start: 0, want: { reached: true, ticks: 0, seconds: 0 } },
    { name: 'recovers after 3 ticks', series: [ok, low, low, low, ok, ok, ok, ok, ok], start: 1, want: { reached: true, ticks: 3, seconds: 0.6 } },
    { name: 'recovers but not for a whole second', series: [low, ok, ok, ok, ok, low, low], start: 0, want: { reached: false, ticks: null, seconds: null, windowS: 1.4 } },
    { name: 'never recovers', series: [low, low, low, low, low, low, low], start: 0, want: { reached: false, ticks: null } },
  ])('$name', ({ series, start, want }) => {
    expect(reactionTime(series, start, 10, 18.5, T)).toMatchObject(want);
  });

  it('judges against the demand when the guarantee exceeds it', () => {
    // guarantee 25, demand 18.5 -> bar 17.575
    const series = [17.6, 17.6, 17.6, 17.6, 17.6];
    expect(reactionTime(series, 0, 25, 18.5, T).ticks).toBe(0);
    expect(reactionTime(series, 0, 25, 30, T).reached).toBe(false);
  });

  it('reports ticks rounded up when sampling is finer than the tick', () => {
    const series = [0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
    const r = reactionTime(series, 0, 10, 100, { periodMs: 100, tickMs: 200 });
    expect(r).toMatchObject({ reached: true, seconds: 0.1, ticks: 1 });
  });
});

describe('reclaimTime', () => {
  // Bar = 0.95 × (baseline − G); one second = 5 samples at 200 ms.
  it.each<{ name: string; be: number[]; start: number; baseline: number; g: number; want: Partial<EventTime> }>([
    { name: 'instant reclaim', be: [30, 38, 38, 38, 38, 38], start: 1, baseline: 38, g: 0, want: { reached: true, ticks: 0 } },
    { name: 'two ticks to reclaim', be: [30, 30, 33, 37, 37, 37, 37, 37], start: 1, baseline: 38, g: 0, want: { reached: true, ticks: 2, seconds: 0.4 } },
    { name: 'G slowed to 10: bar is 0.95 × 28', be: [20, 26.6, 26.6, 26.6, 26.6, 26.6], start: 1, baseline: 38, g: 10, want: { reached: true, ticks: 0 } },
    { name: 'a one-sample burst is not a reclaim', be: [30, 40, 30, 30, 30, 30, 30], start: 1, baseline: 38, g: 0, want: { reached: false } },
    { name: 'static cap never reclaims', be: [30, 30, 30, 30, 30, 30, 30], start: 1, baseline: 38, g: 0, want: { reached: false, windowS: 1.2 } },
  ])('$name', ({ be, start, baseline, g, want }) => {
    expect(reclaimTime(be, start, baseline, g, T)).toMatchObject(want);
  });
});

describe('samplesUntilHeldOnAverage', () => {
  it.each([
    { name: 'noisy around the bar but above on average', series: [10, 9, 11, 9.5, 10.5], hold: 5, want: 0 },
    { name: 'first sample must itself be over the bar', series: [5, 12, 12, 12, 12, 12], hold: 5, want: 1 },
    { name: 'high start, then sags below on average', series: [12, 8, 8, 8, 8, 8], hold: 5, want: null },
    { name: 'window must fit in the series', series: [10, 10, 10], hold: 5, want: null },
    { name: 'hold of one is the first sample over', series: [1, 2, 9.5], hold: 1, want: 2 },
  ])('$name', ({ series, hold, want }) => {
    expect(samplesUntilHeldOnAverage(series, 0, 9.5, hold)).toBe(want);
  });
});

describe('summarize', () => {
  const at = (ticks: number): EventTime => ({ reached: true, ticks, seconds: ticks * 0.2, windowS: 10 });
  const missed: EventTime = { reached: false, ticks: null, seconds: null, windowS: 10 };
  const phases: PhaseMeasures[] = [
    { attainment: 1.01, utilization: 0.95, gCoV: 0.02, reaction: at(2), reclaim: at(1) },
    { attainment: 0.97, utilization: 0.99, gCoV: 0.04, reaction: at(5) },
    { attainment: 1.2, utilization: 0.92, gCoV: 0.01 },
  ];

  it('takes the worst attainment, mean utilization, worst times and worst CoV', () => {
    expect(summarize(phases)).toEqual({
      minAttainment: 0.97,
      minAttainmentByVm: [],
      meanUtilization: (0.95 + 0.99 + 0.92) / 3,
      maxReactionTicks: 5,
      maxReactionS: 1,
      reactionMissed: 0,
      maxReclaimTicks: 1,
      maxReclaimS: 0.2,
      reclaimMissed: 0,
      gCoV: 0.04,
    });
  });

  it('reports a missed reaction as null with a count, never as a small number', () => {
    const s = summarize([...phases, { attainment: 0.5, utilization: 1, gCoV: 0.3, reaction: missed }]);
    expect(s.maxReactionTicks).toBeNull();
    expect(s.reactionMissed).toBe(1);
    expect(s.maxReclaimTicks).toBe(1);
  });

  it('has no times when no phase had an event', () => {
    const s = summarize([{ attainment: 1, utilization: 1, gCoV: 0 }]);
    expect(s).toMatchObject({ maxReactionTicks: null, reactionMissed: 0, maxReclaimTicks: null });
  });

  it('refuses an empty policy', () => {
    expect(() => summarize([])).toThrow(MeasureError);
  });

  it('several Guarantee VMs: the worst of each over the phases it sent in; phases without one are skipped', () => {
    const s = summarize([
      { attainment: 0.9, utilization: 1, gCoV: 0.05, gVms: [{ vmIndex: 0, attainment: 1.1 }, { vmIndex: 2, attainment: 0.9 }] },
      { attainment: 0.95, utilization: 1, gCoV: 0.02, gVms: [{ vmIndex: 0, attainment: 0.95 }] },
      { attainment: null, utilization: 0.8, gCoV: null, gVms: [] },
    ]);
    expect(s.minAttainment).toBe(0.9);
    expect(s.minAttainmentByVm).toEqual([{ vmIndex: 0, minAttainment: 0.95 }, { vmIndex: 2, minAttainment: 0.9 }]);
    expect(s.gCoV).toBe(0.05);
    expect(s.meanUtilization).toBeCloseTo(2.8 / 3, 9);
  });

  it('refuses a policy where no Guarantee VM ever sent: nothing to judge attainment on', () => {
    expect(() => summarize([{ attainment: null, utilization: 1, gCoV: null }])).toThrow(/no phase had a Guarantee VM sending/);
  });
});

describe('slowestEvent', () => {
  const at = (ticks: number): EventTime => ({ reached: true, ticks, seconds: ticks * 0.2, windowS: 10 });
  it('is the latest of those that happened, or one that never did', () => {
    expect(slowestEvent([at(1), at(4), at(2)])).toEqual(at(4));
    expect(slowestEvent([at(1), { reached: false, ticks: null, seconds: null, windowS: 3 }])).toMatchObject({ reached: false, windowS: 3 });
    expect(slowestEvent([])).toBeUndefined();
  });
});
