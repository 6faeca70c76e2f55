import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { daqsPolicy, type DaqsState, type PolicyDecision, type PolicyInput, type PolicyVmInput } from '../../src/policy/index.ts';
import { M, PORT, input, sla, vm } from './helpers.ts';

const policy = daqsPolicy();
const capOf = (d: PolicyDecision<DaqsState>, id: string): number | null => d.vms.find((v) => v.id === id)!.capBps;
const first = (i: PolicyInput): PolicyDecision<DaqsState> => policy.decide(i, policy.initState());

/** Runs ticks in order, feeding each decision's caps back as the caps in force. */
function run(ticks: ((caps: Map<string, number | null>) => PolicyVmInput[])[]): PolicyDecision<DaqsState> {
  let state = policy.initState();
  let caps = new Map<string, number | null>();
  let last: PolicyDecision<DaqsState> | null = null;
  for (const t of ticks) {
    last = policy.decide(input(t(caps)), state);
    state = last.state;
    caps = new Map(last.vms.map((v) => [v.id, v.capBps]));
  }
  return last!;
}
const capM = (caps: Map<string, number | null>, id: string): number | null => {
  const c = caps.get(id);
  return c === undefined || c === null ? null : c / M;
};

describe('daqs policy: single decisions', () => {
  it.each([
    {
      name: 'contention: BE capped at capacity minus the guarantee in one step',
      vms: [vm('g', sla(500), 333), vm('be', sla(), 1667)],
      want: { g: null, be: 1500 },
    },
    {
      name: 'a BE maximum below its share wins',
      vms: [vm('g', sla(500), 333), vm('be', sla(0, { maxMbit: 800 }), 1667)],
      want: { g: null, be: 800 },
    },
    {
      name: 'a Guarantee VM maximum below its guarantee still leaves the guarantee',
      vms: [vm('g', sla(500, { maxMbit: 300 }), 333), vm('be', sla(), 1667)],
      want: { g: 500, be: 1500 },
    },
    {
      name: 'a BE VM without a sample keeps the cap in force',
      vms: [vm('g', sla(500), 333), vm('be', sla(), null, 1234)],
      want: { g: null, be: 1234 },
    },
    {
      name: 'hungry BE VMs share the rest by weight',
      vms: [vm('g', sla(500), 333), vm('a', sla(0, { weight: 1 }), 2000), vm('b', sla(0, { weight: 2 }), 2000)],
      want: { g: null, a: 500, b: 1000 },
    },
    {
      name: 'no Guarantee VM: a small sender keeps room to grow, the big one takes the rest',
      vms: [vm('a', sla(), 200), vm('b', sla(), 1800)],
      want: { a: 220, b: 1780 },
    },
  ])('$name', ({ vms, want }) => {
    const d = first(input(vms));
    for (const [id, cap] of Object.entries(want)) {
      const got = capOf(d, id);
      if (cap === null) expect(got).toBeNull();
      else expect(got! / M).toBeCloseTo(cap, 0);
    }
  });

  it('an idle Guarantee VM is not squeezed: it gets headroom only, BE gets the rest at once', () => {
    const d = first(input([vm('g', sla(750), 0), vm('be', sla(), 2000)]));
    expect(d.vms[0]!.reservedBps! / M).toBeCloseTo(60, 0);
    expect(capOf(d, 'be')! / M).toBeCloseTo(1940, 0);
    expect(d.learnedCapacityBps).toBe(PORT);
  });

  it('keeps the cap in force when the wanted change is within the hold fraction', () => {
    const d = first(input([vm('g', sla(500), 500), vm('be', sla(), 1470, 1480)]));
    expect(capOf(d, 'be')).toBe(1480 * M);
  });

  it('does not hold a cap in force that is above the VM maximum', () => {
    const d = first(input([vm('be', sla(0, { maxMbit: 100 }), 100, 101)]));
    expect(capOf(d, 'be')).toBe(100 * M);
  });

  it('learns a port that delivers less than nominal when every sender is unheld', () => {
    const d = first(input([vm('g', sla(500), 313), vm('be', sla(), 1567)]));
    expect(d.learnedCapacityBps).toBeLessThan(PORT);
    expect(d.learnedCapacityBps).toBeGreaterThanOrEqual(1880 * M);
  });
});

