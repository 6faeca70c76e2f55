import { describe, expect, it } from 'vitest';
import type { TickReport, VmTickReport } from '../../src/core/types.ts';
import { TickHistory } from '../../src/server/history.ts';
import { SeqRing } from '../../src/server/ring.ts';

function vm(id: string, rateBps: number | null, extra: Partial<VmTickReport> = {}): VmTickReport {
  return {
    id,
    role: 'best-effort',
    sla: { guaranteeBps: 0, maxBps: null, weight: 1 },
    slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' },
    rateBps,
    demandBps: rateBps,
    capBps: null,
    guaranteeMet: null,
    idle: false,
    txBytes: null,
    agentRttMs: 1,
    error: null,
    ...extra,
  };
}

function tick(atEpochMs: number, vms: VmTickReport[], usedBps = 0): TickReport {
  return { tick: 0, atEpochMs, durationMs: 1, overran: false, policy: 'daqs', port: { nominalCapacityBps: 2e9, learnedCapacityBps: 1.9e9, usedBps }, vms, actions: [] };
}

describe('SeqRing', () => {
  it('keeps the newest items, numbers them, and tells a reader what it missed', () => {
    const r = new SeqRing<string>(3);
    expect(r.since(0)).toEqual({ items: [], missed: false });
    for (const s of ['a', 'b', 'c', 'd', 'e']) r.push(s);
    expect(r.toArray()).toEqual(['c', 'd', 'e']);
    expect([r.firstSeq, r.lastSeq, r.size]).toEqual([3, 5, 3]);
    expect(r.since(3)).toEqual({ items: [{ seq: 4, item: 'd' }, { seq: 5, item: 'e' }], missed: false });
    expect(r.since(2).missed).toBe(false);
    expect(r.since(1)).toMatchObject({ missed: true, items: [{ seq: 3 }, { seq: 4 }, { seq: 5 }] });
    expect(r.since(5)).toEqual({ items: [], missed: false });
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new SeqRing(0)).toThrow(RangeError);
  });
});

describe('TickHistory', () => {
  it('folds the ticks of each second into one point: mean rate, last cap, false if any tick missed', () => {
    const h = new TickHistory({ resolutionMs: 1000, windowMs: 10_000 });
    const g = { role: 'guarantee' as const, sla: { guaranteeBps: 500, maxBps: null, weight: 1 } };
    h.add(tick(10_000, [vm('a', 100), vm('g', 600, { ...g, guaranteeMet: true })], 700));
    h.add(tick(10_200, [vm('a', 300, { capBps: 250 }), vm('g', 400, { ...g, guaranteeMet: false })], 700));
    h.add(tick(10_400, [vm('a', null, { capBps: 200 }), vm('g', 600, { ...g, guaranteeMet: true })], 1000));
    expect(h.points()).toEqual([]); // the second is still open
    h.add(tick(11_000, [vm('a', 50)]));
    const [p] = h.points();
    expect(p).toMatchObject({ atEpochMs: 10_400, ticks: 3, port: { usedBps: 800, learnedCapacityBps: 1.9e9 } });
    expect(p!.vms.a).toEqual({ rateBps: 200, demandBps: 200, capBps: 200, guaranteeBps: 0, guaranteeMet: null });
    expect(p!.vms.g).toMatchObject({ rateBps: 1600 / 3, guaranteeBps: 500, guaranteeMet: false });
  });

  it('drops a VM that left during the point', () => {
    const h = new TickHistory({ resolutionMs: 1000, windowMs: 10_000 });
    h.add(tick(0, [vm('a', 1), vm('b', 1)]));
    h.add(tick(500, [vm('a', 1)]));
    h.add(tick(1000, [vm('a', 1)]));
    expect(Object.keys(h.points()[0]!.vms)).toEqual(['a']);
  });

  it('keeps only the window', () => {
    const h = new TickHistory({ resolutionMs: 1000, windowMs: 3000 });
    for (let s = 0; s <= 5; s++) h.add(tick(s * 1000, [vm('a', s)]));
    expect(h.points().map((p) => p.atEpochMs)).toEqual([2000, 3000, 4000]);
    expect(h.since(h.lastSeq - 1).items.map((x) => x.item.atEpochMs)).toEqual([4000]);
  });

  it('refuses a resolution larger than the window', () => {
    expect(() => new TickHistory({ resolutionMs: 5000, windowMs: 1000 })).toThrow(RangeError);
  });
});
