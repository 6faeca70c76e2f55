import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { churnSchedule, MAX_BURST, type ChurnChange, type ChurnScheduleOptions } from '../../src/eval/churn.ts';
import { planSessions } from '../../src/eval/plan.ts';
import { defaultOptions } from '../../src/eval/scenarios.ts';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Replays a schedule, checking every change against the state before it; returns the senders after each. */
function replay(o: ChurnScheduleOptions, schedule: readonly ChurnChange[]): Set<number>[] {
  const on = new Set<number>();
  return schedule.map((ch, i) => {
    for (const v of ch.stop) {
      expect(on.has(v), `change ${i} stops VM ${v}, which is not sending`).toBe(true);
      on.delete(v);
    }
    for (const v of ch.start) {
      expect(on.has(v), `change ${i} starts VM ${v}, which already sends`).toBe(false);
      on.add(v);
    }
    expect(new Set([...ch.start, ...ch.stop]).size).toBe(ch.start.length + ch.stop.length);
    expect(ch.holdMs).toBeGreaterThanOrEqual(o.minGapMs);
    expect(ch.holdMs).toBeLessThanOrEqual(o.maxGapMs);
    return new Set(on);
  });
}

const arbOptions: fc.Arbitrary<ChurnScheduleOptions> = fc
  .record({ g: fc.integer({ min: 1, max: 4 }), be: fc.integer({ min: 1, max: 80 }), extra: fc.integer({ min: 1, max: 10 }), changes: fc.integer({ min: 0, max: 60 }), seed: fc.integer({ min: 0, max: 2 ** 31 }) })
  .map(({ g, be, extra, changes, seed }) => ({ gVms: range(0, g), beVms: range(g, be), changes, maxSenders: g + extra, minGapMs: 3000, maxGapMs: 6000, seed }));

describe('churnSchedule', () => {
  it('never has more than maxSenders sending, nor nobody; only idle VMs start and only senders stop', () => {
    fc.assert(fc.property(arbOptions, (o) => {
      const schedule = churnSchedule(o);
      expect(schedule).toHaveLength(o.changes + 1);
      expect(schedule[0]?.kind).toBe('begin');
      for (const [i, on] of replay(o, schedule).entries()) {
        expect(on.size, `senders after change ${i}`).toBeLessThanOrEqual(o.maxSenders);
        expect(on.size, `senders after change ${i}`).toBeGreaterThan(0);
      }
      for (const ch of schedule.slice(1)) {
        const g = (list: readonly number[]): number => list.filter((v) => o.gVms.includes(v)).length;
        // Each kind moves only its own role: BE changes never touch a Guarantee VM and vice versa.
        if (ch.kind === 'be-start') expect([g(ch.start), ch.stop.length, ch.start.length <= MAX_BURST]).toEqual([0, 0, true]);
        if (ch.kind === 'be-stop') expect([g(ch.stop), ch.start.length]).toEqual([0, 0]);
        if (ch.kind === 'g-on') expect([g(ch.start), ch.start.length, ch.stop.length]).toEqual([1, 1, 0]);
        if (ch.kind === 'g-off') expect([g(ch.stop), ch.stop.length, ch.start.length]).toEqual([1, 1, 0]);
      }
    }), { numRuns: 200 });
  });

  it('is repeatable from its seed, and another seed gives another schedule', () => {
    const o = { gVms: [0, 1, 2], beVms: range(3, 61), changes: 20, maxSenders: 10, minGapMs: 3000, maxGapMs: 6000, seed: 42 };
    expect(churnSchedule(o)).toEqual(churnSchedule({ ...o }));
    expect(churnSchedule({ ...o, seed: 43 })).not.toEqual(churnSchedule(o));
  });

  it('the default churn run exercises every kind of change, bursts of idle VMs, and many different VMs', () => {
    const o = defaultOptions('churn');
    const changes = planSessions(o)[0]?.changes ?? [];
    const kinds = churnSchedule({ gVms: [0, 1, 2], beVms: range(3, o.beVms), changes: o.changes, maxSenders: o.maxSenders, minGapMs: o.phaseSeconds * 500, maxGapMs: o.phaseSeconds * 1000, seed: o.seed }).map((c) => c.kind);
    for (const k of ['be-start', 'be-stop', 'g-off', 'g-on'] as const) expect(kinds, k).toContain(k);
    // Several idle Best-Effort VMs starting at once (the broken case) happens at least once.
    expect(changes.some((c) => c.start.filter((v) => v > 2).length >= 2 && c.phase !== undefined)).toBe(true);
    // A Guarantee VM stopping while Best-Effort VMs send: the reclaim the scenario judges.
    expect(changes.filter((c) => c.reclaim).length).toBeGreaterThanOrEqual(2);
    const started = new Set(changes.flatMap((c) => c.start.filter((v) => v > 2)));
    expect(started.size).toBeGreaterThanOrEqual(10);
  });

  it('refuses a sender limit that leaves no Best-Effort VM room', () => {
    expect(() => churnSchedule({ gVms: [0, 1], beVms: [2], changes: 1, maxSenders: 2, minGapMs: 1, maxGapMs: 2, seed: 1 })).toThrow(RangeError);
  });
});
