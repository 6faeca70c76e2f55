/**
 * Prometheus metrics for daqs, following Prometheus' conventions: base units (bytes, seconds),
 * counters for what accumulates, rates left to PromQL.
 *
 * The control loop's path (observeTick) stays cheap: it keeps the latest report, feeds
 * prom-client's histograms and loop counters, and folds per-VM error, drift and unmet-guarantee
 * counts into a plain Map. The per-VM and port families are written at scrape time straight
 * from the latest report (./exposition.ts), so 1,000 VMs cost the loop about a millisecond per
 * tick and a scrape a few milliseconds; the loop never waits for a scrape.
 *
 * Why counters and not rates: a tick is 200 ms, a scrape every 5 s or more, so a rate gauge is
 * one 200 ms sample in 25 and aliases (a burst between scrapes is invisible, a single spike is
 * all Prometheus sees). `daqs_vm_tx_bytes_total` is the VF's own byte counter, the one the loop
 * reads, so `rate(daqs_vm_tx_bytes_total[1m])` is exact over the window whatever the scrape.
 *
 * An unknown value (no sample yet, no cap, no maximum) is an ABSENT series, never NaN or 0,
 * because 0 reads as "blocked" and NaN breaks sums; `daqs_vm_capped` (always present) says
 * whether a cap is in force. A VM that leaves the report loses all its series. Every per-VM and
 * port series carries a `port` label (several daemons, one per port, may share a Prometheus).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { INVENTORY_STATUSES, type DaemonEvent, type InventoryHealth, type TickReport, type VmId, type VmTickReport } from '../core/types.ts';
import { escapeLabelValue, familyHeader, renderFamilies, type Family } from './exposition.ts';

/** Options for the metrics registry. */
export interface MetricsOptions {
  /** Also export Node process metrics (process_*, nodejs_*); default true. */
  readonly processMetrics?: boolean;
}

/** What daqs_build_info says: the version, the policy in force and the port. */
export interface BuildInfo {
  readonly version: string;
  readonly policy: string;
  /** The port daqs shares out (its `port` label everywhere); '' until known. */
  readonly port: string;
}

// Longest interval between ticks counted into time-based counters: a daemon that was
// paused (SIGSTOP, a clock step) must not book the pause as time below a guarantee.
const MAX_COUNTED_INTERVAL_MS = 10_000;

// Per-VM counters kept between ticks; `seenTick` finds VMs that left.
interface VmCounters {
  errors: Map<string, number> | null;
  drifts: number;
  unmetSeconds: number;
  seenTick: number;
}

type VmFamily = { name: string; help: string; type: 'gauge' | 'counter'; value: (vm: VmTickReport, c: VmCounters | undefined) => number | null };

const bytes = (bps: number | null): number | null => (bps === null ? null : bps / 8);
const isGuaranteeVm = (v: VmTickReport): boolean => v.role === 'guarantee';

