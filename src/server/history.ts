/**
 * The last minutes of per-VM samples for the web view and /api/history. Ticks come every
 * 200 ms; storing each one for 10 minutes of 1,000 VMs would hold millions of objects, so
 * ticks are folded into one point per `resolutionMs` (mean rates, last cap) in O(VMs).
 */
import type { TickReport, VmId } from '../core/types.ts';
import { SeqRing, type SinceResult } from './ring.ts';

/** One VM in one history point. */
export interface VmPoint {
  /** Mean measured TX rate over the point's ticks; null when no tick had a sample. */
  readonly rateBps: number | null;
  readonly demandBps: number | null;
  /** Cap in force at the end of the point; null = uncapped. */
  readonly capBps: number | null;
  readonly guaranteeBps: number;
  /** false if any tick of the point missed the guarantee; null for Best-Effort or unknown. */
  readonly guaranteeMet: boolean | null;
}

/** The port and every VM, summarised over `resolutionMs` of ticks. */
export interface HistoryPoint {
  /** Wall-clock time (epoch ms) of the last tick folded into the point. */
  readonly atEpochMs: number;
  readonly ticks: number;
  readonly port: { readonly usedBps: number; readonly nominalCapacityBps: number; readonly learnedCapacityBps: number };
  readonly vms: Readonly<Record<VmId, VmPoint>>;
}

/** Sizing of the history. */
export interface HistoryOptions {
  /** How far back to keep points (default 10 minutes). */
  readonly windowMs?: number;
  /** One point per this many milliseconds of ticks (default 1000). */
  readonly resolutionMs?: number;
}

interface VmAccumulator {
  rateSumBps: number;
  rateCount: number;
  demandSumBps: number;
  demandCount: number;
  capBps: number | null;
  guaranteeBps: number;
  met: boolean | null;
}

/** Folds TickReports into a bounded ring of HistoryPoints. */
export class TickHistory {
  /** Milliseconds of ticks per point. */
  readonly resolutionMs: number;
  /** How far back points are kept, in milliseconds. */
  readonly windowMs: number;
  private readonly ring: SeqRing<HistoryPoint>;
  private bucket: number | null = null;
  private lastReport: TickReport | null = null;
  private ticks = 0;
  private usedSumBps = 0;
  private vms = new Map<VmId, VmAccumulator>();

  constructor(opts: HistoryOptions = {}) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.resolutionMs = opts.resolutionMs ?? 1000;
    if (!(this.resolutionMs > 0) || !(this.windowMs >= this.resolutionMs)) {
      throw new RangeError(`history needs 0 < resolutionMs <= windowMs, got resolutionMs=${this.resolutionMs} windowMs=${this.windowMs}`);
    }
    this.ring = new SeqRing(Math.ceil(this.windowMs / this.resolutionMs));
  }

  /**
   * Adds one tick. Points cover aligned wall-clock buckets (whole seconds by default): the
   * first tick of a new bucket closes the previous point, so a point is published one tick late.
   */
  add(report: TickReport): void {
    const bucket = Math.floor(report.atEpochMs / this.resolutionMs);
    if (this.bucket !== null && bucket !== this.bucket) this.flush();
    this.bucket = bucket;
    this.ticks++;
    this.usedSumBps += report.port.usedBps;
    this.lastReport = report;
    const seen = new Map<VmId, VmAccumulator>();
    for (const vm of report.vms) {
      // A VM that left mid-point is dropped from it: the view shows it as gone, not flat.
      const acc = this.vms.get(vm.id) ?? { rateSumBps: 0, rateCount: 0, demandSumBps: 0, demandCount: 0, capBps: null, guaranteeBps: 0, met: null };
      if (vm.rateBps !== null) { acc.rateSumBps += vm.rateBps; acc.rateCount++; }
      if (vm.demandBps !== null) { acc.demandSumBps += vm.demandBps; acc.demandCount++; }
      acc.capBps = vm.capBps;
      acc.guaranteeBps = vm.sla.guaranteeBps;
      if (vm.guaranteeMet !== null) acc.met = acc.met === false ? false : vm.guaranteeMet;
      seen.set(vm.id, acc);
    }
    this.vms = seen;
  }

  /** Points after sequence `afterSeq` (0: all), oldest first. */
  since(afterSeq: number): SinceResult<HistoryPoint> {
    return this.ring.since(afterSeq);
  }

  /** All stored points, oldest first. */
  points(): HistoryPoint[] {
    return this.ring.toArray();
  }

  /** Sequence number of the newest point (0 when none). */
  get lastSeq(): number {
    return this.ring.lastSeq;
  }

  private flush(): void {
    const report = this.lastReport;
    if (report === null || this.ticks === 0) return;
    const vms: Record<VmId, VmPoint> = {};
    for (const [id, a] of this.vms) {
      vms[id] = {
        rateBps: a.rateCount > 0 ? a.rateSumBps / a.rateCount : null,
        demandBps: a.demandCount > 0 ? a.demandSumBps / a.demandCount : null,
        capBps: a.capBps,
        guaranteeBps: a.guaranteeBps,
        guaranteeMet: a.met,
      };
    }
    this.ring.push({
      atEpochMs: report.atEpochMs,
      ticks: this.ticks,
      port: { usedBps: this.usedSumBps / this.ticks, nominalCapacityBps: report.port.nominalCapacityBps, learnedCapacityBps: report.port.learnedCapacityBps },
      vms,
    });
    this.ticks = 0;
    this.usedSumBps = 0;
    this.vms = new Map();
  }
}
