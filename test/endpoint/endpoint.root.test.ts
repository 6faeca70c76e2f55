/**
 * The agent path end to end on the emulated host: real qemu-ga in each VM namespace, real tc,
 * real iperf2 TCP. Every throughput check is a ratio within this run (the machine is shared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentVmEndpoint } from '../../src/endpoint/agent-endpoint.ts';
import { AgentTxSource } from '../../src/endpoint/agent-tx-source.ts';
import { endpointForTestbedVm, hostCountedEndpointForTestbedVm } from '../../src/endpoint/testbed.ts';
import { checkCapabilities } from '../../src/agent/capabilities.ts';
import { testbedUp, type Testbed, type TrafficHandle } from '../../src/testbed/index.ts';
import { RateMeter, HostTxSource } from '../../src/telemetry/sources.ts';
import { runChecked } from '../../src/util/exec.ts';
import { requireRoot } from '../agent/helpers/netns-agent.ts';

const NAME = 'agr';
const WARMUP_MS = 1000;
const WINDOW_MS = 2000;
let tb: Testbed;
let ep: AgentVmEndpoint;
let hostEp: AgentVmEndpoint;
let traffic: TrafficHandle | null = null;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  requireRoot();
  tb = await testbedUp({ name: NAME, vms: 2, capacityBps: 2e9 });
  const vm0 = tb.vms[0];
  const vm1 = tb.vms[1];
  if (!vm0 || !vm1) throw new Error('testbed has fewer than 2 VMs');
  ep = endpointForTestbedVm(vm0, { client: { defaultTimeoutMs: 900 } });
  hostEp = hostCountedEndpointForTestbedVm(tb, vm1, { client: { defaultTimeoutMs: 900 } });
});

afterAll(async () => {
  await traffic?.stop().catch(() => undefined);
  await ep?.applyCap(null).catch(() => undefined);
  await ep?.close();
  await hostEp?.close();
  await tb?.down();
});

// Rate of VM 0 over one window, from the switch-side counter (the trusted view).
async function vm0RateBps(): Promise<number> {
  const meter = new RateMeter(new HostTxSource('vm0', tb, 0));
  await meter.sample();
  await sleep(WINDOW_MS);
  const r = await meter.sample();
  if (r.rateBps === null) throw new Error(`no rate: ${r.status}`);
  return r.rateBps;
}

describe('agent endpoint on the emulated host', () => {
  it('the real agent has everything daqs needs', async () => {
    const caps = await checkCapabilities(ep.agent);
    expect(caps.commands.get('guest-exec')).toBe(true);
  });

  it('guest statistics follow real iperf traffic, matching the switch-side counter', async () => {
    const guest = new RateMeter(new AgentTxSource(ep.agent, { mac: tb.vms[0]?.mac }));
    const host = new RateMeter(new HostTxSource('vm0', tb, 0));
    const [g0, h0] = [await guest.sample(), await host.sample()];
    await sleep(500);
    const idleRate = (await guest.sample()).rateBps ?? Number.NaN;
    traffic = await tb.startTraffic(0, { threads: 2 });
    await sleep(WARMUP_MS);
    await Promise.all([guest.sample(), host.sample()]);
    await sleep(WINDOW_MS);
    const [g, h] = await Promise.all([guest.sample(), host.sample()]);
    await traffic.stop();
    traffic = null;
    await sleep(200);
    const [g1, h1] = [await guest.sample(), await host.sample()];
    console.log(`idle ${idleRate.toFixed(0)} bit/s; loaded: guest ${g.rateBps} bit/s, switch ${h.rateBps} bit/s`);
    expect([g0.status, h0.status, g.status, h.status]).toEqual(['first', 'first', 'ok', 'ok']);
    // The VM sends a large share of the shaped port; the idle rate is noise next to it.
    expect(g.rateBps ?? 0).toBeGreaterThan(100 * Math.max(idleRate, 1000));
    // Rates over the same window agree up to sampling-time jitter (the switch read spawns a process).
    expect(Math.abs((g.rateBps ?? 0) - (h.rateBps ?? 0)) / (h.rateBps ?? 1)).toBeLessThan(0.15);
    // Once traffic stops, the guest's and the switch's byte counts for the whole run agree closely.
    const guestBytes = Number(g1.sample.txBytes - g0.sample.txBytes);
    const hostBytes = Number(h1.sample.txBytes - h0.sample.txBytes);
    expect(Math.abs(guestBytes - hostBytes) / hostBytes).toBeLessThan(0.01);
  });

  it('a cap limits the VM relative to its uncapped rate, changes in place, and lifts', async () => {
    traffic = await tb.startTraffic(0, { threads: 4 });
    await sleep(WARMUP_MS);
    const uncapped = await vm0RateBps();

    await ep.applyCap(uncapped * 0.25);
    await sleep(WARMUP_MS);
    const capped = await vm0RateBps();
    const shown1 = await runChecked(['tc', '-s', 'qdisc', 'show', 'dev', tb.vms[0]?.iface ?? ''], { netns: tb.vms[0]?.netns });
    const sent1 = BigInt(/Sent ([0-9]+) bytes/.exec(shown1)?.[1] ?? '0');

    await ep.applyCap(uncapped * 0.55);
    await sleep(WARMUP_MS);
    const changed = await vm0RateBps();
    const shown2 = await runChecked(['tc', '-s', 'qdisc', 'show', 'dev', tb.vms[0]?.iface ?? ''], { netns: tb.vms[0]?.netns });
    const sent2 = BigInt(/Sent ([0-9]+) bytes/.exec(shown2)?.[1] ?? '0');
    // tc prints rates rounded to 4-5 digits ("1024Mbit"), hence a relative comparison.
    expect(Math.abs(((await ep.readCap()).capBps ?? 0) / (uncapped * 0.55) - 1)).toBeLessThan(0.005);

    await ep.applyCap(null);
    await sleep(WARMUP_MS);
    const lifted = await vm0RateBps();
    await traffic.stop();
    traffic = null;

    const r = (x: number): string => (x / uncapped).toFixed(3);
    console.log(`uncapped ${uncapped.toFixed(0)} bit/s; capped at 0.25: ${r(capped)}; changed to 0.55: ${r(changed)}; lifted: ${r(lifted)}`);
    expect(capped / uncapped).toBeLessThan(0.32);
    expect(capped / uncapped).toBeGreaterThan(0.15);
    expect(changed / uncapped).toBeGreaterThan(0.45);
    expect(changed / uncapped).toBeLessThan(0.65);
    expect(changed / capped).toBeGreaterThan(1.6);
    expect(lifted / uncapped).toBeGreaterThan(0.85);
    // Same qdisc (handle dac5:) before and after the change, and its Sent counter kept counting.
    expect(shown1).toMatch(/qdisc htb dac5: root/);
    expect(shown2).toMatch(/qdisc htb dac5: root/);
    expect(sent2).toBeGreaterThan(sent1);
    expect((await ep.readCap()).capBps).toBeNull();
  });

  it('detects drift after the guest deletes its qdisc, and the next apply repairs it', async () => {
    await ep.applyCap(300e6);
    expect((await ep.readCap()).capBps).toBe(300e6);
    await runChecked(['tc', 'qdisc', 'del', 'dev', tb.vms[0]?.iface ?? '', 'root'], { netns: tb.vms[0]?.netns });
    const drift = await ep.readCap();
    expect(drift.capBps).toBeNull();
    expect(drift.detail).toMatch(/no daqs qdisc/);
    await ep.applyCap(300e6);
    expect((await ep.readCap()).capBps).toBe(300e6);
    await ep.applyCap(null);
  });

  it('the host-counted endpoint reads TX from the switch side and still enforces in the guest', async () => {
    const a = await hostEp.readTx();
    const h = await tb.startTraffic(1, { threads: 1, durationS: 1 });
    await h.exited;
    const b = await hostEp.readTx();
    const hostNow = await tb.readHostTxBytes(1);
    expect(b.txBytes - a.txBytes).toBeGreaterThan(1_000_000n);
    expect(hostNow).toBeGreaterThanOrEqual(b.txBytes);
    await hostEp.applyCap(200e6);
    expect((await hostEp.readCap()).capBps).toBe(200e6);
    await hostEp.applyCap(null);
    expect((await hostEp.readCap()).capBps).toBeNull();
  });
});