// Per-VM families, in exposition order. A null value leaves the VM's series absent.
const VM_FAMILIES: readonly VmFamily[] = [
  { name: 'daqs_vm_tx_bytes_total', type: 'counter', help: 'Bytes the VM sent on its VF: the TX byte counter the control loop reads (reported by the guest agent). Use rate() for its rate. Absent before the first reading; a counter that goes back (guest reboot) is a counter reset.', value: (v) => v.txBytes },
  { name: 'daqs_vm_demand_bytes_per_second', type: 'gauge', help: 'What the VM would send if uncapped, as the policy estimates it (bytes per second); absent when unknown.', value: (v) => bytes(v.demandBps) },
  { name: 'daqs_vm_cap_bytes_per_second', type: 'gauge', help: 'TX cap in force on the VM (bytes per second); absent when uncapped (see daqs_vm_capped).', value: (v) => bytes(v.capBps) },
  { name: 'daqs_vm_capped', type: 'gauge', help: '1 when a daqs cap is in force on the VM, 0 when it is uncapped.', value: (v) => (v.capBps === null ? 0 : 1) },
  { name: 'daqs_vm_guarantee_bytes_per_second', type: 'gauge', help: 'Guaranteed minimum TX rate of the VM (bytes per second); 0 for Best-Effort VMs.', value: (v) => v.sla.guaranteeBps / 8 },
  { name: 'daqs_vm_max_bytes_per_second', type: 'gauge', help: 'Configured maximum TX rate of the VM (bytes per second); absent when it has none.', value: (v) => bytes(v.sla.maxBps) },
  { name: 'daqs_vm_weight', type: 'gauge', help: 'Weight of the VM in sharing what is left for Best-Effort traffic.', value: (v) => v.sla.weight },
  { name: 'daqs_vm_guarantee_met', type: 'gauge', help: 'Last tick: 1 when a Guarantee VM is at or above 0.95 x min(guarantee, demand) (also when idle), 0 when not; absent for Best-Effort VMs or when unknown. For alerts prefer daqs_vm_guarantee_unmet_seconds_total.', value: (v) => (v.guaranteeMet === null ? null : v.guaranteeMet ? 1 : 0) },
  { name: 'daqs_vm_guarantee_idle', type: 'gauge', help: 'Last tick: 1 when a Guarantee VM sends almost nothing (under 2% of its guarantee: it does not want it now), else 0; absent for Best-Effort VMs.', value: (v) => (isGuaranteeVm(v) ? (v.idle ? 1 : 0) : null) },
  { name: 'daqs_vm_guarantee_unmet_seconds_total', type: 'counter', help: 'Seconds a Guarantee VM spent below its guarantee (ticks judged not met, by their length); rate() of it is the fraction of time violated. Absent for Best-Effort VMs.', value: (v, c) => (isGuaranteeVm(v) ? (c?.unmetSeconds ?? 0) : null) },
  { name: 'daqs_vm_agent_up', type: 'gauge', help: 'Last tick: 1 when the VM\'s guest agent answered, 0 when the VM skipped the tick with an error.', value: (v) => (v.error === null ? 1 : 0) },
  { name: 'daqs_vm_agent_rtt_seconds', type: 'gauge', help: 'Guest agent round-trip time of the last tick; absent when unknown (see daqs_agent_rtt_seconds for the distribution).', value: (v) => (v.agentRttMs === null ? null : v.agentRttMs / 1000) },
  { name: 'daqs_vm_drift_total', type: 'counter', help: 'Times the cap read back from the VM was not the one daqs had set (drift-detected events); each is repaired by the next apply.', value: (_v, c) => c?.drifts ?? 0 },
];

