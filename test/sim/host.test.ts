import { describe, expect, it } from 'vitest';
import { SimClock, SimHost } from '../../src/sim/index.ts';

describe('SimClock', () => {
  it('ends sleeps in deadline order when time passes them, not before', async () => {
    const clock = new SimClock(100);
    const order: string[] = [];
    void clock.sleep(50).then(() => order.push('b'));
    void clock.sleep(20).then(() => order.push('a'));
    clock.advanceTo(115);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    clock.advanceTo(150);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['a', 'b']);
    expect(clock.nowMs()).toBe(150);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const clock = new SimClock();
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.nextTimerMs()).toBeNull();
  });
});

describe('SimHost', () => {
  it('advances byte counters with simulated time at the shared rates', async () => {
    const host = new SimHost({ capacityBps: 1e9 });
    const g = host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 3 });
    const t0 = await g.readTx();
    host.advance(1000);
    const t1 = await g.readTx();
    expect(t1.atMs - t0.atMs).toBe(1000);
    expect(Number(t1.txBytes - t0.txBytes) * 8).toBeCloseTo(0.25e9, -3);
  });

  it('applies a cap only after the apply delay, and readCap reports it', async () => {
    const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 50 });
    const be = host.addVm('be', { flows: 1 });
    await be.applyCap(300e6);
    host.advance(40);
    expect(host.capOf('be')).toBeNull();
    expect((await be.readCap()).capBps).toBe(300e6);
    host.advance(20);
    expect(host.capOf('be')).toBe(300e6);
    expect(host.rateOf('be')).toBeCloseTo(300e6, 0);
  });

  it('lets TCP grow into new room over rampMs but cuts at once', async () => {
    const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 0, rampMs: 100 });
    const be = host.addVm('be', { flows: 1 });
    host.advance(1000);
    expect(host.rateOf('be')).toBeGreaterThan(0.99e9);
    await be.applyCap(200e6);
    host.advance(10);
    expect(host.rateOf('be')).toBeCloseTo(200e6, 0);
    await be.applyCap(null);
    host.advance(10);
    expect(host.rateOf('be')).toBeLessThan(500e6);
    host.advance(1000);
    expect(host.rateOf('be')).toBeGreaterThan(0.99e9);
  });

  it('refuses a cap that tc could not install, with a stable code', async () => {
    const host = new SimHost({ capacityBps: 1e9 });
    const be = host.addVm('be', { flows: 1 });
    await expect(be.applyCap(0)).rejects.toMatchObject({ code: 'E_SIM_BAD_CAP' });
    await expect(be.applyCap(Number.NaN)).rejects.toMatchObject({ code: 'E_SIM_BAD_CAP' });
  });

  it('injects faults: throw fails at once, hang waits for the abort', async () => {
    const host = new SimHost({ capacityBps: 1e9 });
    const be = host.addVm('be', { flows: 1 });
    host.setFault('be', 'throw');
    await expect(be.readTx()).rejects.toMatchObject({ code: 'E_SIM_FAULT' });
    host.setFault('be', 'hang');
    const ac = new AbortController();
    const p = be.readTx(ac.signal);
    ac.abort(new Error('timeout'));
    await expect(p).rejects.toThrow('timeout');
    host.setFault('be', 'none');
    await expect(be.readTx()).resolves.toMatchObject({ atMs: 0 });
  });

  it('a removed VM fails with E_SIM_NO_VM; a reset counter goes back to zero', async () => {
    const host = new SimHost({ capacityBps: 1e9 });
    const a = host.addVm('a', { flows: 1 });
    host.advance(100);
    host.resetCounter('a');
    expect((await a.readTx()).txBytes).toBe(0n);
    host.removeVm('a');
    await expect(a.readTx()).rejects.toMatchObject({ code: 'E_SIM_NO_VM' });
  });
});
