/**
 * The loop against the fluid simulator: the paper's contention and adaptability scenarios at
 * the emulated scale (2 Gbit/s standing for 40), with TCP ramp and apply delay. Tick counts
 * asserted here are the ones docs/controller.md claims.
 */
import { describe, expect, it } from 'vitest';
import { GUARANTEE_MET_FRAC } from '../../src/core/guarantee.ts';
import { createPolicy } from '../../src/policy/index.ts';
import { SimHost } from '../../src/sim/index.ts';
import { PORT_BPS, cov, guarantee, makeRig, mean, paper, ticksUntilHeld } from './scenario.ts';

/** daqs reaches (and holds) the guarantee-met level, 0.95 of min(guarantee, demand) as evaluation.md and core/guarantee.ts define it, within this many ticks of contention. */
const REACTION_TICKS = 3;
/** daqs gives the port back (BE >= 0.95 of what the port delivers) within this many ticks. */
const RECLAIM_TICKS = 4;

const G_DEMAND = paper(18.5);

async function contention(policyName: string, guaranteePaperGbit: number, efficiency: number) {
  const rig = makeRig(createPolicy(policyName), { g: guarantee(paper(guaranteePaperGbit)) }, { efficiency });
  rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
  rig.host.addVm('be', { flows: 5 });
  await rig.run(60);
  const g = rig.rates.get('g')!;
  const target = Math.min(paper(guaranteePaperGbit), G_DEMAND);
  const reaction = ticksUntilHeld(g, 0, 60, GUARANTEE_MET_FRAC * target);
  const stability = cov(g, 30, 60);
  const attainment = mean(g, 30, 60) / target;
  rig.host.setTraffic('g', { flows: 0 });
  await rig.run(30);
  const reclaim = ticksUntilHeld(rig.totals, 60, 90, 0.95 * PORT_BPS * efficiency);
  return { reaction, stability, attainment, reclaim };
}

describe('contention (paper Fig. 3) in the simulator', () => {
  it('without control the Guarantee VM (1 flow) misses 10 Gbit/s against 5 flows', () => {
    const host = new SimHost({ capacityBps: PORT_BPS });
    host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
    host.addVm('be', { flows: 5 });
    host.advance(1000);
    expect(host.rateOf('g')).toBeLessThan(0.7 * paper(10));
  });

  it.each([
    { g: 10, efficiency: 1 },
    { g: 15, efficiency: 1 },
    { g: 10, efficiency: 0.94 },
    { g: 15, efficiency: 0.94 },
  ])('daqs holds $g Gbit/s (port delivers $efficiency of nominal): reaction, stability, reclaim', async ({ g, efficiency }) => {
    const r = await contention('daqs', g, efficiency);
    expect(r.reaction).not.toBeNull();
    expect(r.reaction!).toBeLessThanOrEqual(REACTION_TICKS);
    expect(r.attainment).toBeGreaterThanOrEqual(0.98);
    expect(r.stability).toBeLessThanOrEqual(0.05);
    expect(r.reclaim).not.toBeNull();
    expect(r.reclaim!).toBeLessThanOrEqual(RECLAIM_TICKS);
  });

  // At 94% delivery the port's capacity is unknown when both start: the lowering the Guarantee
  // VM does not use is given back in full, and it is squeezed for a few ticks until that shows
  // (docs/controller.md, known limits): 8 ticks measured, against 2 at full delivery.
  it.each([
    { efficiency: 1, reactionTicks: REACTION_TICKS },
    { efficiency: 0.94, reactionTicks: 10 },
  ])('a guarantee above what the VM can send (20 > 18.5 Gbit/s) gives it its whole demand and leaves BE the rest (port delivers $efficiency)', async ({ efficiency, reactionTicks }) => {
    const rig = makeRig(createPolicy('daqs'), { g: guarantee(paper(20)) }, { efficiency });
    rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
    rig.host.addVm('be', { flows: 5 });
    await rig.run(60);
    expect(ticksUntilHeld(rig.rates.get('g')!, 0, 60, GUARANTEE_MET_FRAC * G_DEMAND)!).toBeLessThanOrEqual(reactionTicks);
    // Not a ratchet: the port carries what the Guarantee VM cannot use, less its headroom.
    expect(mean(rig.totals, 30, 60)).toBeGreaterThanOrEqual(0.97 * PORT_BPS * efficiency);
    // When it stops, nobody can pay for an overestimate: the whole port goes back at once.
    rig.host.setTraffic('g', { flows: 0 });
    await rig.run(30);
    expect(ticksUntilHeld(rig.totals, 60, 90, 0.95 * PORT_BPS * efficiency)!).toBeLessThanOrEqual(RECLAIM_TICKS);
  });

  it.each([
    { policy: 'daqs', efficiency: 1 },
    { policy: 'daqs', efficiency: 0.94 },
  ])('$policy: a Guarantee VM that starts while BE has the port reaches its guarantee within the reaction ticks (port delivers $efficiency)', async ({ policy, efficiency }) => {
    const rig = makeRig(createPolicy(policy), { g: guarantee(paper(15)) }, { efficiency });
    rig.host.addVm('g', { flows: 0, perFlowLimitBps: G_DEMAND });
    rig.host.addVm('be', { flows: 5 });
    await rig.run(20);
    // Alone, BE gets all but the headroom kept for the idle Guarantee VM.
    expect(mean(rig.totals, 10, 20)).toBeGreaterThanOrEqual(0.93 * PORT_BPS * efficiency);
    rig.host.setTraffic('g', { flows: 1, perFlowLimitBps: G_DEMAND });
    await rig.run(40);
    expect(ticksUntilHeld(rig.rates.get('g')!, 20, 60, GUARANTEE_MET_FRAC * paper(15))!).toBeLessThanOrEqual(REACTION_TICKS);
  });

  it('the paper policy, driven by the same loop, is much slower to reach the guarantee', async () => {
    const ours = await contention('daqs', 10, 1);
    const ref = await contention('paper', 10, 1);
    expect(ref.reaction === null || ref.reaction >= 5 * Math.max(1, ours.reaction!)).toBe(true);
    // Its fixed steps do get there eventually at 10 Gbit/s (33 steps of 0.3 Gbit/s).
    expect(ref.reaction).not.toBeNull();
  });
});

describe('adaptability (paper Fig. 4) in the simulator', () => {
  it('daqs holds 10 Gbit/s with high utilization while 7 Best-Effort VMs start one by one', async () => {
    const rig = makeRig(createPolicy('daqs'), { g: guarantee(paper(10)) }, { efficiency: 0.94 });
    rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
    for (let i = 1; i <= 7; i++) rig.host.addVm(`be${i}`, { flows: 0 });
    const phase = 25;
    await rig.run(phase);
    for (let k = 1; k <= 7; k++) {
      const t0 = rig.totals.length;
      rig.host.setTraffic(`be${k}`, { flows: 2 });
      await rig.run(phase);
      const g = rig.rates.get('g')!;
      expect(ticksUntilHeld(g, t0, t0 + phase, GUARANTEE_MET_FRAC * paper(10))).not.toBeNull();
      expect(ticksUntilHeld(g, t0, t0 + phase, GUARANTEE_MET_FRAC * paper(10))!).toBeLessThanOrEqual(REACTION_TICKS);
      expect(mean(rig.totals, t0 + 10, t0 + phase)).toBeGreaterThanOrEqual(0.95 * PORT_BPS * 0.94);
    }
  });
});
