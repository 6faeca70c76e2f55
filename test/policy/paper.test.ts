import { describe, expect, it } from 'vitest';
import { paperPolicy, type PaperState } from '../../src/policy/index.ts';
import { M, PORT, input, sla, vm } from './helpers.ts';

// On the 2 Gbit/s port scale = 20: step 15 Mbit/s, thresholds 50 Mbit/s, saturation 1680 Mbit/s,
// loosen when G > 1.45 × SLA + 57.5 Mbit/s.
const policy = paperPolicy();
const G = sla(500);
const at = (agg: number | null): PaperState => ({ aggregateCapBps: agg === null ? null : agg * M });

describe('paper policy (the reference algorithm)', () => {
  it.each([
    { name: 'G under SLA, port saturated, no cap yet: starts at port speed and tightens one step', state: at(null), g: 333, be: [1667], want: 1985 },
    { name: 'G under SLA, port saturated: tightens one step', state: at(1500), g: 400, be: [1600], want: 1485 },
    { name: 'G under SLA, port below 84%: loosens one step', state: at(1500), g: 300, be: [1000], want: 1515 },
    { name: 'G between SLA and the loosen threshold: holds', state: at(1500), g: 600, be: [1400], want: 1500 },
    { name: 'G above 1.45 × SLA + 1.15 Gbit/s (paper): loosens', state: at(1500), g: 790, be: [1200], want: 1515 },
    { name: 'G idle (under 1 Gbit/s paper): lifts all caps', state: at(1500), g: 40, be: [1900], want: null },
    { name: 'cap never goes above port speed', state: at(2000), g: 300, be: [1000], want: 2000 },
    { name: 'aggregate split equally among BE VMs sending', state: at(1500), g: 600, be: [700, 700], want: 750 },
  ])('$name', ({ state, g, be, want }) => {
    const vms = [vm('g', G, g), ...be.map((r, i) => vm(`be${i}`, sla(), r, 1000))];
    const d = policy.decide(input(vms), state);
    for (let i = 0; i < be.length; i++) {
      const cap = d.vms.find((v) => v.id === `be${i}`)!.capBps;
      if (want === null) expect(cap).toBeNull();
      else expect(cap! / M).toBeCloseTo(want, 6);
    }
    expect(d.vms.find((v) => v.id === 'g')!.capBps).toBeNull();
    expect(d.learnedCapacityBps).toBe(PORT);
  });

  it('leaves a BE VM that sends under 1 Gbit/s (paper) out of the split and as it is', () => {
    const d = policy.decide(input([vm('g', G, 600), vm('a', sla(), 1300, 900), vm('b', sla(), 20, 123)]), at(1500));
    expect(d.vms.find((v) => v.id === 'a')!.capBps).toBe(1500 * M);
    expect(d.vms.find((v) => v.id === 'b')!.capBps).toBe(123 * M);
  });

  it('uses an explicit scale instead of the one derived from capacity', () => {
    const d = paperPolicy({ scale: 40 }).decide(input([vm('g', G, 400), vm('be', sla(), 1600)]), at(1500));
    expect(d.vms[1]!.capBps! / M).toBeCloseTo(1500 - 7.5, 6);
  });

  it('refuses a non-positive scale with a stable code', () => {
    expect(() => paperPolicy({ scale: 0 })).toThrow(expect.objectContaining({ code: 'E_POLICY_CONFIG' }));
  });
});
