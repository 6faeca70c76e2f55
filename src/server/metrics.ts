/**
 * Prometheus metrics for daqs, updated from each TickReport and DaemonEvent in O(VMs) so
 * the control loop never waits for a scrape: a scrape only serialises values already set.
 *
 * Conventions chosen: rates in bits per second; an unknown value (no fresh sample, no cap,
 * no maximum) is an ABSENT series, never NaN or 0, because 0 reads as "blocked" and NaN
 * breaks sums; `daqs_vm_capped` (always present) says whether a cap is in force. A VM that
 * leaves the report loses all its series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DaemonEvent, TickReport, VmId, VmTickReport } from '../core/types.ts';

/** Options for the metrics registry. */
export interface MetricsOptions {
  /** Also export Node process metrics (process_*, nodejs_*); default true. */
  readonly processMetrics?: boolean;
}

interface VmSeriesState {
  infoLabels: Record<'vm' | 'role' | 'guarantee_source' | 'max_source' | 'weight_source', string>;
  errorCodes: Set<string>;
}

const VM_GAUGE_NAMES = [
  'tx_rate_bits_per_second', 'demand_bits_per_second', 'cap_bits_per_second', 'capped',
  'guarantee_bits_per_second', 'max_bits_per_second', 'weight', 'guarantee_met', 'agent_up', 'agent_rtt_seconds',
] as const;
type VmGaugeName = (typeof VM_GAUGE_NAMES)[number];

const VM_GAUGE_HELP: Record<VmGaugeName, string> = {
  tx_rate_bits_per_second: 'Measured TX rate of the VM in the last tick; absent when the tick had no fresh sample.',
  demand_bits_per_second: 'Estimated demand: what the VM would send if uncapped; absent when unknown.',
  cap_bits_per_second: 'TX cap in force on the VM; absent when uncapped (see daqs_vm_capped).',
  capped: '1 when a daqs cap is in force on the VM, 0 when it is uncapped.',
  guarantee_bits_per_second: 'Guaranteed minimum TX rate of the VM; 0 for Best-Effort VMs.',
  max_bits_per_second: 'Configured maximum TX rate of the VM; absent when it has none.',
  weight: 'Weight of the VM in sharing what is left for Best-Effort traffic.',
  guarantee_met: '1 when a Guarantee VM is at or above min(guarantee, demand), 0 when not; absent for Best-Effort VMs or when unknown.',
  agent_up: '1 when the VM\'s guest agent answered in the last tick, 0 when the VM skipped the tick with an error.',
  agent_rtt_seconds: 'Guest agent round-trip time of the last tick; absent when unknown.',
};

/** The daqs metric families in one registry; feed it with observeTick and observeEvent. */
export class DaqsMetrics {
  /** The registry /metrics serialises. */
  readonly registry = new Registry();
  private readonly vmGauges: Record<VmGaugeName, Gauge<'vm'>>;
  private readonly vmInfo: Gauge<'vm' | 'role' | 'guarantee_source' | 'max_source' | 'weight_source'>;
  private readonly vmTxBytes: Counter<'vm'>;
  private readonly agentErrors: Counter<'vm' | 'code'>;
  private readonly vmsByRole: Gauge<'role'>;
  private readonly portNominal: Gauge;
  private readonly portLearned: Gauge;
  private readonly portUsed: Gauge;
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
  private readonly vmState = new Map<VmId, VmSeriesState>();
  private prevTickEpochMs: number | null = null;
  private infoLabels: { policy: string; version: string } | null = null;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.vmGauges = Object.fromEntries(VM_GAUGE_NAMES.map((n) => [n, new Gauge({ name: `daqs_vm_${n}`, help: VM_GAUGE_HELP[n], labelNames: ['vm'], registers })])) as Record<VmGaugeName, Gauge<'vm'>>;
    this.vmInfo = new Gauge({ name: 'daqs_vm_info', help: 'Always 1; labels say the VM\'s role and where each of its SLA settings came from (config, libvirt-metadata, default).', labelNames: ['vm', 'role', 'guarantee_source', 'max_source', 'weight_source'], registers });
    this.vmTxBytes = new Counter({ name: 'daqs_vm_tx_bytes_total', help: 'Bytes the VM sent, integrated from its measured TX rate over tick intervals (an estimate from daqs\' samples).', labelNames: ['vm'], registers });
    this.agentErrors = new Counter({ name: 'daqs_agent_errors_total', help: 'Ticks a VM skipped because reading or controlling it failed, by error code.', labelNames: ['vm', 'code'], registers });
    this.vmsByRole = new Gauge({ name: 'daqs_vms', help: 'VMs in the last tick, by role.', labelNames: ['role'], registers });
    this.portNominal = new Gauge({ name: 'daqs_port_nominal_capacity_bits_per_second', help: 'Port capacity from configuration or link speed.', registers });
    this.portLearned = new Gauge({ name: 'daqs_port_learned_capacity_bits_per_second', help: 'Port capacity learned from observed saturated throughput.', registers });
    this.portUsed = new Gauge({ name: 'daqs_port_used_bits_per_second', help: 'Sum of the measured TX rates of all VMs on the port in the last tick.', registers });
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

