/**
 * The loop's promises: faulty VMs are skipped without holding up the others, events on
 * transitions, counter resets, failed applies retried, start/stop, adopt/reset, reload.
 */
import { describe, expect, it } from 'vitest';
import type { DaemonEvent, VmEndpoint } from '../../src/core/types.ts';
import { Controller, type ControlledVm } from '../../src/controller/index.ts';
import { createPolicy, fairPolicy, type Policy } from '../../src/policy/index.ts';
import { BEST_EFFORT, SimHost, simInventory, type SimEndpoint } from '../../src/sim/index.ts';
import { guarantee, paper, PORT_BPS, TICK_MS } from './scenario.ts';

function setup(opts: { policy?: Policy; listVms?: () => ControlledVm[]; onStart?: 'adopt' | 'reset'; keepCaps?: boolean } = {}) {
  const host = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 0 });
  const events: DaemonEvent[] = [];
  const ctl = new Controller({
    policy: opts.policy ?? createPolicy('daqs'),
    capacityBps: PORT_BPS,
    tickMs: TICK_MS,
    clock: host.clock,
    listVms: opts.listVms ?? simInventory(host, { g: guarantee(paper(10)) }),
    perVmTimeoutMs: 20,
    concurrency: 4,
    epochNowMs: () => host.clock.nowMs(),
    ...(opts.onStart ? { onStart: opts.onStart } : {}),
    ...(opts.keepCaps !== undefined ? { keepCaps: opts.keepCaps } : {}),
  });
  ctl.on('event', (e) => events.push(e));
  const tick = async () => {
    host.advance(TICK_MS);
    return ctl.tickOnce();
  };
  return { host, ctl, events, tick };
}

/** A working endpoint whose applyCap fails the first `failures` times (a flaky agent). */
function flakyApply(inner: SimEndpoint, failures: number): VmEndpoint {
  let left = failures;
  return {
    id: inner.id,
    readTx: (s) => inner.readTx(s),
    readCap: (s) => inner.readCap(s),
    close: () => inner.close(),
    applyCap: (cap, s) => (left-- > 0 ? Promise.reject(Object.assign(new Error('agent busy'), { code: 'E_AGENT_BUSY' })) : inner.applyCap(cap, s)),
  };
}

describe('faulty VMs', () => {
  it.each(['throw', 'hang'] as const)('a VM whose endpoint does %s is skipped; the others are measured and capped that same tick', async (fault) => {
    const { host, tick, events } = setup();
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    host.addVm('bad', { flows: 2 });
    await tick();
    host.setFault('bad', fault);
    const r = await tick();
    const bad = r.vms.find((v) => v.id === 'bad')!;
    expect(bad.rateBps).toBeNull();
    expect(bad.error?.code).toBe(fault === 'hang' ? 'E_VM_TIMEOUT' : 'E_SIM_FAULT');
    for (const id of ['g', 'be']) expect(r.vms.find((v) => v.id === id)!.rateBps).not.toBeNull();
    expect(r.vms.find((v) => v.id === 'be')!.capBps).not.toBeNull();
    expect(events.filter((e) => e.kind === 'agent-unreachable').map((e) => e.vm)).toEqual(['bad']);
    host.setFault('bad', 'none');
    await tick();
    expect(events.filter((e) => e.kind === 'agent-recovered').map((e) => e.vm)).toEqual(['bad']);
  });

  it('the guarantee is still reached while another VM hangs every tick', async () => {
    const { host, tick } = setup();
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    host.addVm('bad', { flows: 0 });
    host.setFault('bad', 'hang');
    for (let i = 0; i < 5; i++) await tick();
    host.advance(TICK_MS);
    expect(host.rateOf('g')).toBeGreaterThanOrEqual(0.98 * paper(10));
  });

  it('a failed apply is reported and retried on the next tick', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 0 });
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    const base = simInventory(host, { g: guarantee(paper(10)) });
    const flaky = flakyApply(host.endpoint('be'), 1);
    const ctl = new Controller({ policy: createPolicy('daqs'), capacityBps: PORT_BPS, clock: host.clock, listVms: () => base().map((v) => (v.id === 'be' ? { ...v, endpoint: flaky } : v)) });
    host.advance(TICK_MS);
    const r1 = await ctl.tickOnce();
    expect(r1.actions.find((a) => a.vm === 'be')).toMatchObject({ ok: false, fromBps: null });
    expect(r1.vms.find((v) => v.id === 'be')!.capBps).toBeNull();
    host.advance(TICK_MS);
    const r2 = await ctl.tickOnce();
    expect(r2.actions.find((a) => a.vm === 'be')).toMatchObject({ ok: true, fromBps: null });
    host.advance(1);
    expect(host.capOf('be')).not.toBeNull();
  });
});

