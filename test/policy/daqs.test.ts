import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { daqsPolicy, type DaqsState, type PolicyDecision, type PolicyInput, type PolicyVmInput } from '../../src/policy/index.ts';
import { M, PORT, input, sla, vm } from './helpers.ts';

const policy = daqsPolicy();
const capOf = (d: PolicyDecision<DaqsState>, id: string): number | null => d.vms.find((v) => v.id === id)!.capBps;
const first = (i: PolicyInput): PolicyDecision<DaqsState> => policy.decide(i, policy.initState());

/**
 * Runs ticks in order, feeding each decision's caps back as the caps in force; each tick's
 * inputs may depend on the caps decided before (a VM sending what its cap lets through).
 */
function run(ticks: readonly ((caps: ReadonlyMap<string, number | null>) => PolicyVmInput[])[], state = policy.initState()): PolicyDecision<DaqsState> {
  let caps = new Map<string, number | null>();
  let last: PolicyDecision<DaqsState> | null = null;
  for (const t of ticks) {
    last = policy.decide(input(t(caps)), state);
    state = last.state;
    caps = new Map(last.vms.map((v) => [v.id, v.capBps]));
  }
  return last!;
}
const capM = (caps: ReadonlyMap<string, number | null>, id: string): number | null => {
  const c = caps.get(id);
  return c === undefined || c === null ? null : c / M;
};
const repeat = <T>(n: number, t: T): T[] => Array.from({ length: n }, () => t);

describe('daqs policy: single decisions', () => {
  it('contention: Best-Effort capped at capacity minus the guarantee (and a little for its noise) in one step; the Guarantee VM uncapped', () => {
    const d = first(input([vm('g', sla(500), 333), vm('be', sla(), 1667)]));
    expect(capOf(d, 'g')).toBeNull();
    expect(capOf(d, 'be')! / M).toBeLessThanOrEqual(1500);
    expect(capOf(d, 'be')! / M).toBeGreaterThan(1500 - 0.05 * 500);
  });

  it('a Best-Effort maximum below its share wins', () => {
    expect(capOf(first(input([vm('g', sla(500), 333), vm('be', sla(0, { maxMbit: 800 }), 1667)])), 'be')).toBe(800 * M);
  });

  it('a Guarantee VM maximum below its guarantee still leaves the guarantee', () => {
    expect(capOf(first(input([vm('g', sla(500, { maxMbit: 300 }), 333), vm('be', sla(), 1667)])), 'g')).toBe(500 * M);
  });

  it('a VM without a sample keeps the cap in force', () => {
    expect(capOf(first(input([vm('g', sla(500), 333), vm('be', sla(), null, 1234)])), 'be')).toBe(1234 * M);
  });

  it('hungry Best-Effort VMs share the rest by weight', () => {
    const d = first(input([vm('g', sla(500), 333), vm('a', sla(0, { weight: 1 }), 2000), vm('b', sla(0, { weight: 2 }), 2000)]));
    expect(capOf(d, 'b')! / capOf(d, 'a')!).toBeCloseTo(2, 6);
  });

  it('no Guarantee VM: a small sender keeps room above its rate, the big one takes the rest', () => {
    const d = first(input([vm('a', sla(), 200), vm('b', sla(), 1800)]));
    expect(capOf(d, 'a')! / M).toBeGreaterThan(200);
    expect((capOf(d, 'a')! + capOf(d, 'b')!) / M).toBeLessThanOrEqual(2000 * 1.2);
  });

  it('an idle Guarantee VM is not squeezed: a little headroom only, Best-Effort gets nearly the whole port at once', () => {
    const d = first(input([vm('g', sla(750), 0), vm('be', sla(), 2000)]));
    expect(d.vms[0]!.reservedBps! / M).toBeLessThan(0.02 * 2000);
    expect(capOf(d, 'be')! / M).toBeGreaterThan(0.97 * 2000);
    expect(d.learnedCapacityBps).toBe(PORT);
  });

  it('keeps the cap in force when the wanted change is small, but not above the VM maximum', () => {
    expect(capOf(first(input([vm('be', sla(0, { maxMbit: 100 }), 100, 101)])), 'be')).toBe(100 * M);
  });
});

