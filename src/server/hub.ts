/**
 * The ObservationHub is where the daemon drops what it saw: one TickReport per tick and
 * DaemonEvents as they happen. Status, metrics, history and the live view all read from it.
 *
 * publishTick and publishEvent are synchronous, O(VMs), never throw and never wait for a
 * reader: metrics are updated in place, history folds the tick into a bounded ring, and
 * viewers pull what is new by sequence number on their own schedule (see ./stream.ts). A
 * viewer that falls behind only misses old entries; the publisher never tracks viewers.
 */
import { hostname } from 'node:os';
import type { DaemonEvent, InventoryHealth, TickReport } from '../core/types.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { TickHistory, type HistoryPoint } from './history.ts';
import { DaqsMetrics } from './metrics.ts';
import { SeqRing, type SinceResult } from './ring.ts';
import { daqsVersion } from './version.ts';

/** Facts about the running daemon that status and the web view show. */
export interface DaemonInfo {
  readonly version: string;
  /** Policy in force ("daqs", "paper", ...); null until the daemon says. */
  readonly policy: string | null;
  readonly configPath: string | null;
  readonly startedAtEpochMs: number;
  readonly pid: number;
  readonly hostname: string;
  readonly tickPeriodMs: number | null;
  /** The port daqs shares out (its interface, or "testbed:NAME" for an emulated host), if known; the metrics' `port` label. */
  readonly portName: string | null;
}

/** Configuration reload outcomes, counted from config-reloaded / config-rejected events. */
export interface ConfigReloadStats {
  readonly reloads: number;
  readonly rejections: number;
  readonly lastRejection: DaemonEvent | null;
}

/** What /api/status returns and `daqs status` prints. */
export interface StatusSnapshot {
  readonly info: DaemonInfo;
  /** Server wall-clock time when the snapshot was taken (epoch ms). */
  readonly nowEpochMs: number;
  /** Milliseconds since the latest tick started; null before the first tick. */
  readonly lastTickAgeMs: number | null;
  readonly latest: TickReport | null;
  readonly config: ConfigReloadStats;
  readonly ticksPublished: number;
  /** VMs per inventory status and the last refresh; null until the daemon reports it. */
  readonly inventory: InventoryHealth | null;
}

/** What /api/history returns. */
export interface HistorySnapshot {
  readonly resolutionMs: number;
  readonly windowMs: number;
  readonly points: readonly HistoryPoint[];
}

/** Sizing and collaborators of the hub. */
export interface HubOptions {
  /** Minutes of per-VM history to keep (default 10). */
  readonly historyMinutes?: number;
  /** Milliseconds of ticks per history point (default 1000). */
  readonly historyResolutionMs?: number;
  /** Events to keep (default 500). */
  readonly maxEvents?: number;
  /** Metrics to update; default a fresh DaqsMetrics with process metrics. */
  readonly metrics?: DaqsMetrics;
  /** Where a fault inside the hub is reported (it is never thrown into the loop). */
  readonly logger?: Logger;
  /** Wall clock for status snapshots (tests pass a fixed one). */
  readonly nowEpochMs?: () => number;
  /** Monotonic clock for the age of the last tick (/healthz); default performance.now. */
  readonly monoNowMs?: () => number;
}

/** In-memory store of the latest tick, recent history and events, fed by the control loop. */
export class ObservationHub {
  /** Prometheus series, updated on every publish. */
  readonly metrics: DaqsMetrics;
  private readonly history: TickHistory;
  private readonly events: SeqRing<DaemonEvent>;
  private readonly logger: Logger;
  private readonly now: () => number;
  private latest: TickReport | null = null;
  private ticksPublished = 0;
  private readonly monoNow: () => number;
  private readonly createdMonoMs: number;
  private lastTickMonoMs: number | null = null;
  private faults = 0;
  private info: DaemonInfo;
  private config: ConfigReloadStats = { reloads: 0, rejections: 0, lastRejection: null };
  private inventory: InventoryHealth | null = null;