describe('daqs policy: over several ticks', () => {
  it('gives back an idle guarantee within two ticks', () => {
    const d = run([
      (c) => [vm('g', sla(500), 500), vm('be', sla(), 1500, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 500), vm('be', sla(), 1500, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 0), vm('be', sla(), 1500, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 0), vm('be', sla(), 1500, capM(c, 'be'))],
    ]);
    expect(capOf(d, 'be')!).toBeGreaterThanOrEqual(0.95 * PORT);
  });

  it('is work-conserving: a Guarantee VM that wants less than its guarantee leaves the rest to BE', () => {
    const d = run([
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1800, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1500, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1700, capM(c, 'be'))],
    ]);
    const be = capOf(d, 'be')!;
    expect(be).toBeGreaterThan(1700 * M);
    expect(be).toBeLessThanOrEqual(1800 * M);
  });

  it('jumps back to the full guarantee when a demand-limited Guarantee VM fills its headroom', () => {
    const d = run([
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1800, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1500, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 200), vm('be', sla(), 1700, capM(c, 'be'))],
      (c) => [vm('g', sla(500), 260), vm('be', sla(), capM(c, 'be')!, capM(c, 'be'))],
    ]);
    expect(capOf(d, 'be')).toBeLessThanOrEqual(1500 * M);
  });

  it('lowers its capacity estimate when a contended Guarantee VM stays short on a full port', () => {
    const d = run([
      (c) => [vm('g', sla(500), 300), vm('be', sla(), 1500, capM(c, 'be'))],
      (_c) => [vm('g', sla(500), 380), vm('be', sla(), 1500, 1500)],
    ]);
    expect(d.learnedCapacityBps).toBeLessThan(PORT);
    expect(capOf(d, 'be')!).toBeLessThan(1500 * M);
  });
});

// Inputs: 1..10 VMs, guarantees adding up to at most 80% of the port.
const vmArb = fc.record({
  g: fc.boolean(),
  guarFrac: fc.double({ min: 0.01, max: 1, noNaN: true }),
  rateFrac: fc.option(fc.double({ min: 0, max: 1.2, noNaN: true }), { nil: null }),
  capFrac: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: null }),
  maxFrac: fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: null }),
  weight: fc.double({ min: 0.1, max: 8, noNaN: true }),
});
const vmsArb = fc.array(vmArb, { minLength: 1, maxLength: 10 }).map((raw) => {
  const gs = raw.filter((r) => r.g);
  const guarSum = gs.reduce((a, r) => a + r.guarFrac, 0);
  const scale = guarSum > 0 ? Math.min(1, 0.8 / guarSum) : 1;
  return raw.map((r, i): PolicyVmInput => ({
    id: `vm${i}`,
    sla: { guaranteeBps: r.g ? r.guarFrac * scale * PORT : 0, maxBps: r.maxFrac === null ? null : r.maxFrac * PORT, weight: r.weight },
    rateBps: r.rateFrac === null ? null : r.rateFrac * PORT,
    // A VM without a sample only ever has the cap daqs gave it: keep the sum properties exact.
    capBps: r.rateFrac === null || r.capFrac === null ? null : r.capFrac * PORT,
  }));
});

