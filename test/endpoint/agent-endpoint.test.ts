import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentVmEndpoint } from '../../src/endpoint/agent-endpoint.ts';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../src/agent/fake-guest.ts';
import { QgaClient } from '../../src/agent/qga-client.ts';

// The endpoint's bookkeeping (VF by MAC, no exec for a repeated cap, drift repair) over a
// scripted guest; the same paths against real qemu-ga and tc are in endpoint.root.test.ts.
describe('AgentVmEndpoint over a fake guest', () => {
  let dir: string;
  let agent: FakeAgent;
  let ep: AgentVmEndpoint;
  const guest = new FakeGuest([
    { name: 'lo', mac: '00:00:00:00:00:00', txBytes: 5n },
    { name: 'ens7', mac: '52:54:00:aa:bb:07', txBytes: 2n ** 62n },
    { name: 'docker0', mac: '02:42:00:00:00:01', txBytes: 9n },
  ]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agep-'));
    agent = await startFakeAgent(join(dir, 'qga'), guest.handler);
    ep = new AgentVmEndpoint({ id: 'vm7', agent: new QgaClient({ socketPath: agent.socketPath, vm: 'vm7', defaultTimeoutMs: 3000 }), iface: { mac: '52:54:00:AA:BB:07' }, tc: { timeoutMs: 5000 } });
  });
  afterAll(async () => {
    await ep?.close();
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the counter of the interface with the VF MAC, exactly', async () => {
    expect((await ep.readTx()).txBytes).toBe(2n ** 62n);
  });

  it('applies a cap on that interface once, and a repeat runs nothing in the guest', async () => {
    await ep.applyCap(700e6);
    expect(guest.capOf('ens7')).toBe(700e6);
    const execs = guest.execCount;
    await ep.applyCap(700e6);
    expect(guest.execCount).toBe(execs);
    await ep.applyCap(800e6);
    expect(guest.capOf('ens7')).toBe(800e6);
    expect(guest.execCount).toBe(execs + 1);
  });

  it('reports drift and repairs it on the next apply', async () => {
    guest.deleteRootQdisc('ens7');
    expect(await ep.readCap()).toMatchObject({ capBps: null, detail: expect.stringMatching(/^ens7: no daqs qdisc/) });
    await ep.applyCap(800e6);
    expect(guest.capOf('ens7')).toBe(800e6);
    expect((await ep.readCap()).capBps).toBe(800e6);
  });

  it('lifts the cap', async () => {
    await ep.applyCap(null);
    expect(guest.capOf('ens7')).toBeNull();
    expect((await ep.readCap()).capBps).toBeNull();
  });
});

describe('AgentVmEndpoint when the VF is renamed in the guest', () => {
  it('finds the interface again by MAC after a failed apply', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agep-'));
    const guest = new FakeGuest([{ name: 'eth0', mac: '52:54:00:00:00:01', txBytes: 0n }]);
    const agent = await startFakeAgent(join(dir, 'qga'), guest.handler);
    const ep = new AgentVmEndpoint({ id: 'vm1', agent: new QgaClient({ socketPath: agent.socketPath, vm: 'vm1', defaultTimeoutMs: 3000 }), iface: { mac: '52:54:00:00:00:01' }, tc: { timeoutMs: 5000 } });
    try {
      await ep.applyCap(100e6);
      const vf = guest.interfaces[0];
      if (!vf) throw new Error('no interface');
      vf.name = 'ens3';
      await expect(ep.applyCap(200e6)).rejects.toMatchObject({ code: 'E_EXEC_FAILED', message: expect.stringMatching(/Cannot find device "eth0"/) });
      await ep.applyCap(200e6);
      expect(guest.capOf('ens3')).toBe(200e6);
    } finally {
      await ep.close();
      await agent.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