describe('measurement and events', () => {
  it('a counter reset gives no rate for that tick, then rates resume', async () => {
    const { host, tick } = setup();
    host.addVm('be', { flows: 1 });
    await tick();
    expect((await tick()).vms[0]!.rateBps).toBeGreaterThan(0);
    host.resetCounter('be');
    expect((await tick()).vms[0]!.rateBps).toBeNull();
    expect((await tick()).vms[0]!.rateBps).toBeGreaterThan(0);
  });

  it('reports VMs appearing and disappearing, and guarantee violated then restored', async () => {
    const { host, tick, events } = setup();
    host.addVm('g', { flows: 1 });
    await tick();
    host.addVm('be', { flows: 5 });
    await tick();
    await tick();
    for (let i = 0; i < 4; i++) await tick();
    host.removeVm('be');
    await tick();
    const kinds = events.map((e) => `${e.kind}:${e.vm ?? ''}`);
    expect(kinds.filter((k) => k.startsWith('vm-'))).toEqual(['vm-appeared:g', 'vm-appeared:be', 'vm-disappeared:be']);
    expect(kinds.indexOf('guarantee-violated:g')).toBeGreaterThan(-1);
    expect(kinds.indexOf('guarantee-restored:g')).toBeGreaterThan(kinds.indexOf('guarantee-violated:g'));
  });

  it('listing VMs failing keeps controlling the last known VMs', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS });
    host.addVm('be', { flows: 1 });
    const inv = simInventory(host, {});
    let fail = false;
    const ctl = new Controller({ policy: fairPolicy(), capacityBps: PORT_BPS, clock: host.clock, listVms: () => (fail ? Promise.reject(new Error('libvirt down')) : Promise.resolve(inv())) });
    await ctl.tickOnce();
    fail = true;
    host.advance(TICK_MS);
    const r = await ctl.tickOnce();
    expect(r.vms.map((v) => v.id)).toEqual(['be']);
    expect(r.vms[0]!.rateBps).toBeGreaterThan(0);
  });

  it('a policy that throws changes nothing and the loop carries on', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS });
    host.addVm('be', { flows: 1 });
    const broken: Policy = { name: 'broken', initState: () => null, decide: () => { throw new Error('bug'); } };
    const ctl = new Controller({ policy: broken, capacityBps: PORT_BPS, clock: host.clock, listVms: simInventory(host, {}) });
    const r = await ctl.tickOnce();
    expect(r.actions).toEqual([]);
    ctl.setConfig({ policy: fairPolicy() });
    host.advance(TICK_MS);
    expect((await ctl.tickOnce()).actions).toHaveLength(1);
  });
});

