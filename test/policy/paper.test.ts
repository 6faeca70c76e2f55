import { describe, expect, it } from 'vitest';
import { paperPolicy, type PaperState, type PolicyVmInput } from '../../src/policy/index.ts';
import { input, sla } from './helpers.ts';

// The reference works in its own units on a 40 Gbit/s port; the emulated port is 2 Gbit/s
// (scale 20). It measures Gibit/s (2^30 bits) and installs caps of x × 1024 Mbit.
const SCALE = 20;
/** Emulated bit/s for a rate the reference would measure as `gib` Gibit/s. */
const gib = (x: number): number => (x * 2 ** 30) / SCALE;
/** Emulated bit/s of a cap the reference installs for `x` of its units. */
const capOf = (x: number): number => (x * 1024e6) / SCALE;
/** A guarantee written as `gbit` in the reference's config file (decimal Gbit/s, paper units). */
const g = (gbit: number) => sla((gbit * 1e3) / SCALE);
const at = (regulatedGbps: number): PaperState => ({ regulatedGbps });
const vm = (id: string, s: ReturnType<typeof sla>, rateGib: number | null, capBps: number | null = null): PolicyVmInput => ({ id, sla: s, rateBps: rateGib === null ? null : gib(rateGib), capBps });

const policy = paperPolicy();
const decide = (state: PaperState, vms: PolicyVmInput[]) => policy.decide(input(vms), state);
const cap = (d: ReturnType<typeof decide>, id: string) => d.vms.find((v) => v.id === id)!.capBps;

