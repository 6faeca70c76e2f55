/**
 * Closed-loop properties of the daqs policy: the real Controller drives the fluid simulator
 * (HTB under-fill, rate noise, counter skew, apply delay and jitter, TCP ramp and slow start,
 * a port that delivers less than nominal) over random scenarios. Every oracle comes from the
 * scenario itself: the port's real capacity, each VM's real demand, never from the policy's
 * own estimates. Runs are seeded, so a failure replays.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPolicy } from '../../src/policy/index.ts';
import { makeRig, mean, type Rig, type SimHostOptions, type SimTraffic } from '../../src/sim/index.ts';
import type { Sla } from '../../src/core/types.ts';

const PORT = 2e9;
/** The floor no Best-Effort cap may go under: 0.5% of the nominal port (the figure). */
const FLOOR_BPS = 0.005 * PORT;

interface VmSpec {
  readonly id: string;
  readonly sla: Sla;
  readonly traffic: SimTraffic;
}

/** What one VM would send on an empty port: the scenario's truth. */
function demandOf(t: SimTraffic): number {
  if (t.flows <= 0) return 0;
  return Math.min(t.flows * (t.perFlowLimitBps ?? Infinity), t.demandBps ?? Infinity, PORT);
}

/** The host's physics, drawn at random within what the emulated host shows. */
const hostArb: fc.Arbitrary<Partial<SimHostOptions>> = fc.record({
  efficiency: fc.double({ min: 0.9, max: 1, noNaN: true }),
  capFill: fc.double({ min: 0.9, max: 1, noNaN: true }),
  noiseFrac: fc.double({ min: 0, max: 0.02, noNaN: true }),
  readSkewMs: fc.integer({ min: 0, max: 5 }),
  applyDelayMs: fc.integer({ min: 5, max: 60 }),
  applyJitterMs: fc.integer({ min: 0, max: 60 }),
  rampMs: fc.integer({ min: 20, max: 80 }),
  slowStartDoublingMs: fc.integer({ min: 10, max: 40 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

/** Traffic of a Best-Effort VM: 0-4 flows, some limited by iperf -b. */
const beTrafficArb: fc.Arbitrary<SimTraffic> = fc.record({
  flows: fc.integer({ min: 0, max: 4 }),
  demandBps: fc.option(fc.double({ min: 0.01 * PORT, max: PORT, noNaN: true }), { nil: null }),
});

/** Best-Effort VMs: usually a few, sometimes up to 60 (the many-VM case). */
const besArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(beTrafficArb, { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(beTrafficArb, { minLength: 20, maxLength: 60 }) },
).chain((ts) => fc.tuple(fc.constant(ts), fc.array(fc.double({ min: 0.5, max: 4, noNaN: true }), { minLength: ts.length, maxLength: ts.length })));

/**
 * 1-3 Guarantee VMs. Guarantees fit the port the host really delivers (admission), with the
 * Best-Effort floors and a margin left over; demands are their own (flows × per-flow ceiling).
 */
function guaranteesArb(beCount: number, efficiency: number, count: { min: number; max: number }): fc.Arbitrary<{ g: number; flows: number; perFlowBps: number }[]> {
  const room = Math.max(0.05, 0.85 * efficiency - beCount * 0.005 - 0.02);
  return fc.array(fc.record({ share: fc.double({ min: 0.1, max: 1, noNaN: true }), flows: fc.integer({ min: 1, max: 4 }), perFlowFrac: fc.double({ min: 0.1, max: 0.6, noNaN: true }) }), { minLength: count.min, maxLength: count.max })
    .map((gs) => {
      const sum = gs.reduce((a, x) => a + x.share, 0);
      return gs.map((x) => ({ g: (x.share / Math.max(1, sum)) * room * PORT, flows: x.flows, perFlowBps: x.perFlowFrac * PORT }));
    });
}

interface Scenario {
  readonly host: Partial<SimHostOptions>;
  readonly gs: readonly VmSpec[];
  readonly bes: readonly VmSpec[];
}

/** Scenarios with `count` Guarantee VMs. */
const scenarioArb = (count: { min: number; max: number }): fc.Arbitrary<Scenario> => fc.tuple(hostArb, besArb).chain(([host, [beTraffic, weights]]) =>
  guaranteesArb(beTraffic.length, host.efficiency ?? 1, count).map((gs) => ({
    host,
    gs: gs.map((x, i) => ({ id: `g${i}`, sla: { guaranteeBps: x.g, maxBps: null, weight: 1 }, traffic: { flows: x.flows, perFlowLimitBps: x.perFlowBps } })),
    bes: beTraffic.map((t, i) => ({ id: `be${String(i).padStart(2, '0')}`, sla: { guaranteeBps: 0, maxBps: null, weight: weights[i]! }, traffic: t })),
  })),
);

function rigFor(s: Scenario): Rig {
  const slas = Object.fromEntries([...s.gs, ...s.bes].map((v) => [v.id, v.sla]));
  return makeRig(createPolicy('daqs'), slas, { capacityBps: PORT, ...s.host });
}

/** First tick from `from` at which series stays >= threshold for `hold` ticks; null if never before `to`. */
function heldFrom(series: readonly number[], from: number, to: number, threshold: number, hold: number): number | null {
  for (let i = from; i + hold <= to; i++) if (series.slice(i, i + hold).every((v) => v >= threshold)) return i - from;
  return null;
}

/** (a): ticks until the Guarantee VM `pick` starting after 6 s holds 0.95 x min(guarantee, demand) for a second. */
async function ticksToGuarantee(s: Scenario, pick: number): Promise<number | null> {
  const rig = rigFor(s);
  const starter = s.gs[pick % s.gs.length]!;
  for (const v of [...s.gs, ...s.bes]) rig.host.addVm(v.id, v.id === starter.id ? { ...v.traffic, flows: 0 } : v.traffic);
  await rig.run(30);
  rig.host.setTraffic(starter.id, starter.traffic);
  const t0 = rig.totals.length;
  await rig.run(20);
  const target = Math.min(starter.sla.guaranteeBps, demandOf(starter.traffic));
  return heldFrom(rig.rates.get(starter.id)!, t0, t0 + 20, 0.95 * target, 5);
}

/** (b): steady-state total over min(what the port really delivers, total demand). */
async function steadyUtilization(s: Scenario): Promise<number> {
  const rig = rigFor(s);
  for (const v of [...s.gs, ...s.bes]) rig.host.addVm(v.id, v.traffic);
  await rig.run(60);
  const realBps = PORT * (s.host.efficiency ?? 1);
  const demandBps = [...s.gs, ...s.bes].reduce((a, v) => a + demandOf(v.traffic), 0);
  return mean(rig.totals, 30, 60) / Math.min(realBps, demandBps);
}

/** (c): the lowest Best-Effort cap set while the VMs start, then half stop and half send more. */
async function lowestBestEffortCap(s: Scenario): Promise<number> {
  const rig = rigFor(s);
  for (const v of [...s.gs, ...s.bes]) rig.host.addVm(v.id, v.traffic);
  const beIds = new Set(s.bes.map((v) => v.id));
  let lowest = Infinity;
  rig.ctl!.on('tick', (r) => {
    for (const a of r.actions) if (beIds.has(a.vm) && a.toBps !== null) lowest = Math.min(lowest, a.toBps);
  });
  await rig.run(20);
  s.bes.forEach((v, i) => rig.host.setTraffic(v.id, i % 2 === 0 ? { flows: 0 } : { flows: v.traffic.flows + 1 }));
  await rig.run(20);
  return lowest;
}

/** (d): a Guarantee VM's throughput after its per-flow ceiling rises by `factor`, over before, up to its guarantee. */
async function afterRaise(s: Scenario, pick: number, factor: number): Promise<{ was: number; now: number; owed: number }> {
  const rig = rigFor(s);
  const g = s.gs[pick % s.gs.length]!;
  for (const v of [...s.gs, ...s.bes]) rig.host.addVm(v.id, v.traffic);
  await rig.run(40);
  const t1 = rig.totals.length;
  rig.host.setTraffic(g.id, { flows: g.traffic.flows, perFlowLimitBps: g.traffic.perFlowLimitBps! * factor });
  await rig.run(40);
  const series = rig.rates.get(g.id)!;
  const was = mean(series, t1 - 15, t1);
  return { was, now: mean(series, t1 + 25, t1 + 40), owed: Math.min(was, g.sla.guaranteeBps) };
}

/** Property runs are seeded: the same inputs every run, so a failure is a fact, not noise. */
const RUNS = { seed: 20240607, numRuns: 25, endOnFailure: true };
const ONE_G = scenarioArb({ min: 1, max: 1 });
const SEVERAL_G = scenarioArb({ min: 2, max: 3 });

/**
 * Scenarios with several Guarantee VMs: the share of `samples` seeded random scenarios for
 * which `meets` holds (every one must also pass `bound`, a looser limit).
 */
async function shareMeeting<T>(arb: fc.Arbitrary<T>, samples: number, run: (x: T) => Promise<{ meets: boolean; bound: boolean; detail: string }>): Promise<number> {
  let met = 0;
  for (const x of fc.sample(arb, { seed: RUNS.seed, numRuns: samples })) {
    const r = await run(x);
    expect(r.bound, r.detail).toBe(true);
    if (r.meets) met++;
  }
  return met / samples;
}

describe('daqs in closed loop over random scenarios (real Controller, simulated host)', () => {
  describe('one Guarantee VM, 1-60 Best-Effort VMs: every scenario', () => {
    it('(a) within 3 ticks of the Guarantee VM starting, it holds >= 0.95 x min(guarantee, demand)', async () => {
      await fc.assert(fc.asyncProperty(ONE_G, async (s) => {
        const at = await ticksToGuarantee(s, 0);
        expect(at, 'never reached 0.95 of its target').not.toBeNull();
        expect(at!).toBeLessThanOrEqual(3);
      }), RUNS);
    }, 120_000);

    it('(b) in steady state the port carries >= 0.97 x min(what it really delivers, total demand)', async () => {
      await fc.assert(fc.asyncProperty(ONE_G, async (s) => {
        expect(await steadyUtilization(s)).toBeGreaterThanOrEqual(0.97);
      }), RUNS);
    }, 120_000);

    it('(c) no Best-Effort cap is ever set below 0.5% of the nominal port', async () => {
      await fc.assert(fc.asyncProperty(ONE_G, async (s) => {
        expect(await lowestBestEffortCap(s)).toBeGreaterThanOrEqual(FLOOR_BPS * (1 - 1e-9));
      }), RUNS);
    }, 120_000);

    // Above its guarantee a Guarantee VM's traffic is best-effort: it shares what the others
    // leave, which moves with them. What raising its demand must never cost it is what it had
    // up to its guarantee. (Rates wobble by the host's noise: 2% is that, no more.)
    it('(d) raising the Guarantee VM\'s demand never lowers its throughput (up to its guarantee)', async () => {
      await fc.assert(fc.asyncProperty(ONE_G, fc.double({ min: 1.1, max: 3, noNaN: true }), async (s, factor) => {
        const r = await afterRaise(s, 0, factor);
        expect(r.now).toBeGreaterThanOrEqual(0.98 * r.owed);
      }), RUNS);
    }, 120_000);
  });

  // With several Guarantee VMs the policy also has to tell which one's excess to cap and
  // learn the port with none of them uncapped; in a minority of random scenarios that takes
  // longer than the targets (docs/controller.md, known limits). Asserted: every scenario within
  // a looser bound, and most within the target; (c) and (d) in every scenario.
  describe('2-3 Guarantee VMs, 1-60 Best-Effort VMs', () => {
    const SAMPLES = 24;

    it('(a) a Guarantee VM that starts holds >= 0.95 x min(guarantee, demand) within 10 ticks always, within 3 mostly', async () => {
      const share = await shareMeeting(fc.tuple(SEVERAL_G, fc.nat()), SAMPLES, async ([s, pick]) => {
        const at = await ticksToGuarantee(s, pick);
        return { meets: at !== null && at <= 3, bound: at !== null && at <= 10, detail: `reached at tick ${at}` };
      });
      console.log(`(a), several Guarantee VMs: ${Math.round(share * 100)}% of ${SAMPLES} scenarios within 3 ticks`);
      expect(share).toBeGreaterThanOrEqual(0.7);
    }, 180_000);

    it('(b) the port carries >= 0.93 x min(capacity, demand) always, >= 0.97 mostly', async () => {
      const share = await shareMeeting(SEVERAL_G, SAMPLES, async (s) => {
        const u = await steadyUtilization(s);
        return { meets: u >= 0.97, bound: u >= 0.93, detail: `utilization ${u.toFixed(3)} of min(capacity, demand)` };
      });
      console.log(`(b), several Guarantee VMs: ${Math.round(share * 100)}% of ${SAMPLES} scenarios at >= 0.97`);
      expect(share).toBeGreaterThanOrEqual(0.8);
    }, 180_000);

    it('(c) no Best-Effort cap below 0.5% of the nominal port', async () => {
      await fc.assert(fc.asyncProperty(SEVERAL_G, async (s) => {
        expect(await lowestBestEffortCap(s)).toBeGreaterThanOrEqual(FLOOR_BPS * (1 - 1e-9));
      }), RUNS);
    }, 120_000);

    it('(d) raising a Guarantee VM\'s demand never lowers its throughput (up to its guarantee)', async () => {
      await fc.assert(fc.asyncProperty(SEVERAL_G, fc.nat(), fc.double({ min: 1.1, max: 3, noNaN: true }), async (s, pick, factor) => {
        const r = await afterRaise(s, pick, factor);
        expect(r.now).toBeGreaterThanOrEqual(0.98 * r.owed);
      }), RUNS);
    }, 120_000);
  });
});
