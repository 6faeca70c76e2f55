/**
 * VmEndpoint over one guest agent: TX counters of the VF interface (chosen by MAC) and the cap
 * enforced with tc in the guest. The host-counter variant keeps enforcement in the guest but
 * reads TX where the host sees the VF, which a guest cannot forge.
 */
import type { GuestAgent } from '../agent/types.ts';
import type { CapReading, Clock, TxSample, VmEndpoint, VmId } from '../core/types.ts';
import { GuestTc, type GuestTcOptions } from '../tc/guest-tc.ts';
import { ifaceLabel, type IfaceSelector } from '../telemetry/interfaces.ts';
import type { TxCounterSource } from '../telemetry/sources.ts';
import type { Logger } from '../util/log.ts';
import { AgentTxSource } from './agent-tx-source.ts';
import { GuestExecTcRunner } from './guest-exec-tc.ts';

/** Construction options of AgentVmEndpoint. */
export interface AgentEndpointOptions {
  readonly id: VmId;
  readonly agent: GuestAgent;
  /** Which guest interface is the VF: its MAC (preferred) and/or name. */
  readonly iface: IfaceSelector;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly tc?: GuestTcOptions;
  /** Bound on a statistics query (default 500 ms). */
  readonly statsTimeoutMs?: number;
  /** Where to read TX instead of the guest (host-side counters); default: the guest agent. */
  readonly txSource?: TxCounterSource;
}

/** A VM reached through its guest agent: telemetry from qemu-ga statistics, caps via in-guest tc. */
export class AgentVmEndpoint implements VmEndpoint {
  readonly id: VmId;
  /** The agent, for callers that need more than the endpoint offers (capability check, RTT probe). */
  readonly agent: GuestAgent;
  private readonly stats: AgentTxSource;
  private readonly tx: TxCounterSource;
  private readonly tc: GuestTc;

  constructor(opts: AgentEndpointOptions) {
    this.id = opts.id;
    this.agent = opts.agent;
    this.stats = new AgentTxSource(opts.agent, opts.iface, { id: opts.id, clock: opts.clock, timeoutMs: opts.statsTimeoutMs });
    this.tx = opts.txSource ?? this.stats;
    this.tc = new GuestTc(new GuestExecTcRunner(opts.agent, opts.logger ? { logger: opts.logger } : {}), { logger: opts.logger, ...opts.tc });
  }

  /** Reads the VF's TX counter (from the guest, or the configured host source). */
  readTx(signal?: AbortSignal): Promise<TxSample> {
    return this.tx.readTx(signal);
  }

  /** Makes capBps the VM's TX cap (null lifts it); repeating the cap in force runs nothing in the guest. */
  async applyCap(capBps: number | null, signal?: AbortSignal): Promise<void> {
    const iface = await this.ifaceName(signal);
    try {
      await this.tc.applyCap(iface, capBps, signal);
    } catch (e) {
      // The interface may have been renamed or re-created: ask the guest again next time.
      this.ifaceNameCache = null;
      this.ifaceStale = true;
      throw e;
    }
  }

  /** Reads the cap in force from the guest's tc; a cap unlike the one applied is drift and is re-applied by the next applyCap. */
  async readCap(signal?: AbortSignal): Promise<CapReading> {
    const iface = await this.ifaceName(signal);
    const r = await this.tc.readCap(iface, signal);
    return { capBps: r.capBps, detail: `${ifaceLabel(iface)}: ${r.detail}` };
  }

  /** Closes the agent connection. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private ifaceNameCache: string | null = null;
  private ifaceStale = false;

  // The VF's name in the guest, from the last statistics query when there was one.
  private async ifaceName(signal?: AbortSignal): Promise<string> {
    if (this.ifaceNameCache === null) {
      const known = this.ifaceStale ? null : this.stats.iface;
      this.ifaceNameCache = (known ?? (await this.stats.findInterface(signal))).name;
      this.ifaceStale = false;
    }
    return this.ifaceNameCache;
  }
}