describe('start, stop, adopt, reset', () => {
  it.each([
    { mode: 'adopt' as const, want: 123e6 },
    { mode: 'reset' as const, want: null },
  ])('on first sight, $mode a cap left in the guest', async ({ mode, want }) => {
    const { host, ctl } = setup({ policy: { name: 'hold', initState: () => null, decide: (i) => ({ vms: i.vms.map((v) => ({ id: v.id, capBps: v.capBps, demandBps: null, reservedBps: null })), learnedCapacityBps: i.capacityBps, state: null }) }, onStart: mode });
    host.addVm('be', { flows: 1 });
    await host.endpoint('be').applyCap(123e6);
    host.advance(1);
    const r = await ctl.tickOnce();
    expect(r.vms[0]!.capBps).toBe(want);
    host.advance(1);
    expect(host.capOf('be')).toBe(want);
  });

  it('runs a tick per period from start() until stop(), then lifts the caps it set', async () => {
    const { host, ctl } = setup();
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    const ticks: number[] = [];
    ctl.on('tick', (r) => ticks.push(r.atEpochMs));
    ctl.start();
    expect(() => ctl.start()).toThrow(expect.objectContaining({ code: 'E_CONTROLLER_STATE' }));
    await host.run(2000);
    const result = await ctl.stop();
    expect(ticks.length).toBeGreaterThanOrEqual(10);
    expect(ticks.length).toBeLessThanOrEqual(11);
    ticks.slice(1).forEach((t, i) => expect(t - ticks[i]!).toBe(TICK_MS));
    expect(result.lifted).toEqual(['be']);
    host.advance(1);
    expect(host.capOf('be')).toBeNull();
    expect(ctl.latest()?.tick).toBe(ticks.length);
  });

  it('keepCaps leaves caps in place on stop', async () => {
    const { host, ctl, tick } = setup({ keepCaps: true });
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 5 });
    await tick();
    await tick();
    expect(await ctl.stop()).toEqual({ lifted: [], failed: [] });
    expect(host.capOf('be')).not.toBeNull();
  });

  it('a tick that overruns is flagged and the next one starts when it ends, never on top of it', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS });
    host.addVm('slow', { flows: 1 });
    const inner = host.endpoint('slow');
    // Reading this VM takes 300 ms of simulated time (a slow agent): every tick overruns.
    const slow: VmEndpoint = { id: 'slow', readCap: (s) => inner.readCap(s), applyCap: (c, s) => inner.applyCap(c, s), close: () => inner.close(), readTx: (s) => { host.advance(300); return inner.readTx(s); } };
    const ctl = new Controller({ policy: fairPolicy(), capacityBps: PORT_BPS, tickMs: TICK_MS, clock: host.clock, epochNowMs: () => host.clock.nowMs(), listVms: () => [{ id: 'slow', sla: BEST_EFFORT, slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' }, endpoint: slow }] });
    const reports: { at: number; dur: number; overran: boolean }[] = [];
    ctl.on('tick', (r) => reports.push({ at: r.atEpochMs, dur: r.durationMs, overran: r.overran }));
    ctl.start();
    await host.run(1500);
    await ctl.stop({ liftCaps: false });
    expect(reports.length).toBeGreaterThanOrEqual(3);
    for (const r of reports) expect(r.overran).toBe(true);
    reports.slice(1).forEach((r, i) => expect(r.at).toBeGreaterThanOrEqual(reports[i]!.at + reports[i]!.dur));
  });

  it('tickOnce during a running tick returns that tick instead of stacking another', async () => {
    const { host, ctl } = setup();
    host.addVm('be', { flows: 1 });
    const [a, b] = await Promise.all([ctl.tickOnce(), ctl.tickOnce()]);
    expect(a).toBe(b);
    expect(a.tick).toBe(1);
  });

  it('setConfig swaps the policy from the next tick; a refused update changes nothing', async () => {
    const { host, ctl, tick } = setup();
    host.addVm('be', { flows: 1 });
    await tick();
    ctl.setConfig({ policy: fairPolicy(), capacityBps: 1e9 });
    const r = await tick();
    expect(r.policy).toBe('fair');
    expect(r.port.nominalCapacityBps).toBe(1e9);
    expect(() => ctl.setConfig({ capacityBps: 2e9, tickMs: 0 })).toThrow(expect.objectContaining({ code: 'E_CONTROLLER_CONFIG' }));
    expect((await tick()).port.nominalCapacityBps).toBe(1e9);
  });

  it('setConfig onStart applies to VMs first seen after it', async () => {
    const hold: Policy = { name: 'hold', initState: () => null, decide: (i) => ({ vms: i.vms.map((v) => ({ id: v.id, capBps: v.capBps, demandBps: null, reservedBps: null })), learnedCapacityBps: i.capacityBps, state: null }) };
    const { host, ctl, tick } = setup({ policy: hold, onStart: 'adopt' });
    host.addVm('old', { flows: 1 });
    await host.endpoint('old').applyCap(123e6);
    await tick();
    ctl.setConfig({ onStart: 'reset' });
    host.addVm('new', { flows: 1 });
    await host.endpoint('new').applyCap(77e6);
    const r = await tick();
    // The VM seen before keeps the cap it adopted; the newcomer's is lifted.
    expect(r.vms.map((v) => [v.id, v.capBps])).toEqual([['old', 123e6], ['new', null]]);
  });
});
