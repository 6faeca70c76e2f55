import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { waterFill } from '../../src/policy/index.ts';

describe('waterFill', () => {
  it.each([
    { name: 'equal split when all want more', budget: 90, claims: [[100, 1], [100, 1], [100, 1]], want: [30, 30, 30] },
    { name: 'small demand satisfied, rest shared', budget: 90, claims: [[10, 1], [100, 1], [100, 1]], want: [10, 40, 40] },
    { name: 'weights scale the share', budget: 90, claims: [[100, 1], [100, 2]], want: [30, 60] },
    { name: 'everyone satisfied leaves budget unused', budget: 90, claims: [[10, 1], [20, 1]], want: [10, 20] },
    { name: 'infinite demand takes the rest', budget: 50, claims: [[10, 1], [Infinity, 1]], want: [10, 40] },
    { name: 'zero budget gives nothing', budget: 0, claims: [[10, 1]], want: [0] },
  ])('$name', ({ budget, claims, want }) => {
    const got = waterFill(budget, claims.map(([d, w]) => ({ demandBps: d!, weight: w! })));
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
  });

  const claimsArb = fc.array(fc.record({ demandBps: fc.double({ min: 0, max: 1e10, noNaN: true }), weight: fc.double({ min: 0.1, max: 10, noNaN: true }) }), { minLength: 1, maxLength: 20 });

  it('never exceeds the budget nor any demand, and uses min(budget, sum of demands)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e10, noNaN: true }), claimsArb, (budget, claims) => {
      const got = waterFill(budget, claims);
      const sum = got.reduce((a, b) => a + b, 0);
      const demand = claims.reduce((a, c) => a + c.demandBps, 0);
      got.forEach((g, i) => expect(g).toBeLessThanOrEqual(claims[i]!.demandBps * (1 + 1e-9) + 1e-6));
      expect(sum).toBeCloseTo(Math.min(budget, demand), -1);
    }));
  });

  it('is max-min fair: an unsatisfied claimant has the highest level per weight', () => {
    fc.assert(fc.property(fc.double({ min: 1, max: 1e10, noNaN: true }), claimsArb, (budget, claims) => {
      const got = waterFill(budget, claims);
      const levels = got.map((g, i) => g / claims[i]!.weight);
      got.forEach((g, i) => {
        if (g < claims[i]!.demandBps * (1 - 1e-9)) {
          for (const l of levels) expect(l).toBeLessThanOrEqual(levels[i]! * (1 + 1e-9) + 1e-9);
        }
      });
    }));
  });
});
