import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesDeltaRateBps, clampRateBps, counterRateBps } from '../../src/units/counter-rate.ts';

const s = (txBytes: bigint, atMs: number) => ({ txBytes, atMs });

describe('counterRateBps', () => {
  it.each([
    { name: '125 MB in 1 s is 1 Gbit/s', prev: s(0n, 0), cur: s(125_000_000n, 1000), want: 1e9 },
    { name: 'no earlier sample: no rate', prev: null, cur: s(10n, 1000), want: null },
    { name: 'counter reset: no rate that interval', prev: s(1000n, 0), cur: s(10n, 200), want: null },
    { name: 'same timestamp: no rate', prev: s(0n, 200), cur: s(100n, 200), want: null },
    { name: 'time going back: no rate', prev: s(0n, 200), cur: s(100n, 100), want: null },
    { name: 'idle: zero', prev: s(5n, 0), cur: s(5n, 200), want: 0 },
    { name: 'beyond 2^53 bytes stays exact', prev: s(2n ** 60n, 0), cur: s(2n ** 60n + 25_000_000n, 200), want: 1e9 },
  ])('$name', ({ prev, cur, want }) => {
    expect(counterRateBps(prev, cur)).toBe(want);
  });

  it('integrates back to the bytes sent: rate x interval / 8 is the delta', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 2n ** 40n }), fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.integer({ min: 1, max: 60_000 }), (start, delta, dtMs) => {
      const rate = counterRateBps(s(start, 1000), s(start + delta, 1000 + dtMs));
      expect(rate).not.toBeNull();
      expect((rate! * dtMs) / 8000).toBeCloseTo(Number(delta), 3);
    }));
  });
});

describe('bytesDeltaRateBps', () => {
  it('refuses a reset and a non-positive interval, and divides by the interval it is given', () => {
    expect(bytesDeltaRateBps(10n, 5n, 100)).toBeNull();
    expect(bytesDeltaRateBps(0n, 5n, 0)).toBeNull();
    expect(bytesDeltaRateBps(0n, 5n, Number.NaN)).toBeNull();
    expect(bytesDeltaRateBps(0n, 25_000_000n, 400)).toBe(5e8);
  });
});

describe('clampRateBps', () => {
  it.each<[number | null, number | null]>([
    [null, null], [0, 0], [5e8, 5e8], [1e10, 1e10], [3e10, 1e10], [Number.POSITIVE_INFINITY, 1e10], [-1, 0],
  ])('clampRateBps(%s, 10 Gbit/s) = %s', (rate, want) => {
    expect(clampRateBps(rate, 1e10)).toBe(want);
  });
});
