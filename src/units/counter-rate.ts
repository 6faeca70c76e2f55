/**
 * The one rule for turning two readings of a byte counter into a rate, used by the control
 * loop, the telemetry estimator, the experiments, the testbed and the CLI. A counter that went
 * backwards was reset (guest reboot, interface re-created): that interval has no rate, rather
 * than a huge negative or wrapped one. An interval that is not positive has no rate either.
 * Where a rate feeds a decision, clampRateBps bounds it by what the port can carry.
 */

/** One reading of a byte counter: bytes so far and when (ms, any clock that only moves forward). */
export interface CounterReading {
  readonly txBytes: bigint;
  readonly atMs: number;
}

/** Bits per second from a byte delta over intervalMs; null for a reset (negative delta) or a non-positive interval. */
export function bytesDeltaRateBps(fromBytes: bigint, toBytes: bigint, intervalMs: number): number | null {
  if (!(intervalMs > 0)) return null;
  if (toBytes < fromBytes) return null;
  // The delta fits a double exactly (an interval never carries 2^53 bytes), whatever the counters' size.
  return (Number(toBytes - fromBytes) * 8 * 1000) / intervalMs;
}

/** Bits per second between two readings; null without an earlier reading, after a reset, or when time did not move forward. */
export function counterRateBps(prev: CounterReading | null | undefined, cur: CounterReading): number | null {
  if (!prev) return null;
  return bytesDeltaRateBps(prev.txBytes, cur.txBytes, cur.atMs - prev.atMs);
}

/**
 * A rate bounded to [0, nominalBps]: no VF sends faster than its port, so a counter that
 * jumped further (a guest reporting inflated bytes, a confused agent) counts as the port's
 * nominal rate and no more. It cannot push the policy, the port total or a metric beyond
 * what is physically possible. null stays null.
 */
export function clampRateBps(rateBps: number | null, nominalBps: number): number | null {
  if (rateBps === null) return null;
  return Math.min(Math.max(rateBps, 0), nominalBps);
}