  /** Updates every series from one tick; O(VMs), never throws for well-formed reports. */
  observeTick(report: TickReport): void {
    this.ticks.inc();
    if (report.overran) this.overruns.inc();
    this.tickDuration.observe(report.durationMs / 1000);
    this.lastTick.set(report.atEpochMs / 1000);
    this.portNominal.set(report.port.nominalCapacityBps);
    this.portLearned.set(report.port.learnedCapacityBps);
    this.portUsed.set(report.port.usedBps);
    const intervalMs = this.prevTickEpochMs === null ? 0 : report.atEpochMs - this.prevTickEpochMs;
    this.prevTickEpochMs = report.atEpochMs;

    const present = new Set<VmId>();
    let guarantee = 0;
    for (const vm of report.vms) {
      present.add(vm.id);
      if (vm.role === 'guarantee') guarantee++;
      this.observeVm(vm, intervalMs);
    }
    this.vmsByRole.set({ role: 'guarantee' }, guarantee);
    this.vmsByRole.set({ role: 'best-effort' }, report.vms.length - guarantee);
    for (const id of this.vmState.keys()) if (!present.has(id)) this.removeVm(id);

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
    return this.registry.metrics();
  }

  /** Content-Type header for `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  private observeVm(vm: VmTickReport, intervalMs: number): void {
    const labels = { vm: vm.id };
    const g = this.vmGauges;
    const state = this.vmState.get(vm.id) ?? { infoLabels: this.infoLabelsFor(vm), errorCodes: new Set<string>() };
    this.vmState.set(vm.id, state);
    const infoLabels = this.infoLabelsFor(vm);
    if (!sameLabels(infoLabels, state.infoLabels)) this.vmInfo.remove(state.infoLabels);
    state.infoLabels = infoLabels;
    this.vmInfo.set(infoLabels, 1);

    setOrRemove(g.tx_rate_bits_per_second, labels, vm.rateBps);
    setOrRemove(g.demand_bits_per_second, labels, vm.demandBps);
    setOrRemove(g.cap_bits_per_second, labels, vm.capBps);
    g.capped.set(labels, vm.capBps === null ? 0 : 1);
    g.guarantee_bits_per_second.set(labels, vm.sla.guaranteeBps);
    setOrRemove(g.max_bits_per_second, labels, vm.sla.maxBps);
    g.weight.set(labels, vm.sla.weight);
    setOrRemove(g.guarantee_met, labels, vm.guaranteeMet === null ? null : vm.guaranteeMet ? 1 : 0);
    g.agent_up.set(labels, vm.error === null ? 1 : 0);
    setOrRemove(g.agent_rtt_seconds, labels, vm.agentRttMs === null ? null : vm.agentRttMs / 1000);
    if (vm.agentRttMs !== null) this.agentRtt.observe(vm.agentRttMs / 1000);
    // Create the counter at 0 on first sight so rate() sees the VM's first bytes.
    this.vmTxBytes.inc(labels, vm.rateBps !== null && intervalMs > 0 && intervalMs < 10_000 ? (vm.rateBps / 8) * (intervalMs / 1000) : 0);
    if (vm.error !== null) {
      state.errorCodes.add(vm.error.code);
      this.agentErrors.inc({ vm: vm.id, code: vm.error.code });
    }
  }

  private infoLabelsFor(vm: VmTickReport): VmSeriesState['infoLabels'] {
    return { vm: vm.id, role: vm.role, guarantee_source: vm.slaSource.guaranteeBps, max_source: vm.slaSource.maxBps, weight_source: vm.slaSource.weight };
  }

  private removeVm(id: VmId): void {
    const state = this.vmState.get(id);
    if (!state) return;
    for (const name of VM_GAUGE_NAMES) this.vmGauges[name].remove({ vm: id });
    this.vmInfo.remove(state.infoLabels);
    this.vmTxBytes.remove({ vm: id });
    for (const code of state.errorCodes) this.agentErrors.remove({ vm: id, code });
    this.vmState.delete(id);
  }
}

function setOrRemove(gauge: Gauge<'vm'>, labels: { vm: string }, value: number | null): void {
  if (value === null || !Number.isFinite(value)) gauge.remove(labels);
  else gauge.set(labels, value);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
