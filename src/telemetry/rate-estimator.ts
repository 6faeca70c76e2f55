/**
 * TX rate from two counter readings over the wall time measured between them. It never
 * invents a rate: the first sample, a counter that went backwards (guest reboot, interface
 * re-created) and a gap too long to mean "now" all yield null, and a missed tick simply makes
 * the next interval longer, which the measured time accounts for.
 */
import type { TxSample } from '../core/types.ts';
import { counterRateBps } from '../units/counter-rate.ts';

/** Why a reading has, or lacks, a rate. */
export type RateStatus = 'ok' | 'first' | 'reset' | 'gap' | 'no-time';

/** One rate estimate. */
export interface RateReading {
  /** Bits per second over the interval; null when no honest rate exists (see status). */
  readonly rateBps: number | null;
  readonly status: RateStatus;
  /** Length of the interval the rate covers; null when there is no rate. */
  readonly intervalMs: number | null;
}

/** Options of RateEstimator. */
export interface RateEstimatorOptions {
  /** Longest interval still reported as a current rate (default 5000 ms: a stale average misleads the controller). */
  readonly maxGapMs?: number;
}

/** Turns successive TxSamples of one counter into rates. */
export class RateEstimator {
  private last: TxSample | null = null;
  private readonly maxGapMs: number;

  constructor(opts: RateEstimatorOptions = {}) {
    this.maxGapMs = opts.maxGapMs ?? 5000;
  }

  /** Takes a new sample and returns the rate since the previous one. */
  update(sample: TxSample): RateReading {
    const prev = this.last;
    if (prev !== null && sample.atMs <= prev.atMs) return { rateBps: null, status: 'no-time', intervalMs: null };
    this.last = sample;
    if (prev === null) return { rateBps: null, status: 'first', intervalMs: null };
    const dtMs = sample.atMs - prev.atMs;
    // Time moved forward (checked above), so no rate means the counter went backwards.
    const rateBps = counterRateBps(prev, sample);
    if (rateBps === null) return { rateBps: null, status: 'reset', intervalMs: null };
    if (dtMs > this.maxGapMs) return { rateBps: null, status: 'gap', intervalMs: null };
    return { rateBps, status: 'ok', intervalMs: dtMs };
  }

  /** Forgets the previous sample (VM restarted, interface changed). */
  reset(): void {
    this.last = null;
  }
}
