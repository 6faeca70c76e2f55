/**
 * The guest's view of a VM's TX: the VF interface's counters from qemu-ga's
 * guest-network-get-interfaces, the VF chosen by MAC (src/telemetry/interfaces.ts).
 */
import type { GuestAgent } from '../agent/types.ts';
import type { Clock, TxSample, VmId } from '../core/types.ts';
import { systemClock } from '../telemetry/clock.ts';
import { TelemetryError } from '../telemetry/errors.ts';
import { ifaceLabel, parseGuestInterfaces, pickInterface, type GuestInterface, type IfaceSelector } from '../telemetry/interfaces.ts';
import type { TxCounterSource } from '../telemetry/sources.ts';
import type { JsonValue } from '../util/json.ts';

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
      throw new TelemetryError('E_TELEMETRY_NO_STATS', this.id, `the agent reports no statistics for ${ifaceLabel(iface.name)}: qemu-ga (2.11+) lists statistics only for interfaces that have an IP address, so give the VF an address in the guest, or read TX from host-side counters`);
    }
    return { txBytes: iface.stats.txBytes, atMs: (t0 + t1) / 2 };
  }
}
