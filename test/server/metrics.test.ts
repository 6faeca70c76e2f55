import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TickReport } from '../../src/core/types.ts';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { getText, parsePromText, sampleValue, type PromSample } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

const PORT = 'enp65s0f0';

describe('/metrics follows the ticks the loop publishes', () => {
  const hub = new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.9e9, vms: paperLikeVms(4, 50), startEpochMs: Date.UTC(2026, 0, 1) });
  const published: TickReport[] = [];
  let server: RunningServer;

  function step(ticks: number): void {
    for (let i = 0; i < ticks; i++) {
      const { report, events } = host.step();
      for (const e of events) hub.publishEvent(e);
      hub.publishTick(report);
      published.push(report);
    }
  }
  async function scrape(): Promise<PromSample[]> {
    return parsePromText(await getText(`${server.url}/metrics`));
  }
  const vmOf = (r: TickReport, id: string) => r.vms.find((v) => v.id === id)!;

  beforeAll(async () => {
    hub.setInfo({ portName: PORT, version: '9.9.9' });
    server = await startServer({ address: '127.0.0.1:0', hub });
  });
  afterAll(async () => {
    await server.close();
  });

  it('exports the VF byte counter itself, so rate() over any window is what the VM sent', async () => {
    step(40); // be1 idles at ~20 Mbit/s until tick 50
    const idle = await scrape();
    const idleBytes = sampleValue(idle, 'daqs_vm_tx_bytes_total', { vm: 'vm-be1', port: PORT })!;
    // The counter as the loop read it (a guest counter starts wherever the guest is), not a sum daqs keeps.
    expect(idleBytes).toBe(vmOf(published.at(-1)!, 'vm-be1').txBytes);
    expect(idleBytes).toBeGreaterThan(1e9);
    // Uncapped: the cap series is absent and daqs_vm_capped says 0.
    expect(sampleValue(idle, 'daqs_vm_cap_bytes_per_second', { vm: 'vm-be1' })).toBeUndefined();
    expect(sampleValue(idle, 'daqs_vm_capped', { vm: 'vm-be1' })).toBe(0);

    const from = published.length;
    step(30); // be1 now wants 1.2 Gbit/s with 5 flows
    const busy = await scrape();
    const busyBytes = sampleValue(busy, 'daqs_vm_tx_bytes_total', { vm: 'vm-be1' })!;
    // The increase is every byte sent in those 30 ticks, sampled or not: the sum of the
    // per-tick rates x tick length (what a 200 ms rate gauge scraped every 5 s would miss).
    const sentBytes = published.slice(from).reduce((a, r) => a + (vmOf(r, 'vm-be1').rateBps! / 8) * 0.2, 0);
    expect(busyBytes - idleBytes).toBeGreaterThan(0.99 * sentBytes);
    expect(busyBytes - idleBytes).toBeLessThan(1.01 * sentBytes);
    const last = vmOf(published.at(-1)!, 'vm-be1');
    expect(last.capBps).not.toBeNull();
    expect(sampleValue(busy, 'daqs_vm_cap_bytes_per_second', { vm: 'vm-be1' })).toBe(last.capBps! / 8);
    expect(sampleValue(busy, 'daqs_vm_capped', { vm: 'vm-be1' })).toBe(1);
    expect(sampleValue(busy, 'daqs_vm_demand_bytes_per_second', { vm: 'vm-be1' })).toBe(last.demandBps! / 8);
    // No single-sample rate gauge to alias.
    expect(busy.some((s) => /rate|_bits_per_second/.test(s.name))).toBe(false);
  });

  it('exports guarantees, roles and sources, and whether a guarantee is met', async () => {
    const s = await scrape();
    expect(sampleValue(s, 'daqs_vm_guarantee_bytes_per_second', { vm: 'vm-guar' })).toBe(100e6);
    expect(sampleValue(s, 'daqs_vm_guarantee_bytes_per_second', { vm: 'vm-be1' })).toBe(0);
    expect(sampleValue(s, 'daqs_vm_info', { vm: 'vm-guar', role: 'guarantee', guarantee_source: 'config' })).toBe(1);
    expect(sampleValue(s, 'daqs_vm_info', { vm: 'vm-be3', role: 'best-effort', max_source: 'libvirt-metadata' })).toBe(1);
    expect(sampleValue(s, 'daqs_vm_max_bytes_per_second', { vm: 'vm-be3' })).toBe(75e6);
    expect(sampleValue(s, 'daqs_vm_max_bytes_per_second', { vm: 'vm-be1' })).toBeUndefined();
    const met = vmOf(published.at(-1)!, 'vm-guar').guaranteeMet;
    expect(sampleValue(s, 'daqs_vm_guarantee_met', { vm: 'vm-guar' })).toBe(met ? 1 : 0);
    expect(sampleValue(s, 'daqs_vm_guarantee_idle', { vm: 'vm-guar' })).toBe(0);
    expect(sampleValue(s, 'daqs_vm_guarantee_met', { vm: 'vm-be1' })).toBeUndefined();
    expect(sampleValue(s, 'daqs_vm_guarantee_idle', { vm: 'vm-be1' })).toBeUndefined();
    expect(sampleValue(s, 'daqs_vms', { role: 'guarantee' })).toBe(1);
    expect(sampleValue(s, 'daqs_vms', { role: 'best-effort' })).toBe(3);
    // The synthetic host violated the guarantee when be1 started, and restored it a tick later.
    expect(sampleValue(s, 'daqs_events_total', { kind: 'guarantee-violated' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(s, 'daqs_events_total', { kind: 'vm-appeared' })).toBe(4);
  });

  it('counts the seconds a guarantee was not met, tick by tick', async () => {
    const s = await scrape();
    // Every tick judged "not met" counts its length (200 ms): what a 0/1 gauge scraped every 5 s cannot tell.
    const unmetTicks = published.slice(1).filter((r) => vmOf(r, 'vm-guar').guaranteeMet === false).length;
    expect(unmetTicks).toBeGreaterThan(0);
    expect(sampleValue(s, 'daqs_vm_guarantee_unmet_seconds_total', { vm: 'vm-guar' })).toBeCloseTo(unmetTicks * 0.2, 9);
    expect(sampleValue(s, 'daqs_vm_guarantee_unmet_seconds_total', { vm: 'vm-be1' })).toBeUndefined();
  });

  it('puts a port label on every per-VM and port series, and says version, policy and port in daqs_build_info', async () => {
    const s = await scrape();
    const perVmOrPort = s.filter((x) => x.labels.vm !== undefined || x.name.startsWith('daqs_port_') || x.name === 'daqs_vms' || x.name.startsWith('daqs_inventory_'));
    expect(perVmOrPort.length).toBeGreaterThan(40);
    expect(perVmOrPort.filter((x) => x.labels.port !== PORT)).toEqual([]);
    expect(sampleValue(s, 'daqs_build_info')).toBe(1);
    expect(s.find((x) => x.name === 'daqs_build_info')!.labels).toEqual({ version: '9.9.9', policy: 'daqs', port: PORT });
    expect(s.some((x) => x.name === 'daqs_info')).toBe(false);
  });

  it('exports the port in bytes per second, the tick and agent histograms and reconcile actions', async () => {
    const s = await scrape();
    const last = published.at(-1)!;
    expect(sampleValue(s, 'daqs_port_nominal_capacity_bytes_per_second', { port: PORT })).toBe(250e6);
    expect(sampleValue(s, 'daqs_port_learned_capacity_bytes_per_second', { port: PORT })).toBe(1.9e9 / 8);
    expect(sampleValue(s, 'daqs_tick_duration_seconds_count')).toBe(published.length);
    expect(sampleValue(s, 'daqs_ticks_total')).toBe(published.length);
    expect(sampleValue(s, 'daqs_last_tick_timestamp_seconds')).toBe(last.atEpochMs / 1000);
    const rtts = published.flatMap((r) => r.vms.filter((v) => v.agentRttMs !== null));
    expect(sampleValue(s, 'daqs_agent_rtt_seconds_count')).toBe(rtts.length);
    const actions = published.flatMap((r) => r.actions);
    expect(actions.length).toBeGreaterThan(0);
    expect(sampleValue(s, 'daqs_reconcile_actions_total', { action: 'cap', result: 'ok' })).toBe(actions.filter((a) => a.toBps !== null).length);
  });

  it('counts agent errors by VM and code, marks the agent down, and keeps the counter where it was', async () => {
    const before = sampleValue(await scrape(), 'daqs_vm_tx_bytes_total', { vm: 'vm-be2' })!;
    host.setAgentFailing('vm-be2', true);
    step(5);
    host.setAgentFailing('vm-be2', false);
    let s = await scrape();
    expect(sampleValue(s, 'daqs_agent_errors_total', { vm: 'vm-be2', code: 'E_AGENT_TIMEOUT', port: PORT })).toBe(5);
    expect(sampleValue(s, 'daqs_vm_agent_up', { vm: 'vm-be2' })).toBe(0);
    // No reading while the agent fails: the counter stays at the last one (no gap, no reset).
    expect(sampleValue(s, 'daqs_vm_tx_bytes_total', { vm: 'vm-be2' })).toBe(before);
    step(1);
    s = await scrape();
    expect(sampleValue(s, 'daqs_vm_agent_up', { vm: 'vm-be2' })).toBe(1);
    // The next reading counts the bytes sent meanwhile too.
    expect(sampleValue(s, 'daqs_vm_tx_bytes_total', { vm: 'vm-be2' })!).toBeGreaterThan(before + 5 * 0.2 * (vmOf(published.at(-1)!, 'vm-be2').rateBps! / 8) * 0.9);
    expect(sampleValue(s, 'daqs_events_total', { kind: 'agent-unreachable' })).toBe(1);
  });

  it('counts config reloads and rejections, and drifts per VM, from the daemon events', async () => {
    const at = host.nextEpochMs;
    hub.publishEvent({ atEpochMs: at, kind: 'config-reloaded', message: 'reloaded /etc/daqs/daqs.yaml' });
    hub.publishEvent({ atEpochMs: at, kind: 'config-rejected', message: 'vms.a.guarantee: "fast" is not a rate' });
    hub.publishEvent({ atEpochMs: at, kind: 'config-reloaded', message: 'reloaded /etc/daqs/daqs.yaml' });
    hub.publishEvent({ atEpochMs: at, kind: 'drift-detected', vm: 'vm-be1', message: 'found no daqs qdisc, expected htb 300mbit' });
    hub.publishEvent({ atEpochMs: at, kind: 'drift-detected', vm: 'vm-be1', message: 'found no daqs qdisc, expected htb 300mbit' });
    const s = await scrape();
    expect(sampleValue(s, 'daqs_config_reloads_total')).toBe(2);
    expect(sampleValue(s, 'daqs_config_rejections_total')).toBe(1);
    expect(sampleValue(s, 'daqs_vm_drift_total', { vm: 'vm-be1' })).toBe(2);
    expect(sampleValue(s, 'daqs_vm_drift_total', { vm: 'vm-be2' })).toBe(0);
    expect(hub.status().config.lastRejection?.message).toContain('is not a rate');
  });

  it('exports the inventory health: VMs per status (every status present) and the last refresh', async () => {
    expect((await scrape()).some((x) => x.name.startsWith('daqs_inventory_'))).toBe(false);
    hub.setInventory({ vms: { 'ready': 3, 'not-ready': 1, 'no-agent': 0, 'lookup-failed': 2, 'ignored': 0 }, lastRefreshEpochMs: Date.UTC(2026, 0, 1, 0, 5), refreshFailures: 4 });
    const s = await scrape();
    expect(s.filter((x) => x.name === 'daqs_inventory_vms').map((x) => [x.labels.status, x.value])).toEqual([['ready', 3], ['not-ready', 1], ['no-agent', 0], ['lookup-failed', 2], ['ignored', 0]]);
    expect(sampleValue(s, 'daqs_inventory_last_refresh_timestamp_seconds', { port: PORT })).toBe(Date.UTC(2026, 0, 1, 0, 5) / 1000);
    expect(sampleValue(s, 'daqs_inventory_refresh_failures_total', { port: PORT })).toBe(4);
    expect(hub.status().inventory?.vms.ready).toBe(3);
  });

  it('removes every series of a VM that disappears', async () => {
    host.setAgentFailing('vm-be3', true);
    step(1);
    let s = await scrape();
    expect(s.some((x) => x.labels.vm === 'vm-be3' && x.name === 'daqs_agent_errors_total')).toBe(true);
    host.removeVm('vm-be3');
    step(1);
    s = await scrape();
    expect(s.filter((x) => x.labels.vm === 'vm-be3')).toEqual([]);
    expect(s.some((x) => x.labels.vm === 'vm-be1')).toBe(true);
    expect(sampleValue(s, 'daqs_vms', { role: 'best-effort' })).toBe(2);
  });

  it('follows Prometheus naming: daqs_ prefix, base units in names, counters end in _total, no NaN', async () => {
    const text = await getText(`${server.url}/metrics`);
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.length).toBeGreaterThan(25);
    for (const t of types) {
      expect(t.name).toMatch(/^daqs_[a-z_]+$/);
      if (t.type === 'counter') expect(t.name).toMatch(/_total$/);
      expect(t.name).not.toMatch(/bits|_bps|millis/);
      if (/capacity|_cap_|guarantee_bytes|max_|demand/.test(t.name)) expect(t.name).toMatch(/_bytes_per_second$/);
    }
    expect(parsePromText(text).filter((x) => Number.isNaN(x.value))).toEqual([]);
  });
});