describe('daqs policy: windows it must not judge', () => {
  // A Best-Effort VM that grew into its cap claims a fair share; one below it keeps what it
  // sends. Only a clean window says which.
  const ticks = (second: Partial<PolicyVmInput>) => [
    (_c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 500), vm('a', sla(), 300, 400), vm('b', sla(), 1100, 1200)],
    (_c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 500), { ...vm('a', sla(), 370, 400), ...second }, vm('b', sla(), 1100, 1200)],
  ];

  it('a clean window at its cap after growing into it: held, it claims a fair share', () => {
    expect(capOf(run(ticks({})), 'a')! / M).toBeGreaterThan(600);
  });

  it.each([
    { name: 'the loop marks it unsettled', second: { settled: false } },
    { name: 'its window was far shorter than a tick', second: { windowMs: 30 } },
  ])('the same window is not taken as held when $name', ({ second }) => {
    expect(capOf(run(ticks(second)), 'a')! / M).toBeLessThan(450);
  });
});

describe('daqs policy: over several ticks', () => {
  it('gives back an idle guarantee within two ticks', () => {
    const d = run([
      ...repeat(2, (c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 500), vm('be', sla(), 1500, capM(c, 'be'))]),
      ...repeat(2, (c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 0), vm('be', sla(), 1500, capM(c, 'be'))]),
    ]);
    expect(capOf(d, 'be')!).toBeGreaterThanOrEqual(0.95 * PORT);
  });

  it('is work-conserving: a Guarantee VM that wants less than its guarantee leaves the rest to Best-Effort', () => {
    // BE sends what its cap lets through; G sends 200 whatever room it has.
    const d = run(repeat(6, (c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 200), vm('be', sla(), Math.min(1800, capM(c, 'be') ?? 1800), capM(c, 'be'))]));
    expect(d.vms[0]!.reservedBps! / M).toBeLessThan(300);
    expect(capOf(d, 'be')! / M).toBeGreaterThan(1650);
  });

  it('jumps back to the full guarantee when a demand-limited Guarantee VM fills its headroom', () => {
    const settle = repeat(6, (c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 200), vm('be', sla(), Math.min(1800, capM(c, 'be') ?? 1800), capM(c, 'be'))]);
    const before = run(settle);
    const room = before.vms[0]!.reservedBps! / M;
    const d = run([...settle, (c) => [vm('g', sla(500), room), vm('be', sla(), capM(c, 'be')!, capM(c, 'be'))]]);
    expect(d.vms[0]!.reservedBps! / M).toBeGreaterThanOrEqual(500);
    expect(capOf(d, 'be')! / M).toBeLessThanOrEqual(1500);
  });

  it('lowers its capacity estimate when a contended Guarantee VM stays short while the port carries steadily less than nominal, never below what it delivered', () => {
    // The port delivers 1880 whatever the caps: G gets what BE leaves of it.
    const d = run(repeat(6, (c: ReadonlyMap<string, number | null>) => {
      const be = Math.min(capM(c, 'be') ?? 1500, 1500);
      return [vm('g', sla(500), 1880 - be), vm('be', sla(), be, capM(c, 'be'))];
    }));
    expect(d.learnedCapacityBps / M).toBeLessThan(2000);
    expect(d.learnedCapacityBps / M).toBeGreaterThanOrEqual(1880 * 0.999);
    expect(capOf(d, 'be')! / M).toBeLessThanOrEqual(1880 - 500);
  });

  it('gives a lowering back in full when the Guarantee VM does not take the room (no ratchet)', () => {
    // G can only send 300 (of 500): room it is given stays unused.
    const d = run(repeat(12, (c: ReadonlyMap<string, number | null>) => {
      const be = Math.min(capM(c, 'be') ?? 1700, 1700);
      return [vm('g', sla(500), 300), vm('be', sla(), be, capM(c, 'be'))];
    }));
    expect(d.learnedCapacityBps).toBe(PORT);
    expect(capOf(d, 'be')! / M).toBeGreaterThan(1600);
  });

  it('probes its way back to nominal when the port can carry more', () => {
    // A low estimate to start from (as after a lowering); then every VM sends what its cap
    // allows, and G wants only 300: only probing can show the port carries more.
    const low: DaqsState = { ...policy.initState(), capacityBps: 1500 * M };
    const d = run(repeat(200, (c: ReadonlyMap<string, number | null>) => [vm('g', sla(500), 300), vm('be', sla(), capM(c, 'be') ?? 1000, capM(c, 'be'))]), low);
    expect(d.learnedCapacityBps / M).toBeGreaterThan(0.97 * 2000);
  });

  it('caps no Guarantee VM while it is the only one sending, and caps them all (never below guarantee plus headroom) while one of two is at risk', () => {
    const one = run(repeat(3, () => [vm('g1', sla(300), 1500), vm('g2', sla(400), 0), vm('be', sla(), 100)]));
    expect(capOf(one, 'g1')).toBeNull();
    const two = run(repeat(3, () => [vm('g1', sla(300), 1400), vm('g2', sla(400), 350), vm('be', sla(), 100)]));
    expect(capOf(two, 'g1')! / M).toBeGreaterThan(300);
    expect(capOf(two, 'g2')! / M).toBeGreaterThan(400);
  });

  it('learns how much of its cap a held VM really sends, and raises the cap to deliver its allocation', () => {
    // BE delivers 90% of any cap (HTB under-fill); G sends its 500 and no more.
    const d = run(repeat(15, (c: ReadonlyMap<string, number | null>) => {
      const cap = capM(c, 'be');
      const be = cap === null ? 1400 : 0.9 * cap;
      return [vm('g', sla(500), Math.min(500, 2000 - be)), vm('be', sla(), be, cap)];
    }));
    expect(0.9 * capOf(d, 'be')! / M).toBeGreaterThan(1400);
    expect(0.9 * capOf(d, 'be')! / M).toBeLessThanOrEqual(1500 + 1);
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
    capBps: r.rateFrac === null || r.capFrac === null ? null : r.capFrac * PORT,
  }));
});

