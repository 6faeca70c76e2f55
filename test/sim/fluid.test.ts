import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shareFluid, shareGuaranteed } from '../../src/sim/index.ts';

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

describe('shareGuaranteed (the oracle port)', () => {
  it.each([
    { name: 'a greedy Guarantee VM gets its guarantee, BE the rest', g: [500, 0], vms: [vm(1), vm(5)], want: [500, 500] },
    { name: 'a Guarantee VM below its guarantee leaves the rest to BE', g: [500, 0], vms: [vm(1, { demand: 200 }), vm(5)], want: [200, 800] },
    { name: 'BE idle: the Guarantee VM takes the excess', g: [500, 0], vms: [vm(1), vm(0)], want: [1000, 0] },
    { name: 'excess split equally between classes, inside the BE class by flows', g: [200, 0, 0], vms: [vm(1), vm(1), vm(3)], want: [200 + 0, 200, 600] },
    { name: 'two Guarantee VMs whatever their flows', g: [300, 300, 0], vms: [vm(1), vm(8), vm(4)], want: [300, 300, 400] },
  ])('$name', ({ g, vms, want }) => {
    shareGuaranteed(1000, vms, g).forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 6));
  });

  it('is work-conserving: uses min(port, sum of ceilings) and keeps each guarantee it can', () => {
    const arb = fc.array(fc.record({ flows: fc.integer({ min: 0, max: 8 }), demand: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: undefined }), g: fc.double({ min: 0, max: 300, noNaN: true }) }), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(arb, (raw) => {
      const vms = raw.map((r) => vm(r.flows, { demand: r.demand }));
      const got = shareGuaranteed(1000, vms, raw.map((r) => r.g));
      const ceilings = vms.map((v) => (v.flows <= 0 ? 0 : v.demandBps ?? Infinity));
      expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(Math.min(1000, ceilings.reduce((a, b) => a + b, 0)), 3);
      const fit = Math.min(1, 1000 / raw.reduce((a, r) => a + r.g, 0));
      got.forEach((r, i) => expect(r).toBeGreaterThanOrEqual(Math.min(ceilings[i]!, raw[i]!.g * fit) - 1e-6));
    }));
  });
});
