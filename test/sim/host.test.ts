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

describe('SimHost: what the emulated host shows', () => {
  it('a capped TCP sender fills only capFill of its cap, an uncapped one is not affected', async () => {
    const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 0, capFill: 0.95 });
    const a = host.addVm('a', { flows: 2 });
    host.addVm('b', { flows: 1, demandBps: 100e6 });
    await a.applyCap(400e6);
    host.advance(100);
    expect(host.rateOf('a')).toBeCloseTo(380e6, 0);
    expect(host.rateOf('b')).toBeCloseTo(100e6, 0);
  });

  it('noise is seeded: the same seed gives the same run, another seed another one', () => {
    const run = (seed: number): number[] => {
      const host = new SimHost({ capacityBps: 1e9, noiseFrac: 0.05, seed });
      host.addVm('a', { flows: 1, demandBps: 300e6 });
      host.addVm('b', { flows: 3 });
      const out: number[] = [];
      for (let i = 0; i < 10; i++) {
        host.advance(200);
        out.push(host.rateOf('a'));
      }
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    // Noise moves shares, never the port's total past what it delivers.
    const spread = run(7);
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(0);
  });

  it('applies jittered past each other land out of order: the one landing last is in force', async () => {
    // Find a seed where the first apply lands after the second (jitter 100 ms, asked 5 ms apart).
    for (let seed = 1; seed < 200; seed++) {
      const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 10, applyJitterMs: 100, seed });
      const a = host.addVm('a', { flows: 1 });
      await a.applyCap(100e6);
      host.advance(5);
      await a.applyCap(200e6);
      const shown = (await a.readCap()).capBps;
      host.advance(200);
      expect(host.capOf('a')).toBe(shown);
      if (shown === 100e6) return; // the older change won: out of order, as it can be for real
    }
    throw new Error('no seed landed the applies out of order');
  });

  it('after sitting at a tiny cap, TCP climbs back only as fast as slow start doubles it', async () => {
    const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 0, slowStartDoublingMs: 40 });
    const a = host.addVm('a', { flows: 1 });
    await a.applyCap(5e6);
    host.advance(500);
    await a.applyCap(null);
    host.advance(100);
    // 100 ms is 2.5 doublings from 5 Mbit/s: far from the port.
    expect(host.rateOf('a')).toBeLessThan(40e6);
    host.advance(400);
    expect(host.rateOf('a')).toBeGreaterThan(0.99e9);
  });

  it('a counter read can be a few ms old: rates over a window wobble, the counter never goes back', async () => {
    const host = new SimHost({ capacityBps: 1e9, readSkewMs: 10, seed: 3 });
    const a = host.addVm('a', { flows: 1 });
    let last = await a.readTx();
    const rates: number[] = [];
    for (let i = 0; i < 20; i++) {
      host.advance(200);
      const now = await a.readTx();
      expect(now.txBytes).toBeGreaterThanOrEqual(last.txBytes);
      rates.push((Number(now.txBytes - last.txBytes) * 8 * 1000) / (now.atMs - last.atMs));
      last = now;
    }
    expect(Math.max(...rates)).toBeGreaterThan(1.01e9);
    expect(Math.min(...rates)).toBeLessThan(0.99e9);
  });

  it('the oracle port keeps each Guarantee VM its rate and lends the excess', () => {
    const host = new SimHost({ capacityBps: 1e9 });
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    host.setPortScheduler(new Map([['g', 500e6]]));
    host.advance(100);
    expect(host.rateOf('g')).toBeCloseTo(500e6, 0);
    host.setTraffic('g', { flows: 1, demandBps: 200e6 });
    host.advance(100);
    expect(host.rateOf('be')).toBeCloseTo(800e6, 0);
    host.setPortScheduler(null);
    host.setTraffic('g', { flows: 1 });
    host.advance(100);
    expect(host.rateOf('g')).toBeCloseTo(1e9 / 6, 0);
  });

  it('refuses a bad host option with a stable code', () => {
    expect(() => new SimHost({ capacityBps: 1e9, capFill: 1.5 })).toThrow(expect.objectContaining({ code: 'E_SIM_BAD_OPTION' }));
    expect(() => new SimHost({ capacityBps: 1e9, noiseFrac: -1 })).toThrow(expect.objectContaining({ code: 'E_SIM_BAD_OPTION' }));
  });
});