/** The daqs metric families; feed it with observeTick, observeEvent and setInventory, serve render(). */
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
  private readonly buildInfo: Gauge<'policy' | 'version' | 'port'>;
  private readonly viewers: Gauge;
  private readonly viewersDropped: Counter<'reason'>;
  private readonly vmCounters = new Map<VmId, VmCounters>();
  private latest: TickReport | null = null;
  private inventory: InventoryHealth | null = null;
  private ticksSeen = 0;
  private prevTickEpochMs: number | null = null;
  private info: BuildInfo = { version: '', policy: '', port: '' };
  private infoSet = false;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.tickDuration = new Histogram({ name: 'daqs_tick_duration_seconds', help: 'Time one control loop tick took (observe, decide, reconcile).', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2], registers });
    this.ticks = new Counter({ name: 'daqs_ticks_total', help: 'Control loop ticks completed.', registers });
    this.overruns = new Counter({ name: 'daqs_tick_overruns_total', help: 'Ticks that took longer than the tick period.', registers });
    this.lastTick = new Gauge({ name: 'daqs_last_tick_timestamp_seconds', help: 'Wall-clock start of the last tick (Unix seconds); alert when it stops advancing.', registers });
    this.agentRtt = new Histogram({ name: 'daqs_agent_rtt_seconds', help: 'Guest agent round-trip time per VM and tick.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers });
    this.reconcileActions = new Counter({ name: 'daqs_reconcile_actions_total', help: 'Cap changes the reconciler made: action cap|lift, result ok|failed (each is also an audit log line, op "cap-change").', labelNames: ['action', 'result'], registers });
    this.configReloads = new Counter({ name: 'daqs_config_reloads_total', help: 'Configuration reloads that were accepted.', registers });
    this.configRejections = new Counter({ name: 'daqs_config_rejections_total', help: 'Configuration reloads that were refused (the running configuration stayed in force).', registers });
    this.events = new Counter({ name: 'daqs_events_total', help: 'Daemon events by kind (vm-appeared, guarantee-violated, agent-unreachable, ...).', labelNames: ['kind'], registers });
    this.buildInfo = new Gauge({ name: 'daqs_build_info', help: 'Always 1; labels say the daqs version, the policy in force and the port this daemon shares out.', labelNames: ['version', 'policy', 'port'], registers });
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
    const countedS = intervalMs > 0 && intervalMs <= MAX_COUNTED_INTERVAL_MS ? intervalMs / 1000 : 0;

    for (const vm of report.vms) {
      const c = this.countersOf(vm.id, tickNo);
      c.seenTick = tickNo;
      if (vm.guaranteeMet === false) c.unmetSeconds += countedS;
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

  /** Counts an event; config reload/rejection and per-VM drift counters come from these events. */
  observeEvent(event: DaemonEvent): void {
    this.events.inc({ kind: event.kind });
    if (event.kind === 'config-reloaded') this.configReloads.inc();
    if (event.kind === 'config-rejected') this.configRejections.inc();
    if (event.kind === 'drift-detected' && event.vm !== undefined) this.countersOf(event.vm, this.ticksSeen).drifts++;
  }

  /** Records the inventory's health (VMs per status, last refresh). */
  setInventory(health: InventoryHealth): void {
    this.inventory = health;
  }

  /** Sets the daqs_build_info labels and the `port` label of every per-VM and port series. */
  setInfo(info: BuildInfo): void {
    if (this.infoSet) this.buildInfo.remove({ ...this.info });
    this.info = { ...info };
    this.infoSet = true;
    this.buildInfo.set({ ...this.info }, 1);
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

  private countersOf(id: VmId, tickNo: number): VmCounters {
    let c = this.vmCounters.get(id);
    if (!c) {
      c = { errors: null, drifts: 0, unmetSeconds: 0, seenTick: tickNo };
      this.vmCounters.set(id, c);
    }
    return c;
  }

  // The port and per-VM families, from the latest report only: a VM gone from it is gone here.
  // Written with plain string appends: this runs for every VM on every scrape.
  private renderFromLatest(): string {
    const report = this.latest;
    const vms = report?.vms ?? [];
    const port = this.info.port;
    const portLabel = `port="${escapeLabelValue(port)}"`;
    const vmLabels = vms.map((vm) => `{vm="${escapeLabelValue(vm.id)}",${portLabel}} `);
    const counters = vms.map((vm) => this.vmCounters.get(vm.id));
    let out = '';
    for (const f of VM_FAMILIES) {
      out += familyHeader(f.name, f.type, f.help);
      for (let i = 0; i < vms.length; i++) {
        const value = f.value(vms[i]!, counters[i]);
        if (value !== null && Number.isFinite(value)) out += `${f.name}${vmLabels[i]!}${value}\n`;
      }
    }
    const inv = this.inventory;
    const families: Family[] = [
      { name: 'daqs_vm_info', type: 'gauge', help: 'Always 1; labels say the VM\'s role and where each of its SLA settings came from (config, libvirt-metadata, default).', samples: vms.map((v) => ({ labels: { vm: v.id, port, role: v.role, guarantee_source: v.slaSource.guaranteeBps, max_source: v.slaSource.maxBps, weight_source: v.slaSource.weight }, value: 1 })) },
      { name: 'daqs_agent_errors_total', type: 'counter', help: 'Ticks a VM skipped because reading or controlling it failed, by error code.', samples: vms.flatMap((v, i) => [...(counters[i]?.errors ?? [])].map(([code, n]) => ({ labels: { vm: v.id, port, code }, value: n }))) },
      { name: 'daqs_vms', type: 'gauge', help: 'VMs the control loop handled in the last tick, by role.', samples: report ? (['guarantee', 'best-effort'] as const).map((role) => ({ labels: { port, role }, value: vms.filter((v) => v.role === role).length })) : [] },
      { name: 'daqs_port_nominal_capacity_bytes_per_second', type: 'gauge', help: 'Port capacity from configuration or link speed (bytes per second).', samples: report ? [{ labels: { port }, value: report.port.nominalCapacityBps / 8 }] : [] },
      { name: 'daqs_port_learned_capacity_bytes_per_second', type: 'gauge', help: 'Port capacity the policy learned from observed saturated throughput (bytes per second).', samples: report ? [{ labels: { port }, value: report.port.learnedCapacityBps / 8 }] : [] },
      { name: 'daqs_inventory_vms', type: 'gauge', help: 'VMs the inventory lists, by status: ready, not-ready, lookup-failed (controlled), no-agent, ignored (not controlled).', samples: inv ? INVENTORY_STATUSES.map((status) => ({ labels: { port, status }, value: inv.vms[status] })) : [] },
      { name: 'daqs_inventory_last_refresh_timestamp_seconds', type: 'gauge', help: 'When the inventory last listed VMs successfully (Unix seconds); alert when it stops advancing.', samples: inv && inv.lastRefreshEpochMs !== null ? [{ labels: { port }, value: inv.lastRefreshEpochMs / 1000 }] : [] },
      { name: 'daqs_inventory_refresh_failures_total', type: 'counter', help: 'Inventory lookups that could not list VMs at all (the previous list stayed in use).', samples: inv ? [{ labels: { port }, value: inv.refreshFailures }] : [] },
    ];
    return out + renderFamilies(families);
  }
}
