/**
 * Which caps to change: only those whose wanted value differs from the one in force by more
 * than a relative threshold, so noise in the policy does not turn into tc commands.
 */

/** True when moving from `fromBps` to `toBps` is worth a tc change. */
export function capChanged(fromBps: number | null, toBps: number | null, thresholdFrac: number): boolean {
  if (fromBps === null || toBps === null) return fromBps !== toBps;
  return Math.abs(toBps - fromBps) > thresholdFrac * fromBps;
}
