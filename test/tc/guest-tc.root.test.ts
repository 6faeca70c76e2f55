import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QgaClient } from '../../src/agent/qga-client.ts';
import { GuestExecTcRunner } from '../../src/endpoint/guest-exec-tc.ts';
import { GuestTc } from '../../src/tc/guest-tc.ts';
import { runChecked, runCommand } from '../../src/util/exec.ts';
import { startNetnsAgent, type NetnsAgent } from '../agent/helpers/netns-agent.ts';

// Real qemu-ga in a namespace runs real tc: the create/change/lift/drift logic against iproute2 6.1.
describe('GuestTc through a real qemu-ga', () => {
  let ns: NetnsAgent;
  let agent: QgaClient;
  let tc: GuestTc;

  beforeAll(async () => {
    ns = await startNetnsAgent('tc');
    agent = new QgaClient({ socketPath: ns.socketPath, vm: 'ag-tc', defaultTimeoutMs: 900 });
    tc = new GuestTc(new GuestExecTcRunner(agent));
  });
  afterAll(async () => {
    await agent?.close();
    await ns?.cleanup();
  });

  const hostTc = (...args: string[]): Promise<string> => runChecked(['tc', ...args], { netns: ns.netns });

  it('installs, changes in place, skips a repeat, detects drift and lifts', async () => {
    expect((await tc.readCap(ns.iface)).capBps).toBeNull();
    expect(await tc.applyCap(ns.iface, 300e6)).toBe('created');
    expect((await tc.readCap(ns.iface)).capBps).toBe(300e6);
    expect(await hostTc('class', 'show', 'dev', ns.iface)).toMatch(/rate 300Mbit ceil 300Mbit burst 75000b/);

    // Traffic through the qdisc, so its Sent counter shows whether the qdisc survived the change.
    // iperf2 UDP needs no server to send; it then waits for a report that never comes, hence the kill.
    await runCommand(['iperf', '-u', '-c', ns.peerIp, '-t', '0.2', '-b', '10M'], { netns: ns.netns, timeoutMs: 700 }).catch(() => undefined);
    const before = (await tc.readCap(ns.iface)).qdiscSentBytes ?? 0n;
    expect(before).toBeGreaterThan(0n);
    expect(await tc.applyCap(ns.iface, 40e9)).toBe('changed');
    const after = await tc.readCap(ns.iface);
    expect(after.capBps).toBe(40e9);
    expect(after.qdiscSentBytes ?? 0n).toBeGreaterThanOrEqual(before);
    expect(await tc.applyCap(ns.iface, 40e9)).toBe('unchanged');

    // The guest removes the cap behind daqs' back: readback reports it and the next apply repairs it.
    await hostTc('qdisc', 'del', 'dev', ns.iface, 'root');
    const drift = await tc.readCap(ns.iface);
    expect(drift.capBps).toBeNull();
    expect(drift.detail).toMatch(/no daqs qdisc/);
    expect(await tc.applyCap(ns.iface, 40e9)).toBe('created');
    expect((await tc.readCap(ns.iface)).capBps).toBe(40e9);

    // Only the class deleted: the qdisc is kept and the class re-created.
    await hostTc('class', 'del', 'dev', ns.iface, 'classid', 'dac5:1');
    tc.forget();
    expect(await tc.applyCap(ns.iface, 1e9)).toBe('created');
    expect((await tc.readCap(ns.iface)).capBps).toBe(1e9);

    expect(await tc.applyCap(ns.iface, null)).toBe('lifted');
    expect((await tc.readCap(ns.iface)).capBps).toBeNull();
    tc.forget();
    expect(await tc.applyCap(ns.iface, null)).toBe('lifted');
  });

  it('leaves a qdisc it does not own in place when lifting', async () => {
    await hostTc('qdisc', 'replace', 'dev', ns.iface, 'root', 'handle', '1:', 'tbf', 'rate', '1mbit', 'burst', '10k', 'latency', '10ms');
    tc.forget();
    expect(await tc.applyCap(ns.iface, null)).toBe('lifted');
    expect(await hostTc('qdisc', 'show', 'dev', ns.iface)).toMatch(/qdisc tbf 1: root/);
    await hostTc('qdisc', 'del', 'dev', ns.iface, 'root');
  });

  it('reports a tc failure with stderr as E_EXEC_FAILED', async () => {
    await expect(tc.applyCap('nosuch0', 1e9)).rejects.toMatchObject({ code: 'E_EXEC_FAILED', message: expect.stringMatching(/Cannot find device "nosuch0"/) });
  });
});