describe('paper policy: the reference minimum_guarantee.py, line by line', () => {
  it.each([
    { name: 'G short, no caps yet: the first short tick installs the port speed, no step', state: -1, gRate: 7, be: 30, wantRegulated: 40 },
    { name: 'G short, port at or above 0.8378 × 40 Gibit/s: tighten one 0.3 step', state: 30, gRate: 7, be: 27, wantRegulated: 29.7 },
    { name: 'G short, port below it: loosen one step', state: 30, gRate: 7, be: 26, wantRegulated: 30.3 },
    { name: 'tightening stops at 1', state: 1.2, gRate: 7, be: 30, wantRegulated: 1 },
    { name: 'loosening stops at the port speed', state: 39.9, gRate: 7, be: 20, wantRegulated: 40 },
    { name: 'G between its guarantee and 1.45 × it + 1.15: hold', state: 30, gRate: 12, be: 20, wantRegulated: 30 },
    { name: 'G above 1.45 × 10 + 1.15 and BE sending over 1: loosen', state: 30, gRate: 16, be: 20, wantRegulated: 30.3 },
    { name: 'G above it but BE under 1: hold', state: 30, gRate: 16, be: 0.9, wantRegulated: 30 },
    { name: 'G idle (under 1 Gibit/s): no caps', state: 30, gRate: 0.9, be: 30, wantRegulated: -1 },
  ])('$name', ({ state, gRate, be, wantRegulated }) => {
    const d = decide(at(state), [vm('g', g(10), gRate), vm('be', sla(), be, 123e6)]);
    expect(d.state.regulatedGbps).toBeCloseTo(wantRegulated, 9);
    // Only a BE VM sending over 1 Gibit/s is touched: one alone gets all of it.
    const want = be <= 1 ? 123e6 : wantRegulated <= 0 ? null : capOf(wantRegulated);
    if (want === null) expect(cap(d, 'be')).toBeNull();
    else expect(cap(d, 'be')!).toBeCloseTo(want, 0);
    expect(cap(d, 'g')).toBeNull();
    expect(d.learnedCapacityBps).toBe(2e9);
  });

  it('measures in Gibit/s against guarantees in Gbit/s: G at exactly 10 Gbit/s (decimal) is short of "10"', () => {
    const tenDecimalGib = 10e9 / 2 ** 30;
    const d = decide(at(30), [vm('g', g(10), tenDecimalGib), vm('be', sla(), 36)]);
    expect(d.state.regulatedGbps).toBeCloseTo(29.7, 9);
  });

  it('its 0.8378 threshold is ~0.90 of the decimal port: tightens at 0.905, loosens at 0.895', () => {
    const share = (frac: number) => (frac * 40e9) / 2 ** 30;
    const tighten = decide(at(30), [vm('g', g(15), 7), vm('be', sla(), share(0.905) - 7)]);
    const loosen = decide(at(30), [vm('g', g(15), 7), vm('be', sla(), share(0.895) - 7)]);
    expect(tighten.state.regulatedGbps).toBeCloseTo(29.7, 9);
    expect(loosen.state.regulatedGbps).toBeCloseTo(30.3, 9);
  });

  it('splits the aggregate equally among the working BE VMs and leaves the others as they are', () => {
    const d = decide(at(30), [vm('g', g(10), 12), vm('a', sla(), 20, 1e9), vm('b', sla(), 8, 1e9), vm('c', sla(), 0.5, 77e6)]);
    expect(cap(d, 'a')!).toBeCloseTo(capOf(15), 0);
    expect(cap(d, 'b')!).toBeCloseTo(capOf(15), 0);
    expect(cap(d, 'c')).toBe(77e6);
  });

  it('lifts only the working BE VMs when G goes idle; a capped BE VM under 1 Gibit/s keeps its cap', () => {
    const d = decide(at(30), [vm('g', g(10), 0.2), vm('a', sla(), 20, 1e9), vm('c', sla(), 0.5, 25e6)]);
    expect(cap(d, 'a')).toBeNull();
    expect(cap(d, 'c')).toBe(25e6);
  });

  it('sums guarantees: two Guarantee VMs together above their summed guarantees hold, even if one is short of its own', () => {
    const d = decide(at(30), [vm('g1', g(10), 15), vm('g2', g(10), 6), vm('be', sla(), 15)]);
    expect(d.state.regulatedGbps).toBe(30);
  });

  it('counts only VMs measured this tick: on the first tick (no rates) everything is idle', () => {
    const d = decide(at(30), [vm('g', g(10), null), vm('be', sla(), null, 5e8)]);
    expect(d.state.regulatedGbps).toBe(-1);
    expect(cap(d, 'be')).toBe(5e8);
  });

  it('keeps its quirk: loosening from "no caps" crosses zero into a tiny cap after four ticks', () => {
    let state = at(-1);
    const regs: number[] = [];
    let d = decide(state, []);
    for (let i = 0; i < 5; i++) {
      d = decide(state, [vm('g', g(5), 16), vm('be', sla(), 20)]);
      state = d.state;
      regs.push(Math.round(d.state.regulatedGbps * 10) / 10);
    }
    expect(regs).toEqual([-0.7, -0.4, -0.1, 0.2, 0.5]);
    expect(cap(d, 'be')!).toBeCloseTo(capOf(0.5), 0);
  });

  it('honours daqs maximums (not part of the reference): never above one, never lifted past it', () => {
    const d = decide(at(30), [vm('g', g(10), 0.2), vm('be', sla(0, { maxMbit: 300 }), 20, 1e9)]);
    expect(cap(d, 'be')).toBe(300e6);
  });

  it('uses an explicit scale instead of the one derived from capacity', () => {
    const d = paperPolicy({ scale: 40 }).decide(input([vm('g', g(10), 0.5), vm('be', sla(), 30)]), at(30));
    // At scale 40 the same emulated rates are twice as much in paper units: G is no longer idle.
    expect(d.state.regulatedGbps).not.toBe(-1);
  });

  it('refuses a non-positive scale with a stable code', () => {
    expect(() => paperPolicy({ scale: 0 })).toThrow(expect.objectContaining({ code: 'E_POLICY_CONFIG' }));
  });
});
