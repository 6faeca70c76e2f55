import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shareFluid } from '../../src/sim/index.ts';

const vm = (flows: number, o: { perFlow?: number; demand?: number; cap?: number } = {}) => ({ flows, perFlowLimitBps: o.perFlow ?? null, demandBps: o.demand ?? null, capBps: o.cap ?? null });

describe('shareFluid', () => {
  it.each([
    { name: 'bandwidth splits by flow count (paper baseline)', vms: [vm(1), vm(5)], want: [1000 / 6, 5000 / 6] },
    { name: 'a cap frees room for the other VM', vms: [vm(1), vm(5, { cap: 750 })], want: [250, 750] },
    { name: 'the single-flow ceiling limits a lone VM', vms: [vm(1, { perFlow: 462.5 })], want: [462.5] },
    { name: 'a silent VM gets nothing', vms: [vm(0), vm(2)], want: [0, 1000] },
    { name: 'demand limit (iperf -b) leaves the rest', vms: [vm(1, { demand: 100 }), vm(2)], want: [100, 900] },
  ])('$name', ({ vms, want }) => {
    shareFluid(1000, vms).forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 6));
  });

  it('never exceeds the port nor any VM limit', () => {
    const arb = fc.array(fc.record({ flows: fc.integer({ min: 0, max: 8 }), cap: fc.option(fc.double({ min: 1, max: 2000, noNaN: true }), { nil: undefined }), demand: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: undefined }) }), { minLength: 1, maxLength: 12 });
    fc.assert(fc.property(arb, (raw) => {
      const vms = raw.map((r) => vm(r.flows, { cap: r.cap, demand: r.demand }));
      const got = shareFluid(1000, vms);
      expect(got.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1000 + 1e-6);
      got.forEach((r, i) => expect(r).toBeLessThanOrEqual(Math.min(vms[i]!.capBps ?? Infinity, vms[i]!.demandBps ?? Infinity) + 1e-6));
    }));
  });
});