  constructor(opts: HubOptions = {}) {
    this.metrics = opts.metrics ?? new DaqsMetrics();
    this.history = new TickHistory({ windowMs: (opts.historyMinutes ?? 10) * 60_000, resolutionMs: opts.historyResolutionMs ?? 1000 });
    this.events = new SeqRing(opts.maxEvents ?? 500);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.nowEpochMs ?? Date.now;
    this.monoNow = opts.monoNowMs ?? (() => performance.now());
    this.createdMonoMs = this.monoNow();
    this.info = { version: daqsVersion(), policy: null, configPath: null, startedAtEpochMs: this.now(), pid: process.pid, hostname: hostname(), tickPeriodMs: null, portName: null };
    this.syncBuildInfo();
  }

  /** Records one tick. Synchronous, O(VMs); a fault is logged, never thrown to the loop. */
  publishTick(report: TickReport): void {
    try {
      this.lastTickMonoMs = this.monoNow();
      this.latest = report;
      this.ticksPublished++;
      this.history.add(report);
      this.metrics.observeTick(report);
      if (report.policy !== this.info.policy) this.setInfo({ policy: report.policy });
    } catch (err) {
      this.reportFault('publishTick', err);
    }
  }

  /** Records one event. Synchronous, O(1); config events also update the reload counters. */
  publishEvent(event: DaemonEvent): void {
    try {
      this.events.push(event);
      this.metrics.observeEvent(event);
      if (event.kind === 'config-reloaded') this.config = { ...this.config, reloads: this.config.reloads + 1 };
      if (event.kind === 'config-rejected') this.config = { ...this.config, rejections: this.config.rejections + 1, lastRejection: event };
    } catch (err) {
      this.reportFault('publishEvent', err);
    }
  }

  /** Merges facts about the daemon (policy, config path, start time, ...). */
  setInfo(info: Partial<DaemonInfo>): void {
    const before = this.info;
    this.info = { ...this.info, ...info };
    if (this.info.policy !== before.policy || this.info.version !== before.version || this.info.portName !== before.portName) this.syncBuildInfo();
  }

  /** Records the inventory's health (the daemon calls it after every inventory refresh). Never throws. */
  setInventory(health: InventoryHealth): void {
    try {
      this.inventory = health;
      this.metrics.setInventory(health);
    } catch (err) {
      this.reportFault('setInventory', err);
    }
  }

  /** The latest tick, or null before the first one. */
  latestTick(): TickReport | null {
    return this.latest;
  }

  /** What /api/status serves. */
  status(): StatusSnapshot {
    const nowEpochMs = this.now();
    return {
      info: this.info,
      nowEpochMs,
      lastTickAgeMs: this.latest ? nowEpochMs - this.latest.atEpochMs : null,
      latest: this.latest,
      config: this.config,
      ticksPublished: this.ticksPublished,
      inventory: this.inventory,
    };
  }

  /**
   * Milliseconds since the last tick was published, on the monotonic clock (a wall-clock step
   * cannot fake a stall or hide one); before the first tick, since the hub was created.
   */
  tickAgeMs(): number {
    return this.monoNow() - (this.lastTickMonoMs ?? this.createdMonoMs);
  }

  /** What /api/history serves: every stored point, oldest first. */
  historySnapshot(): HistorySnapshot {
    return { resolutionMs: this.history.resolutionMs, windowMs: this.history.windowMs, points: this.history.points() };
  }

  /** History points after sequence `afterSeq`; a viewer's cursor is the last seq it got. */
  historySince(afterSeq: number): SinceResult<HistoryPoint> {
    return this.history.since(afterSeq);
  }

  /** Events after sequence `afterSeq`, oldest first. */
  eventsSince(afterSeq: number): SinceResult<DaemonEvent> {
    return this.events.since(afterSeq);
  }

  /** Sequence numbers of the newest history point and event (0 when none). */
  cursors(): { historySeq: number; eventSeq: number; ticks: number } {
    return { historySeq: this.history.lastSeq, eventSeq: this.events.lastSeq, ticks: this.ticksPublished };
  }

  private syncBuildInfo(): void {
    this.metrics.setInfo({ policy: this.info.policy ?? '', version: this.info.version, port: this.info.portName ?? '' });
  }

  private reportFault(op: string, err: unknown): void {
    // Log the first faults and then one in a thousand, so a bad report every tick cannot flood the log.
    this.faults++;
    if (this.faults <= 5 || this.faults % 1000 === 0) {
      this.logger.error({ op, code: 'E_HUB_FAULT', err, faults: this.faults }, `observation hub: ${op} failed; the control loop continues, status and metrics may lag`);
    }
  }
}
