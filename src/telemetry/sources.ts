/**
 * Where TX counters come from. The guest's view (qemu-ga statistics of the VF interface, in
 * src/endpoint/agent-tx-source.ts) and the host's view (switch-side counters of the VF; later
 * the PF's per-VF stats) implement the same interface, so the loop can use either and a check
 * can compare them.
 */
import type { Clock, TxSample, VmId } from '../core/types.ts';
import { systemClock } from './clock.ts';
import { RateEstimator, type RateEstimatorOptions, type RateReading } from './rate-estimator.ts';

/** A VM's TX byte counter. */
export interface TxCounterSource {
  readonly id: VmId;
  readTx(signal?: AbortSignal): Promise<TxSample>;
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
