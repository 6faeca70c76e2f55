/**
 * The audit trail: every cap change daqs makes, wherever the loop makes it, is one log line
 * with the VM, the cap before and after, why, and whether it worked.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { VmEndpoint } from '../../src/core/types.ts';
import { Controller, type ControlledVm } from '../../src/controller/index.ts';
import type { Policy } from '../../src/policy/index.ts';
import { SimHost } from '../../src/sim/index.ts';
import { createLogger } from '../../src/util/log.ts';
import { PORT_BPS, TICK_MS } from './scenario.ts';

interface Line { level: string; op?: string; vm?: string; from?: string; to?: string; fromBps?: number | null; toBps?: number | null; reason?: string; ok?: boolean; code?: string; msg: string }

function captureLog() {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = createLogger({ level: 'info', destination: out, pretty: false, journal: false });
  const lines = (): Line[] => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
  return { logger, audit: () => lines().filter((l) => l.op === 'cap-change') };
}

/** Caps from a table the test changes between ticks; `be` gets a reason, `be2` none. */
function tablePolicy(caps: Map<string, number | null>): Policy {
  return {
    name: 'table',
    initState: () => null,
    decide: (input) => ({
      vms: input.vms.map((v) => ({ id: v.id, capBps: caps.get(v.id) ?? null, demandBps: null, reservedBps: null, ...(v.id === 'be' ? { reason: 'share' } : {}) })),
      learnedCapacityBps: input.capacityBps,
      state: null,
    }),
  };
}

describe('the cap audit log', () => {
  it('logs start-up reset, every policy change with its reason, a failed apply, and the lifts on stop', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 0 });
    host.addVm('be', { flows: 1 });
    host.addVm('be2', { flows: 1 });
    await host.endpoint('be').applyCap(123e6);
    host.advance(1);
    let failNext = false;
    const endpointOf = (id: string): VmEndpoint => {
      const inner = host.endpoint(id);
      if (id !== 'be2') return inner;
      return { id, readTx: (s) => inner.readTx(s), readCap: (s) => inner.readCap(s), close: () => inner.close(), applyCap: (cap, s) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(Object.assign(new Error('guest-exec failed'), { code: 'E_EXEC_FAILED' }));
        }
        return inner.applyCap(cap, s);
      } };
    };
    const vms: ControlledVm[] = ['be', 'be2'].map((id) => ({ id, sla: { guaranteeBps: 0, maxBps: null, weight: 1 }, slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' }, endpoint: endpointOf(id) }));
    const caps = new Map<string, number | null>([['be', 200e6], ['be2', 300e6]]);
    const { logger, audit } = captureLog();
    const ctl = new Controller({ policy: tablePolicy(caps), capacityBps: PORT_BPS, tickMs: TICK_MS, clock: host.clock, logger, listVms: () => vms, perVmTimeoutMs: 20, onStart: 'reset', epochNowMs: () => host.clock.nowMs() });
    const tick = async () => {
      host.advance(TICK_MS);
      return ctl.tickOnce();
    };

    const actions = [...(await tick()).actions];
    caps.set('be', 150e6);
    failNext = true;
    caps.set('be2', 250e6);
    actions.push(...(await tick()).actions);
    actions.push(...(await tick()).actions); // be2's failed change is retried
    const stopped = await ctl.stop();
    expect([...stopped.lifted].sort()).toEqual(['be', 'be2']);

    const lines = audit();
    expect(lines[0]).toMatchObject({ level: 'info', vm: 'be', from: '123mbit', to: 'none', reason: 'start-up reset', ok: true });
    const policyLines = lines.filter((l) => l.reason === 'share' || l.reason === 'policy');
    // One line per action the reconciler reported, with the same VM, caps and outcome.
    expect(policyLines.map((l) => [l.vm, l.fromBps, l.toBps, l.ok])).toEqual(actions.map((a) => [a.vm, a.fromBps, a.toBps, a.ok]));
    expect(policyLines.map((l) => `${l.vm} ${l.from} -> ${l.to} ${l.reason} ${l.ok}`).sort()).toEqual([
      'be 200mbit -> 150mbit share true',
      'be none -> 200mbit share true',
      'be2 300mbit -> 250mbit policy false',
      'be2 300mbit -> 250mbit policy true',
      'be2 none -> 300mbit policy true',
    ].sort());
    const failed = lines.find((l) => l.ok === false)!;
    expect(failed).toMatchObject({ level: 'warn', code: 'E_EXEC_FAILED', msg: expect.stringContaining('guest-exec failed') });
    expect(lines.filter((l) => l.reason === 'lift on stop').map((l) => `${l.vm} ${l.from} -> ${l.to}`).sort()).toEqual(['be 150mbit -> none', 'be2 250mbit -> none']);
    expect(actions.every((a) => a.reason === (a.vm === 'be' ? 'share' : 'policy'))).toBe(true);
  });

  it('logs a cap adopted at start-up as taken over, from unknown', async () => {
    const host = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 0 });
    host.addVm('be', { flows: 1 });
    await host.endpoint('be').applyCap(123e6);
    host.advance(1);
    const { logger, audit } = captureLog();
    const hold: Policy = { name: 'hold', initState: () => null, decide: (i) => ({ vms: i.vms.map((v) => ({ id: v.id, capBps: v.capBps, demandBps: null, reservedBps: null })), learnedCapacityBps: i.capacityBps, state: null }) };
    const ctl = new Controller({ policy: hold, capacityBps: PORT_BPS, tickMs: TICK_MS, clock: host.clock, logger, listVms: () => [{ id: 'be', sla: { guaranteeBps: 0, maxBps: null, weight: 1 }, slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' }, endpoint: host.endpoint('be') }], perVmTimeoutMs: 20, onStart: 'adopt', keepCaps: true });
    host.advance(TICK_MS);
    await ctl.tickOnce();
    expect(audit()).toEqual([expect.objectContaining({ level: 'info', vm: 'be', from: 'unknown', to: '123mbit', reason: expect.stringMatching(/^start-up adopt/), ok: true })]);
  });
});
