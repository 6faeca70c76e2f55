/**
 * The daemon's endpoint pool over scripted fake agents on real unix sockets: one endpoint per
 * inventory VM, replaced when its agent or VF changes, closed when it disappears; and the
 * capability check that reports a disabled guest-exec once, without asking in a hot loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../src/agent/fake-guest.ts';
import { execBlockedHandler } from '../agent/helpers/exec-blocked.ts';
import type { Clock } from '../../src/core/types.ts';
import { EndpointPool } from '../../src/endpoint/pool.ts';
import type { InventoryVm } from '../../src/inventory/index.ts';
import { pino } from 'pino';
import { Writable } from 'node:stream';

function inventoryVm(id: string, socket: string, mac: string): InventoryVm {
  return {
    id,
    origin: 'static',
    sla: { guaranteeBps: 0, maxBps: null, weight: 1 },
    slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' },
    agent: { kind: 'unix', socket },
    status: { state: 'ready' },
    vf: { mac },
    problems: [],
  };
}

// A clock the test moves by hand, so "not again within a minute" needs no waiting.
class ManualClock implements Clock {
  now = 0;
  nowMs(): number {
    return this.now;
  }
  sleep(ms: number): Promise<void> {
    this.now += ms;
    return Promise.resolve();
  }
}

describe('EndpointPool', () => {
  let dir: string;
  let good: FakeAgent;
  let blocked: FakeAgent;
  const goodGuest = new FakeGuest([{ name: 'eth1', mac: '52:54:00:00:00:01', txBytes: 1000n }]);
  const blockedGuest = new FakeGuest([{ name: 'eth1', mac: '52:54:00:00:00:02', txBytes: 5n }]);
  const blockedRequests: string[] = [];
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, cb) { logLines.push(chunk.toString()); cb(); } }));
  const clock = new ManualClock();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'daqs-pool-'));
    good = await startFakeAgent(join(dir, 'good.sock'), goodGuest.handler);
    // An agent whose operator blocked guest-exec: guest-info says so.
    blocked = await startFakeAgent(join(dir, 'blocked.sock'), execBlockedHandler(blockedGuest, blockedRequests));
  });

  afterAll(async () => {
    await good?.close();
    await blocked?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds one endpoint per VM with an agent, keeps it across syncs, replaces it when the agent moves, drops it when the VM goes', async () => {
    const pool = new EndpointPool({ logger, clock, agentTimeoutMs: 2000 });
    const a = inventoryVm('a', good.socketPath, '52:54:00:00:00:01');
    const noAgent = { ...inventoryVm('n', '/nowhere', '52:54:00:00:00:09'), agent: null };
    const first = pool.sync([a, noAgent]);
    expect(first.map((v) => v.id)).toEqual(['a']);
    expect((await first[0]!.endpoint.readTx()).txBytes).toBe(1000n);
    const again = pool.sync([a]);
    expect(again[0]!.endpoint).toBe(first[0]!.endpoint);
    const moved = pool.sync([{ ...a, vf: { mac: '52:54:00:00:00:77' } }]);
    expect(moved[0]!.endpoint).not.toBe(first[0]!.endpoint);
    expect(pool.sync([])).toEqual([]);
    await pool.closeAll();
  });

  it('a new agent timeout rebuilds every endpoint at the next sync, and the new ones use it', async () => {
    // An agent that takes 200 ms to report the interfaces.
    const slowGuest = new FakeGuest([{ name: 'eth1', mac: '52:54:00:00:00:03', txBytes: 7n }]);
    const slow = await startFakeAgent(join(dir, 'slow.sock'), async (req) => {
      const reply = await slowGuest.handler(req);
      return req.execute === 'guest-network-get-interfaces' && reply ? { delayMs: 200, then: reply } : reply;
    });
    try {
      const pool = new EndpointPool({ logger, clock, agentTimeoutMs: 2000 });
      const vms = [inventoryVm('s', slow.socketPath, '52:54:00:00:00:03')];
      const [before] = pool.sync(vms);
      expect((await before!.endpoint.readTx()).txBytes).toBe(7n);
      pool.setAgentTimeoutMs(50);
      // The same inventory (same array): only the timeout changed.
      const [after] = pool.sync(vms);
      expect(after!.endpoint).not.toBe(before!.endpoint);
      await expect(after!.endpoint.readTx()).rejects.toMatchObject({ code: expect.stringMatching(/TIMEOUT/) });
      await pool.closeAll();
    } finally {
      await slow.close();
    }
  });

  it('keeps controlling the other VMs when one VM\'s endpoint cannot be made, and hands a renamed VM its socket', async () => {
    const pool = new EndpointPool({ logger, clock, agentTimeoutMs: 2000 });
    const a = inventoryVm('a', good.socketPath, '52:54:00:00:00:01');
    // Another owner of b's socket in this process: its client cannot be made (E_AGENT_SOCKET_OWNED).
    const holder = new EndpointPool({ logger, clock, agentTimeoutMs: 2000 });
    holder.sync([inventoryVm('holder', blocked.socketPath, '52:54:00:00:00:02')]);
    const b = inventoryVm('b', blocked.socketPath, '52:54:00:00:00:02');
    expect(pool.sync([a, b]).map((v) => v.id)).toEqual(['a']);
    expect(logLines.filter((l) => l.includes('"vm":"b"') && l.includes('E_AGENT_SOCKET_OWNED'))).toHaveLength(1);
    await holder.closeAll();
    // The same VM renamed in one pass: the old endpoint lets the socket go before the new one takes it.
    expect(pool.sync([{ ...a, id: 'a2' }]).map((v) => v.id)).toEqual(['a2']);
    await pool.closeAll();
  });

  it('refuses an agent with guest-exec disabled, reports it once, and does not ask again within a minute', async () => {
    const pool = new EndpointPool({ logger, clock, agentTimeoutMs: 2000 });
    const [vm] = pool.sync([inventoryVm('b', blocked.socketPath, '52:54:00:00:00:02')]);
    for (let i = 0; i < 5; i++) await expect(vm!.endpoint.readTx()).rejects.toMatchObject({ code: 'E_AGENT_CAPABILITY' });
    expect(blockedRequests.filter((r) => r === 'guest-info')).toHaveLength(1);
    expect(blockedRequests).not.toContain('guest-network-get-interfaces');
    expect(logLines.filter((l) => l.includes('"vm":"b"') && l.includes('cannot be used by daqs'))).toHaveLength(1);
    clock.now += 61_000;
    await expect(vm!.endpoint.applyCap(1e9)).rejects.toMatchObject({ code: 'E_AGENT_CAPABILITY' });
    expect(blockedRequests.filter((r) => r === 'guest-info')).toHaveLength(2);
    await pool.closeAll();
  });
});
