/**
 * Prometheus metrics for daqs.
 *
 * The control loop's path (observeTick) stays cheap: it keeps the latest report, feeds
 * prom-client's histograms and loop counters, and folds per-VM byte and error counts into a
 * plain Map. The per-VM and port families are written at scrape time straight from the latest
 * report (./exposition.ts), so 1,000 VMs cost the loop about a millisecond per tick and a
 * scrape a few milliseconds; the loop never waits for a scrape.
 *
 * Conventions chosen: rates in bits per second; an unknown value (no fresh sample, no cap,
 * no maximum) is an ABSENT series, never NaN or 0, because 0 reads as "blocked" and NaN
 * breaks sums; `daqs_vm_capped` (always present) says whether a cap is in force. A VM that
 * leaves the report loses all its series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DaemonEvent, TickReport, VmId, VmTickReport } from '../core/types.ts';
import { escapeLabelValue, familyHeader, renderFamilies, type Family } from './exposition.ts';

/** Options for the metrics registry. */
export interface MetricsOptions {
  /** Also export Node process metrics (process_*, nodejs_*); default true. */
  readonly processMetrics?: boolean;
}

// Per-VM counters kept between ticks; `seenTick` finds VMs that left.
interface VmCounters {
  txBytes: number;
  errors: Map<string, number> | null;
  seenTick: number;
}

type VmFamily = { name: string; help: string; type: 'gauge' | 'counter'; value: (vm: VmTickReport, c: VmCounters | undefined) => number | null };

// Per-VM families, in exposition order. A null value leaves the VM's series absent.
const VM_FAMILIES: readonly VmFamily[] = [
  { name: 'daqs_vm_tx_rate_bits_per_second', type: 'gauge', help: 'Measured TX rate of the VM in the last tick; absent when the tick had no fresh sample.', value: (v) => v.rateBps },
  { name: 'daqs_vm_demand_bits_per_second', type: 'gauge', help: 'Estimated demand: what the VM would send if uncapped; absent when unknown.', value: (v) => v.demandBps },
  { name: 'daqs_vm_cap_bits_per_second', type: 'gauge', help: 'TX cap in force on the VM; absent when uncapped (see daqs_vm_capped).', value: (v) => v.capBps },
  { name: 'daqs_vm_capped', type: 'gauge', help: '1 when a daqs cap is in force on the VM, 0 when it is uncapped.', value: (v) => (v.capBps === null ? 0 : 1) },
  { name: 'daqs_vm_guarantee_bits_per_second', type: 'gauge', help: 'Guaranteed minimum TX rate of the VM; 0 for Best-Effort VMs.', value: (v) => v.sla.guaranteeBps },
  { name: 'daqs_vm_max_bits_per_second', type: 'gauge', help: 'Configured maximum TX rate of the VM; absent when it has none.', value: (v) => v.sla.maxBps },
  { name: 'daqs_vm_weight', type: 'gauge', help: 'Weight of the VM in sharing what is left for Best-Effort traffic.', value: (v) => v.sla.weight },
  { name: 'daqs_vm_guarantee_met', type: 'gauge', help: '1 when a Guarantee VM is at or above min(guarantee, demand), 0 when not; absent for Best-Effort VMs or when unknown.', value: (v) => (v.guaranteeMet === null ? null : v.guaranteeMet ? 1 : 0) },
  { name: 'daqs_vm_agent_up', type: 'gauge', help: '1 when the VM\'s guest agent answered in the last tick, 0 when the VM skipped the tick with an error.', value: (v) => (v.error === null ? 1 : 0) },
  { name: 'daqs_vm_agent_rtt_seconds', type: 'gauge', help: 'Guest agent round-trip time of the last tick; absent when unknown.', value: (v) => (v.agentRttMs === null ? null : v.agentRttMs / 1000) },
  // Present from the VM's first tick (at 0), so rate() sees its first bytes.
  { name: 'daqs_vm_tx_bytes_total', type: 'counter', help: 'Bytes the VM sent, integrated from its measured TX rate over tick intervals (an estimate from daqs\' samples).', value: (_v, c) => c?.txBytes ?? 0 },
];

