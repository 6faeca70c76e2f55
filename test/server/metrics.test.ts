import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TickReport } from '../../src/core/types.ts';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { getText, parsePromText, sampleValue, type PromSample } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

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

  beforeAll(async () => {
    server = await startServer({ address: '127.0.0.1:0', hub });
  });
  afterAll(async () => {
    await server.close();
  });

  it('shows a Best-Effort VM that starts sending: rate, byte counter and cap rise', async () => {
    step(40); // be1 idles at ~20 Mbit/s until tick 50
    const idle = await scrape();
    const idleRate = sampleValue(idle, 'daqs_vm_tx_rate_bits_per_second', { vm: 'vm-be1' })!;
    const idleBytes = sampleValue(idle, 'daqs_vm_tx_bytes_total', { vm: 'vm-be1' })!;
    expect(idleRate).toBeGreaterThan(10e6);
    expect(idleRate).toBeLessThan(30e6);
    // Uncapped: the cap series is absent and daqs_vm_capped says 0.
    expect(sampleValue(idle, 'daqs_vm_cap_bits_per_second', { vm: 'vm-be1' })).toBeUndefined();
    expect(sampleValue(idle, 'daqs_vm_capped', { vm: 'vm-be1' })).toBe(0);

    step(30); // be1 now wants 1.2 Gbit/s with 5 flows
    const busy = await scrape();
    const busyRate = sampleValue(busy, 'daqs_vm_tx_rate_bits_per_second', { vm: 'vm-be1' })!;
    const busyBytes = sampleValue(busy, 'daqs_vm_tx_bytes_total', { vm: 'vm-be1' })!;
    expect(busyRate).toBeGreaterThan(500e6);
    expect(busyBytes - idleBytes).toBeGreaterThan(10 * idleBytes);
    const last = published.at(-1)!.vms.find((v) => v.id === 'vm-be1')!;
    expect(sampleValue(busy, 'daqs_vm_tx_rate_bits_per_second', { vm: 'vm-be1' })).toBe(last.rateBps);
    expect(sampleValue(busy, 'daqs_vm_cap_bits_per_second', { vm: 'vm-be1' })).toBe(last.capBps);
    expect(sampleValue(busy, 'daqs_vm_capped', { vm: 'vm-be1' })).toBe(1);
    expect(sampleValue(busy, 'daqs_vm_demand_bits_per_second', { vm: 'vm-be1' })).toBe(last.demandBps);
  });

  it('exports guarantees, roles and sources, and whether a guarantee is met', async () => {
    const s = await scrape();
    expect(sampleValue(s, 'daqs_vm_guarantee_bits_per_second', { vm: 'vm-guar' })).toBe(800e6);
    expect(sampleValue(s, 'daqs_vm_guarantee_bits_per_second', { vm: 'vm-be1' })).toBe(0);
    expect(sampleValue(s, 'daqs_vm_info', { vm: 'vm-guar', role: 'guarantee', guarantee_source: 'config' })).toBe(1);
    expect(sampleValue(s, 'daqs_vm_info', { vm: 'vm-be3', role: 'best-effort', max_source: 'libvirt-metadata' })).toBe(1);
    expect(sampleValue(s, 'daqs_vm_max_bits_per_second', { vm: 'vm-be3' })).toBe(600e6);
    expect(sampleValue(s, 'daqs_vm_max_bits_per_second', { vm: 'vm-be1' })).toBeUndefined();
    const met = published.at(-1)!.vms.find((v) => v.id === 'vm-guar')!.guaranteeMet;
    expect(sampleValue(s, 'daqs_vm_guarantee_met', { vm: 'vm-guar' })).toBe(met ? 1 : 0);
    expect(sampleValue(s, 'daqs_vm_guarantee_met', { vm: 'vm-be1' })).toBeUndefined();
    expect(sampleValue(s, 'daqs_vms', { role: 'guarantee' })).toBe(1);
    expect(sampleValue(s, 'daqs_vms', { role: 'best-effort' })).toBe(3);
    // The synthetic host violated the guarantee when be1 started, and restored it a tick later.
    expect(sampleValue(s, 'daqs_events_total', { kind: 'guarantee-violated' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(s, 'daqs_events_total', { kind: 'vm-appeared' })).toBe(4);
  });

  it('exports the port, the tick and agent histograms and reconcile actions', async () => {
    const s = await scrape();
    const last = published.at(-1)!;
    expect(sampleValue(s, 'daqs_port_nominal_capacity_bits_per_second')).toBe(2e9);
    expect(sampleValue(s, 'daqs_port_learned_capacity_bits_per_second')).toBe(1.9e9);
    expect(sampleValue(s, 'daqs_port_used_bits_per_second')).toBe(last.port.usedBps);
    expect(sampleValue(s, 'daqs_tick_duration_seconds_count')).toBe(published.length);
    expect(sampleValue(s, 'daqs_ticks_total')).toBe(published.length);
    expect(sampleValue(s, 'daqs_last_tick_timestamp_seconds')).toBe(last.atEpochMs / 1000);
    const rtts = published.flatMap((r) => r.vms.filter((v) => v.agentRttMs !== null));
    expect(sampleValue(s, 'daqs_agent_rtt_seconds_count')).toBe(rtts.length);
    const actions = published.flatMap((r) => r.actions);
    expect(actions.length).toBeGreaterThan(0);
    expect(sampleValue(s, 'daqs_reconcile_actions_total', { action: 'cap', result: 'ok' })).toBe(actions.filter((a) => a.toBps !== null).length);
    expect(sampleValue(s, 'daqs_info', { policy: 'daqs' })).toBe(1);
  });

  it('counts agent errors by VM and code, and marks the agent down', async () => {
    host.setAgentFailing('vm-be2', true);
    step(5);
    host.setAgentFailing('vm-be2', false);
    let s = await scrape();
    expect(sampleValue(s, 'daqs_agent_errors_total', { vm: 'vm-be2', code: 'E_AGENT_TIMEOUT' })).toBe(5);
    expect(sampleValue(s, 'daqs_vm_agent_up', { vm: 'vm-be2' })).toBe(0);
    expect(sampleValue(s, 'daqs_vm_tx_rate_bits_per_second', { vm: 'vm-be2' })).toBeUndefined();
    step(1);
    s = await scrape();
    expect(sampleValue(s, 'daqs_vm_agent_up', { vm: 'vm-be2' })).toBe(1);
    expect(sampleValue(s, 'daqs_vm_tx_rate_bits_per_second', { vm: 'vm-be2' })).toBeGreaterThan(0);
    expect(sampleValue(s, 'daqs_events_total', { kind: 'agent-unreachable' })).toBe(1);
  });

  it('counts config reloads and rejections from the daemon events', async () => {
    const at = host.nextEpochMs;
    hub.publishEvent({ atEpochMs: at, kind: 'config-reloaded', message: 'reloaded /etc/daqs/daqs.yaml' });
    hub.publishEvent({ atEpochMs: at, kind: 'config-rejected', message: 'vms.a.guarantee: "fast" is not a rate' });
    hub.publishEvent({ atEpochMs: at, kind: 'config-reloaded', message: 'reloaded /etc/daqs/daqs.yaml' });
    const s = await scrape();
    expect(sampleValue(s, 'daqs_config_reloads_total')).toBe(2);
    expect(sampleValue(s, 'daqs_config_rejections_total')).toBe(1);
    expect(hub.status().config.lastRejection?.message).toContain('is not a rate');
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

  it('follows Prometheus naming: daqs_ prefix, units in names, counters end in _total, no NaN', async () => {
    const text = await getText(`${server.url}/metrics`);
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.length).toBeGreaterThan(20);
    for (const t of types) {
      expect(t.name).toMatch(/^daqs_[a-z_]+$/);
      if (t.type === 'counter') expect(t.name).toMatch(/_total$/);
      if (t.name.includes('_rate') || t.name.includes('capacity') || t.name.endsWith('_bps')) expect(t.name).toMatch(/_bits_per_second$/);
    }
    expect(parsePromText(text).filter((x) => Number.isNaN(x.value))).toEqual([]);
  });
});
