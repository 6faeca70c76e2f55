/**
 * Seeded pseudo-random numbers, so a simulated or experimental run that draws noise, delays or
 * start times is exactly repeatable from its seed. Not for anything secret.
 */

/** A source of uniform numbers in [0, 1) and the draws built on it. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [minInclusive, maxExclusive). */
  uniform(minInclusive: number, maxExclusive: number): number;
  /** Standard normal (mean 0, deviation 1). */
  normal(): number;
}

/** A Random from a 32-bit seed (mulberry32: small, fast, well mixed). */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    // Box-Muller; 1 - next() is in (0, 1], so the log is finite.
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}