/** The daqs metric families; feed it with observeTick and observeEvent, serve render(). */
export class DaqsMetrics {
  /** prom-client's registry: loop counters, histograms, events, process metrics. */
  readonly registry = new Registry();
  private readonly tickDuration: Histogram;
  private readonly ticks: Counter;
  private readonly overruns: Counter;
  private readonly lastTick: Gauge;
  private readonly agentRtt: Histogram;
  private readonly reconcileActions: Counter<'action' | 'result'>;
  private readonly configReloads: Counter;
  private readonly configRejections: Counter;
  private readonly events: Counter<'kind'>;
  private readonly info: Gauge<'policy' | 'version'>;
  private readonly viewers: Gauge;
  private readonly viewersDropped: Counter<'reason'>;
  private readonly vmCounters = new Map<VmId, VmCounters>();
  private latest: TickReport | null = null;
  private ticksSeen = 0;
  private prevTickEpochMs: number | null = null;
  private infoLabels: { policy: string; version: string } | null = null;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.tickDuration = new Histogram({ name: 'daqs_tick_duration_seconds', help: 'Time one control loop tick took (observe, decide, reconcile).', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2], registers });
    this.ticks = new Counter({ name: 'daqs_ticks_total', help: 'Control loop ticks completed.', registers });
    this.overruns = new Counter({ name: 'daqs_tick_overruns_total', help: 'Ticks that took longer than the tick period.', registers });
    this.lastTick = new Gauge({ name: 'daqs_last_tick_timestamp_seconds', help: 'Wall-clock start of the last tick (Unix seconds); alert when it stops advancing.', registers });
    this.agentRtt = new Histogram({ name: 'daqs_agent_rtt_seconds', help: 'Guest agent round-trip time per VM and tick.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers });
    this.reconcileActions = new Counter({ name: 'daqs_reconcile_actions_total', help: 'Cap changes the reconciler made: action cap|lift, result ok|failed.', labelNames: ['action', 'result'], registers });
    this.configReloads = new Counter({ name: 'daqs_config_reloads_total', help: 'Configuration reloads that were accepted.', registers });
    this.configRejections = new Counter({ name: 'daqs_config_rejections_total', help: 'Configuration reloads that were refused (the running configuration stayed in force).', registers });
    this.events = new Counter({ name: 'daqs_events_total', help: 'Daemon events by kind (vm-appeared, guarantee-violated, agent-unreachable, ...).', labelNames: ['kind'], registers });
    this.info = new Gauge({ name: 'daqs_info', help: 'Always 1; labels say the daqs version and the policy in force.', labelNames: ['policy', 'version'], registers });
    this.viewers = new Gauge({ name: 'daqs_web_viewers', help: 'Open live-view streams (/api/events/stream).', registers });
    this.viewersDropped = new Counter({ name: 'daqs_web_viewers_dropped_total', help: 'Live-view streams closed by daqs, by reason (slow: the viewer stopped reading).', labelNames: ['reason'], registers });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one tick: O(1) prom-client work plus plain Map updates per VM; never throws for well-formed reports. */
  observeTick(report: TickReport): void {
    this.latest = report;
    const tickNo = ++this.ticksSeen;
    this.ticks.inc();
    if (report.overran) this.overruns.inc();
    this.tickDuration.observe(report.durationMs / 1000);
    this.lastTick.set(report.atEpochMs / 1000);
    const intervalMs = this.prevTickEpochMs === null ? 0 : report.atEpochMs - this.prevTickEpochMs;
    this.prevTickEpochMs = report.atEpochMs;
    // A gap of more than 10 s (daemon paused, clock step) is not integrated into byte counts.
    const integrate = intervalMs > 0 && intervalMs < 10_000;

    for (const vm of report.vms) {
      let c = this.vmCounters.get(vm.id);
      if (!c) {
        c = { txBytes: 0, errors: null, seenTick: tickNo };
        this.vmCounters.set(vm.id, c);
      }
      c.seenTick = tickNo;
      if (vm.rateBps !== null && integrate) c.txBytes += (vm.rateBps / 8) * (intervalMs / 1000);
      if (vm.agentRttMs !== null) this.agentRtt.observe(vm.agentRttMs / 1000);
      if (vm.error !== null) {
        c.errors ??= new Map();
        c.errors.set(vm.error.code, (c.errors.get(vm.error.code) ?? 0) + 1);
      }
    }
    // More counters than VMs: some VM left; its series go with it.
    if (this.vmCounters.size > report.vms.length) {
      for (const [id, c] of this.vmCounters) if (c.seenTick !== tickNo) this.vmCounters.delete(id);
    }

    for (const a of report.actions) {
      this.reconcileActions.inc({ action: a.toBps === null ? 'lift' : 'cap', result: a.ok ? 'ok' : 'failed' });
    }
  }

  /** Counts an event; config reload/rejection counters come from these events. */
  observeEvent(event: DaemonEvent): void {
    this.events.inc({ kind: event.kind });
    if (event.kind === 'config-reloaded') this.configReloads.inc();
    if (event.kind === 'config-rejected') this.configRejections.inc();
  }

  /** Sets the daqs_info labels (version, policy). */
  setInfo(info: { policy: string; version: string }): void {
    if (this.infoLabels) this.info.remove(this.infoLabels);
    this.infoLabels = { ...info };
    this.info.set(this.infoLabels, 1);
  }

  /** Records the number of open live-view streams. */
  setViewers(count: number): void {
    this.viewers.set(count);
  }

  /** Counts a live-view stream daqs closed itself. */
  countViewerDropped(reason: 'slow' | 'shutdown'): void {
    this.viewersDropped.inc({ reason });
  }

  /** The Prometheus text exposition of every series. */
  async render(): Promise<string> {
    return (await this.registry.metrics()) + this.renderFromLatest();
  }

  /** Content-Type header for `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  // The port and per-VM families, from the latest report only: a VM gone from it is gone here.
  // Written with plain string appends: this runs for every VM on every scrape.
  private renderFromLatest(): string {
    const report = this.latest;
    const vms = report?.vms ?? [];
    const vmLabels = vms.map((vm) => `{vm="${escapeLabelValue(vm.id)}"} `);
    const counters = vms.map((vm) => this.vmCounters.get(vm.id));
    let out = '';
    for (const f of VM_FAMILIES) {
      out += familyHeader(f.name, f.type, f.help);
      for (let i = 0; i < vms.length; i++) {
        const value = f.value(vms[i]!, counters[i]);
        if (value !== null && Number.isFinite(value)) out += `${f.name}${vmLabels[i]!}${value}\n`;
      }
    }
    const families: Family[] = [];
    families.push(
      { name: 'daqs_vm_info', type: 'gauge', help: 'Always 1; labels say the VM\'s role and where each of its SLA settings came from (config, libvirt-metadata, default).', samples: vms.map((v) => ({ labels: { vm: v.id, role: v.role, guarantee_source: v.slaSource.guaranteeBps, max_source: v.slaSource.maxBps, weight_source: v.slaSource.weight }, value: 1 })) },
      { name: 'daqs_agent_errors_total', type: 'counter', help: 'Ticks a VM skipped because reading or controlling it failed, by error code.', samples: vms.flatMap((v) => [...(this.vmCounters.get(v.id)?.errors ?? [])].map(([code, n]) => ({ labels: { vm: v.id, code }, value: n }))) },
      { name: 'daqs_vms', type: 'gauge', help: 'VMs in the last tick, by role.', samples: report ? (['guarantee', 'best-effort'] as const).map((role) => ({ labels: { role }, value: vms.filter((v) => v.role === role).length })) : [] },
      { name: 'daqs_port_nominal_capacity_bits_per_second', type: 'gauge', help: 'Port capacity from configuration or link speed.', samples: report ? [{ labels: {}, value: report.port.nominalCapacityBps }] : [] },
      { name: 'daqs_port_learned_capacity_bits_per_second', type: 'gauge', help: 'Port capacity learned from observed saturated throughput.', samples: report ? [{ labels: {}, value: report.port.learnedCapacityBps }] : [] },
      { name: 'daqs_port_used_bits_per_second', type: 'gauge', help: 'Sum of the measured TX rates of all VMs on the port in the last tick.', samples: report ? [{ labels: {}, value: report.port.usedBps }] : [] },
    );
    return out + renderFamilies(families);
  }
}