describe('daqs policy: properties', () => {
  const twoTicks = fc.tuple(vmsArb, fc.double({ min: 0, max: 1.2, noNaN: true }));

  it('never caps a Guarantee VM below its guarantee, and respects every maximum', () => {
    fc.assert(fc.property(twoTicks, ([vms, k]) => {
      const d1 = first(input(vms));
      const again = vms.map((v, i) => ({ ...v, rateBps: v.rateBps === null ? null : v.rateBps * k, capBps: d1.vms[i]!.capBps }));
      const d2 = policy.decide(input(again), d1.state);
      for (const d of [d1, d2]) {
        d.vms.forEach((out, i) => {
          const s = vms[i]!.sla;
          if (s.guaranteeBps > 0) {
            if (out.capBps !== null) expect(out.capBps).toBeGreaterThanOrEqual(s.guaranteeBps);
          } else if (s.maxBps !== null) {
            expect(out.capBps).not.toBeNull();
            expect(out.capBps!).toBeLessThanOrEqual(s.maxBps * (1 + 1e-9));
          }
        });
      }
    }));
  });

  it('in contention (first sight of sending Guarantee VMs: whole guarantee reserved) BE caps sum to at most capacity minus guarantees', () => {
    // Sending = not idle: at least half the headroom, max(5% of guarantee, 3% of port) / 2.
    const sending = (v: PolicyVmInput): boolean => v.rateBps === null || v.rateBps >= Math.max(0.025 * v.sla.guaranteeBps, 0.015 * PORT);
    fc.assert(fc.property(vmsArb.filter((vms) => vms.every((v) => v.sla.guaranteeBps === 0 || sending(v))), (vms) => {
      const d = first(input(vms));
      const guar = vms.reduce((a, v) => a + v.sla.guaranteeBps, 0);
      const beCount = vms.filter((v) => v.sla.guaranteeBps === 0).length;
      const left = d.learnedCapacityBps - guar;
      if (beCount * 0.005 * PORT > left) return; // the tc floor, not the policy, decides then
      const be = d.vms.filter((_, i) => vms[i]!.sla.guaranteeBps === 0).reduce((a, v) => a + (v.capBps ?? Infinity), 0);
      expect(be).toBeLessThanOrEqual(left * (1 + 1e-9) + 1);
      expect(d.learnedCapacityBps).toBeLessThanOrEqual(PORT);
      d.vms.forEach((out, i) => {
        if (vms[i]!.sla.guaranteeBps > 0) expect(out.reservedBps).toBe(vms[i]!.sla.guaranteeBps);
      });
    }));
  });

  it('on later ticks BE caps never exceed learned capacity minus what is reserved', () => {
    fc.assert(fc.property(twoTicks, ([vms, k]) => {
      const d1 = first(input(vms));
      const again = vms.map((v, i) => ({ ...v, rateBps: v.rateBps === null ? null : v.rateBps * k, capBps: v.rateBps === null ? null : d1.vms[i]!.capBps }));
      const d2 = policy.decide(input(again), d1.state);
      const reserved = d2.vms.reduce((a, v) => a + (v.reservedBps ?? 0), 0);
      const beCount = vms.filter((v) => v.sla.guaranteeBps === 0).length;
      const left = d2.learnedCapacityBps - reserved;
      if (beCount * 0.005 * PORT > left) return;
      const be = d2.vms.filter((_, i) => vms[i]!.sla.guaranteeBps === 0).reduce((a, v) => a + (v.capBps ?? 0), 0);
      expect(be).toBeLessThanOrEqual(left * (1 + 1e-9) + 1);
      d2.vms.forEach((out, i) => {
        const v = again[i]!;
        if (v.sla.guaranteeBps > 0 && v.rateBps !== null) expect(out.reservedBps!).toBeGreaterThanOrEqual(Math.min(v.sla.guaranteeBps, v.rateBps) - 1e-6);
      });
    }));
  });

  it('gives hungry BE VMs caps proportional to their weights', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0.1, max: 8, noNaN: true }), { minLength: 2, maxLength: 8 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (weights, guarFrac) => {
      const vms = [vm('g', sla(guarFrac * 2000), 0.5), ...weights.map((w, i) => vm(`be${i}`, sla(0, { weight: w }), 2000))];
      const d = first(input(vms));
      // Caps pinned at the tc floor (0.5% of the port) are the one exception to proportionality.
      const per = weights.map((w, i) => ({ cap: capOf(d, `be${i}`)!, w })).filter((x) => x.cap > 0.005 * PORT * 1.001).map((x) => x.cap / x.w);
      for (const p of per) expect(Math.abs(p / per[0]! - 1)).toBeLessThan(1e-6);
    }));
  });
});