describe('daqs policy: properties of a decision', () => {
  const twoTicks = fc.tuple(vmsArb, fc.double({ min: 0, max: 1.2, noNaN: true }));

  it('never caps a Guarantee VM below its guarantee, never a Best-Effort VM below the floor, and respects every maximum', () => {
    fc.assert(fc.property(twoTicks, ([vms, k]) => {
      const d1 = first(input(vms));
      const again = vms.map((v, i) => ({ ...v, rateBps: v.rateBps === null ? null : v.rateBps * k, capBps: d1.vms[i]!.capBps }));
      const d2 = policy.decide(input(again), d1.state);
      for (const d of [d1, d2]) {
        d.vms.forEach((out, i) => {
          const s = vms[i]!.sla;
          if (s.guaranteeBps > 0) {
            if (out.capBps !== null) expect(out.capBps).toBeGreaterThanOrEqual(s.guaranteeBps);
            return;
          }
          if (out.capBps === null) return;
          if (s.maxBps !== null) expect(out.capBps).toBeLessThanOrEqual(s.maxBps * (1 + 1e-9));
          if (s.maxBps === null || s.maxBps >= 0.005 * PORT) expect(out.capBps).toBeGreaterThanOrEqual(0.005 * PORT * (1 - 1e-9));
        });
      }
    }));
  });

  it('on a port every VM fills, what the Best-Effort VMs may send leaves every reservation free', () => {
    // Everybody sends more than the port: caps at first sight (fill not learned yet) are what
    // they will send at most; beyond their floors they fit into capacity minus reservations.
    fc.assert(fc.property(vmsArb, (raw) => {
      const vms = raw.map((v) => ({ ...v, rateBps: Math.max(v.rateBps ?? 0, PORT / raw.length), capBps: null }));
      const d = first(input(vms));
      const reserved = d.vms.reduce((a, v) => a + (v.reservedBps ?? 0), 0);
      const floors = vms.filter((v) => v.sla.guaranteeBps === 0).length * 0.005 * PORT;
      const be = d.vms.filter((_, i) => vms[i]!.sla.guaranteeBps === 0).reduce((a, v) => a + (v.capBps ?? 0), 0);
      expect(be).toBeLessThanOrEqual(Math.max(0, d.learnedCapacityBps - reserved) + floors + 1);
      expect(d.learnedCapacityBps).toBeLessThanOrEqual(PORT);
    }));
  });

  it('gives hungry Best-Effort VMs caps proportional to their weights', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0.1, max: 8, noNaN: true }), { minLength: 2, maxLength: 8 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (weights, guarFrac) => {
      const vms = [vm('g', sla(guarFrac * 2000), 0.5), ...weights.map((w, i) => vm(`be${i}`, sla(0, { weight: w }), 2000))];
      const d = first(input(vms));
      // Caps pinned at the floor (0.5% of the port) are the one exception to proportionality.
      const per = weights.map((w, i) => ({ cap: capOf(d, `be${i}`)!, w })).filter((x) => x.cap > 0.005 * PORT * 1.001).map((x) => x.cap / x.w);
      for (const p of per) expect(Math.abs(p / per[0]! - 1)).toBeLessThan(1e-6);
    }));
  });

  it('is pure: the same input and state give the same decision', () => {
    fc.assert(fc.property(vmsArb, (vms) => {
      const s = policy.initState();
      expect(policy.decide(input(vms), s)).toEqual(policy.decide(input(vms), s));
    }));
  });
});
