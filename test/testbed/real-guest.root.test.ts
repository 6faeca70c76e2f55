/**
 * Root tests of a real QEMU guest in the emulated host (VM 0 real, VM 1 a namespace): its
 * agent over virtio-serial reports the VF's statistics, the in-guest HTB cap set through
 * daqs' endpoint code limits what the switch counts, and `daqs run` discovers, measures and
 * caps it over its socket. Rates are judged as ratios within the run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointForTestbedVm } from '../../src/endpoint/testbed.ts';
import { fetchStatus } from '../../src/server/status-client.ts';
import { agentCall, measureRates, testbedDown, testbedUp, type TestbedHost, type TrafficHandle } from '../../src/testbed/index.ts';
import { readState } from '../../src/testbed/state.ts';
import { DEFAULT_STATE_DIR, planPaths } from '../../src/testbed/plan.ts';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.ts';
import { guestExec, okReturn, sleep, type GuestInterface } from './helpers.ts';
import { leftovers, NOTHING_LEFT } from './leaks.ts';

const NAME = 'rvq';
// Low enough that a TCG guest exceeds it twice over even on a loaded host (alone it sent 0.3-2.8 Gbit/s here).
const CAP_BPS = 150e6;

let tb: TestbedHost;
let dir: string;
let daemon: DaemonProcess | null = null;
let traffic: TrafficHandle[] = [];
let pids: number[] = [];

async function stopTraffic(): Promise<void> {
  await Promise.all(traffic.map((t) => t.stop()));
  traffic = [];
}

/** The guest's own view of its qdiscs, through the testbed's channel (tc in the guest, argv only). */
async function guestQdiscs(): Promise<string> {
  return (await guestExec(tb.guestControl(0).socket, 'tc', ['qdisc', 'show', 'dev', 'eth0'])).stdout;
}

beforeAll(async () => {
  tb = (await testbedUp({ name: NAME, vms: 2, capacityBps: 2e9, real: 1 })) as TestbedHost;
  const state = await readState(planPaths(DEFAULT_STATE_DIR, NAME, 0).stateFile);
  pids = [...(state?.qemuPids ?? []).filter((p): p is number => p !== null), ...(state?.agentPids ?? [])];
  dir = await mkdtemp(join(tmpdir(), 'daqs-real-'));
}, 240_000);

afterAll(async () => {
  await stopTraffic().catch(() => undefined);
  await daemon?.kill();
  await testbedDown(NAME);
  if (dir) await rm(dir, { recursive: true, force: true });
  // Nothing of the instance is left: no QEMU, no tap (it lived in the switch namespace), no namespace, no state.
  expect(await leftovers(NAME, pids)).toEqual(NOTHING_LEFT);
});

