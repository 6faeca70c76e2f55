/**
 * Weighted max-min fair division (water-filling): each claimant gets min(demand, weight × L)
 * for the largest level L the budget allows. Used by the daqs policy for Best-Effort VMs and
 * by the simulator to share a port among TCP flows.
 */

/** One claimant on a shared budget. */
export interface FillClaim {
  /** Most it can use (Infinity allowed). */
  readonly demandBps: number;
  /** Relative share; must be > 0. */
  readonly weight: number;
}

/**
 * Splits budgetBps max-min fairly by weight; never gives a claimant more than its demand,
 * so the sum is min(budget, sum of demands). Runs in O(n log n).
 */
export function waterFill(budgetBps: number, claims: readonly FillClaim[]): number[] {
  const out = new Array<number>(claims.length).fill(0);
  let budget = Math.max(0, budgetBps);
  // Claimants saturate in the order of demand/weight: the level at which they stop growing.
  const order = claims.map((_, i) => i).sort((a, b) => level(claims[a]!) - level(claims[b]!));
  let weightLeft = 0;
  for (const c of claims) weightLeft += c.weight;
  for (const i of order) {
    const c = claims[i]!;
    if (weightLeft <= 0) break;
    const fairLevel = budget / weightLeft;
    if (level(c) <= fairLevel) {
      out[i] = c.demandBps;
      budget -= c.demandBps;
    } else {
      out[i] = c.weight * fairLevel;
      budget -= out[i]!;
    }
    weightLeft -= c.weight;
  }
  return out;
}

function level(c: FillClaim): number {
  return c.demandBps / c.weight;
}
