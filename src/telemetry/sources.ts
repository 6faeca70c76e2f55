/**
 * Where TX counters come from. The guest's view (qemu-ga statistics of the VF interface) and
 * the host's view (switch-side counters of the VF; later the PF's per-VF stats) implement the
 * same interface, so the loop can use either and a check can compare them.
 */
import type { Clock, TxSample, VmId } from '../core/types.ts';
import type { JsonValue } from '../agent/json.ts';
import type { GuestAgent } from '../agent/types.ts';
import { systemClock } from './clock.ts';
import { TelemetryError } from './errors.ts';
import { parseGuestInterfaces, pickInterface, type GuestInterface, type IfaceSelector } from './interfaces.ts';
import { RateEstimator, type RateEstimatorOptions, type RateReading } from './rate-estimator.ts';

/** A VM's TX byte counter. */
export interface TxCounterSource {
  readonly id: VmId;
  readTx(signal?: AbortSignal): Promise<TxSample>;
}

/** Options of AgentTxSource. */
export interface AgentTxSourceOptions {
  readonly clock?: Clock;
  /** Bound on the statistics query (default 500 ms). */
  readonly timeoutMs?: number;
}

/** TX counter of the VF interface as the guest agent reports it. */
export class AgentTxSource implements TxCounterSource {
  readonly id: VmId;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private lastIface: GuestInterface | null = null;

  constructor(private readonly agent: GuestAgent, private readonly selector: IfaceSelector, opts: AgentTxSourceOptions & { id?: VmId } = {}) {
    this.id = opts.id ?? agent.vm;
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = opts.timeoutMs ?? 500;
  }

  /** The VF interface found by the last query (its name is what tc needs); null before the first. */
  get iface(): GuestInterface | null {
    return this.lastIface;
  }

  /** Queries the agent and finds the VF interface, without reading its counter. */
  async findInterface(signal?: AbortSignal): Promise<GuestInterface> {
    const reply = await this.agent.execute<JsonValue>('guest-network-get-interfaces', undefined, { timeoutMs: this.timeoutMs, signal });
    this.lastIface = pickInterface(this.id, parseGuestInterfaces(this.id, reply), this.selector);
    return this.lastIface;
  }

  /** Reads the VF's TX bytes; the time is the middle of the round trip, the best guess of when the guest read /proc/net/dev. */
  async readTx(signal?: AbortSignal): Promise<TxSample> {
    const t0 = this.clock.nowMs();
    const iface = await this.findInterface(signal);
    const t1 = this.clock.nowMs();
    if (!iface.stats) {
      throw new TelemetryError('E_TELEMETRY_NO_STATS', this.id, `the agent reports no statistics for ${iface.name}: qemu-ga (2.11+) lists statistics only for interfaces that have an IP address, so give the VF an address in the guest, or read TX from host-side counters`);
    }
    return { txBytes: iface.stats.txBytes, atMs: (t0 + t1) / 2 };
  }
}

/** What the host side offers (the emulated host's Testbed has this method). */
export interface HostCounterReader {
  readHostTxBytes(vmIndex: number): Promise<bigint>;
}

/** TX counter of a VF as the host sees it (the emulated switch side; later the PF's VF stats). */
export class HostTxSource implements TxCounterSource {
  private readonly clock: Clock;

  constructor(readonly id: VmId, private readonly host: HostCounterReader, private readonly vmIndex: number, opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Reads the host-side counter of this VF. */
  async readTx(): Promise<TxSample> {
    const t0 = this.clock.nowMs();
    const txBytes = await this.host.readHostTxBytes(this.vmIndex);
    return { txBytes, atMs: (t0 + this.clock.nowMs()) / 2 };
  }
}

/** A counter source plus its rate estimator: one call per tick gives the rate. */
export class RateMeter {
  private readonly estimator: RateEstimator;

  constructor(readonly source: TxCounterSource, opts: RateEstimatorOptions = {}) {
    this.estimator = new RateEstimator(opts);
  }

  /** Reads the counter and returns the rate since the previous successful read; a failed read throws and leaves no rate behind. */
  async sample(signal?: AbortSignal): Promise<RateReading & { readonly sample: TxSample }> {
    const sample = await this.source.readTx(signal);
    return { ...this.estimator.update(sample), sample };
  }
}