describe('a real QEMU guest in the emulated host', () => {
  it('is VM 0 with its own kernel, and its agent answers on the VM socket with the VF statistics', async () => {
    expect(tb.vms.map((v) => v.kind)).toEqual(['qemu', 'namespace']);
    expect(pids.length).toBe(2); // one QEMU, one qemu-ga beside the namespace VM
    const vm = tb.vms[0]!;
    const info = okReturn<{ version: string; supported_commands: { name: string; enabled: boolean }[] }>(await agentCall(vm.agentSocket, 'guest-info'));
    expect(info.supported_commands.find((c) => c.name === 'guest-exec')?.enabled).toBe(true);
    // A kernel of its own: the guest's uname is Debian's packaged kernel, not necessarily the host's.
    const osInfo = okReturn<{ 'kernel-release'?: string }>(await agentCall(vm.agentSocket, 'guest-get-osinfo'));
    expect(osInfo['kernel-release']).toMatch(/-amd64$/);

    const vf = async (): Promise<GuestInterface> => {
      const ifaces = okReturn<GuestInterface[]>(await agentCall(vm.agentSocket, 'guest-network-get-interfaces'));
      const found = ifaces.find((i) => i['hardware-address'] === vm.mac);
      if (!found?.statistics) return expect.fail(`no interface with the VF MAC ${vm.mac} and statistics: ${JSON.stringify(ifaces).slice(0, 400)}`);
      return found;
    };
    const [guest0, host0] = [await vf(), await tb.readHostTxBytes(0)];
    const h = await tb.startTraffic(0, { threads: 1, durationS: 1 });
    expect(await h.exited).toBe(0);
    await sleep(300);
    const [guest1, host1] = [await vf(), await tb.readHostTxBytes(0)];
    const guestDelta = guest1.statistics!['tx-bytes'] - guest0.statistics!['tx-bytes'];
    const hostDelta = Number(host1 - host0);
    expect(hostDelta).toBeGreaterThan(10e6); // it really sent through the tap and the switch
    expect(Math.abs(guestDelta - hostDelta) / hostDelta).toBeLessThan(0.01);
  });

  it("daqs' in-guest HTB cap limits what the switch side counts, relative to uncapped", async () => {
    const ep = endpointForTestbedVm(tb.vms[0]!, { client: { defaultTimeoutMs: 3000 }, statsTimeoutMs: 3000, tc: { timeoutMs: 5000 } });
    try {
      traffic = [await tb.startTraffic(0, { threads: 2 })];
      await sleep(1500);
      const uncapped = (await measureRates(tb, 2500)).vmRatesBps[0]!;
      await ep.applyCap(CAP_BPS);
      await sleep(1000);
      const capped = (await measureRates(tb, 2500)).vmRatesBps[0]!;
      expect((await ep.readCap()).capBps).toBe(CAP_BPS);
      await ep.applyCap(null);
      await sleep(1000);
      const lifted = (await measureRates(tb, 2500)).vmRatesBps[0]!;
      console.log(`real guest TX: uncapped ${(uncapped / 1e6).toFixed(0)} Mbit/s, capped at ${CAP_BPS / 1e6}: ${(capped / 1e6).toFixed(0)}, lifted: ${(lifted / 1e6).toFixed(0)}`);
      expect(uncapped / CAP_BPS).toBeGreaterThan(2); // the cap binds
      expect(capped / CAP_BPS).toBeGreaterThan(0.7);
      expect(capped / CAP_BPS).toBeLessThan(1.1);
      expect(lifted / capped).toBeGreaterThan(2);
      expect(await guestQdiscs()).not.toMatch(/htb/);
    } finally {
      await stopTraffic();
      await ep.close();
    }
  });

  it('daqs run discovers it, measures it over its socket and caps it in the guest; SIGTERM lifts the cap', async () => {
    const status = join(dir, 'status.sock');
    const config = join(dir, 'daqs.yaml');
    await writeFile(config, [
      'port:',
      `  testbed: ${NAME}`,
      // Under TCG the first sight of a guest (read its tc through guest-exec, then its counters)
      // took ~115 ms on an idle host and never fit the default 150 ms agent timeout under load:
      // give the emulated guest a longer tick, as a slow host would need.
      '  tickMs: 1000',
      'agent:',
      '  timeoutMs: 800',
      'policy: daqs',
      'vms:',
      `  ${tb.vms[0]!.id}:`,
      `    max: ${CAP_BPS / 1e6}mbit`,
      'daemon:',
      `  status: ${status}`,
      '  metrics:',
      `    listen: ${join(dir, 'metrics.sock')}`,
      '  logLevel: info',
      '',
    ].join('\n'));
    daemon = startDaemonProcess(config);
    traffic = [await tb.startTraffic(0, { threads: 2 })];
    let report = null;
    for (let i = 0; i < 60 && !report; i++) {
      await sleep(500);
      const s = await fetchStatus(status).catch(() => null);
      const vm = s?.latest?.vms.find((v) => v.id === tb.vms[0]!.id);
      if (vm && vm.rateBps !== null && vm.capBps !== null) report = vm;
    }
    expect(report, daemon.output.join('').slice(-3000)).not.toBeNull();
    expect(report!.agentRttMs).not.toBeNull();
    await sleep(1500);
    const w = await measureRates(tb, 2500);
    expect(w.vmRatesBps[0]! / CAP_BPS, daemon.output.join('').slice(-2000)).toBeLessThan(1.15);
    expect(w.vmRatesBps[0]! / CAP_BPS).toBeGreaterThan(0.6);
    expect(await guestQdiscs()).toMatch(/htb/);
    await stopTraffic();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited()).toBe(0);
    daemon = null;
    expect(await guestQdiscs()).not.toMatch(/htb/);
  });
});
