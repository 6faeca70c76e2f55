/**
 * A simulated host: VMs with TCP flows share one port (see fluid.ts); caps set through each
 * VM's VmEndpoint take effect after an apply delay; byte counters advance with simulated
 * time. The same loop and policy code that drive real guests drive this.
 */
import type { CapReading, TxSample, VmEndpoint, VmId } from '../core/types.ts';
import { SimClock } from './clock.ts';
import { SimFaultError, SimRequestError } from './errors.ts';
import { shareFluid } from './fluid.ts';

/** How a simulated VM's traffic behaves. */
export interface SimTraffic {
  /** Active TCP flows (iperf -P); 0 = silent. */
  readonly flows: number;
  /** One flow's ceiling (the paper's single-thread limit); null = none. */
  readonly perFlowLimitBps?: number | null;
  /** The VM's total ceiling (iperf -b); null = none. */
  readonly demandBps?: number | null;
}

/** Fault injected into a VM's endpoint: every call throws, or never answers until aborted. */
export type SimFault = 'none' | 'throw' | 'hang';

/** The host's physics. */
export interface SimHostOptions {
  /** Nominal port speed. */
  readonly capacityBps: number;
  /** Fraction of the nominal speed the port really delivers (the controller must learn it). */
  readonly efficiency?: number;
  /** Delay between applyCap() and the cap taking effect (tc through the agent). */
  readonly applyDelayMs?: number;
  /** Time constant of TCP growing into new room; 0 = instant. Shrinking is always instant. */
  readonly rampMs?: number;
  /** Integration step. */
  readonly stepMs?: number;
  readonly clock?: SimClock;
}

interface SimVm {
  readonly id: VmId;
  traffic: Required<SimTraffic>;
  capBps: number | null;
  pending: { atMs: number; capBps: number | null }[];
  rateBps: number;
  txBytes: number;
  fault: SimFault;
  endpoint: SimEndpoint;
}

/** The simulated host; create VMs with addVm() and move time with advance(). */
export class SimHost {
  readonly clock: SimClock;
  readonly capacityBps: number;
  readonly efficiency: number;
  readonly applyDelayMs: number;
  readonly rampMs: number;
  readonly stepMs: number;
  readonly #vms = new Map<VmId, SimVm>();

  constructor(opts: SimHostOptions) {
    this.clock = opts.clock ?? new SimClock();
    this.capacityBps = opts.capacityBps;
    this.efficiency = opts.efficiency ?? 1;
    this.applyDelayMs = opts.applyDelayMs ?? 20;
    this.rampMs = opts.rampMs ?? 0;
    this.stepMs = opts.stepMs ?? 10;
  }

  /** Adds a VM and returns its endpoint. */
  addVm(id: VmId, traffic: SimTraffic): SimEndpoint {
    if (this.#vms.has(id)) throw new SimRequestError('E_SIM_NO_VM', `VM ${id} already exists`);
    const endpoint = new SimEndpoint(this, id);
    this.#vms.set(id, { id, traffic: normalize(traffic), capBps: null, pending: [], rateBps: 0, txBytes: 0, fault: 'none', endpoint });
    this.#recompute(0);
    return endpoint;
  }

  /** Removes a VM (it shut down); its endpoint then fails with E_SIM_NO_VM. */
  removeVm(id: VmId): void {
    this.#vms.delete(id);
  }

  /** Changes what a VM sends (start, stop, more threads, a new iperf -b). */
  setTraffic(id: VmId, traffic: SimTraffic): void {
    this.#vm(id).traffic = normalize(traffic);
  }

  /** Makes a VM's endpoint fail ('throw'), stall ('hang') or work again ('none'). */
  setFault(id: VmId, fault: SimFault): void {
    this.#vm(id).fault = fault;
  }

  /** Sets a VM's byte counter back to zero, as a guest reboot or driver reload does. */
  resetCounter(id: VmId): void {
    this.#vm(id).txBytes = 0;
  }

  /** The VM's current throughput. */
  rateOf(id: VmId): number {
    return this.#vm(id).rateBps;
  }

  /** The cap in effect on the VM now (not one still pending). */
  capOf(id: VmId): number | null {
    return this.#vm(id).capBps;
  }

  /** Sum of all VMs' throughput. */
  totalRateBps(): number {
    let sum = 0;
    for (const vm of this.#vms.values()) sum += vm.rateBps;
    return sum;
  }

  /** All VM ids, in creation order. */
  vmIds(): VmId[] {
    return [...this.#vms.keys()];
  }

  /** Endpoint of a VM. */
  endpoint(id: VmId): SimEndpoint {
    return this.#vm(id).endpoint;
  }

  /** Moves simulated time forward by ms, integrating traffic and firing due sleeps. */
  advance(ms: number): void {
    const end = this.clock.nowMs() + ms;
    while (this.clock.nowMs() < end) {
      const dt = Math.min(this.stepMs, end - this.clock.nowMs());
      for (const vm of this.#vms.values()) vm.txBytes += (vm.rateBps * dt) / 8000;
      this.clock.advanceTo(this.clock.nowMs() + dt);
      this.#recompute(dt);
    }
  }

  /**
   * Advances time in steps, yielding to the event loop between steps so a running loop
   * (Controller.start) can finish each tick; for tests of the started loop.
   */
  async run(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    while (this.clock.nowMs() < end) {
      await new Promise<void>((r) => setImmediate(r));
      this.advance(Math.min(this.stepMs, end - this.clock.nowMs()));
    }
    await new Promise<void>((r) => setImmediate(r));
  }

  #recompute(dtMs: number): void {
    const now = this.clock.nowMs();
    const vms = [...this.#vms.values()];
    for (const vm of vms) {
      while (vm.pending.length > 0 && vm.pending[0]!.atMs <= now) vm.capBps = vm.pending.shift()!.capBps;
    }
    const targets = shareFluid(this.capacityBps * this.efficiency, vms.map((vm) => ({ ...vm.traffic, capBps: vm.capBps })));
    const alpha = this.rampMs > 0 ? 1 - Math.exp(-dtMs / this.rampMs) : 1;
    vms.forEach((vm, i) => {
      const target = targets[i]!;
      // Shapers cut at once; TCP grows into new room over about rampMs.
      vm.rateBps = target <= vm.rateBps ? target : vm.rateBps + (target - vm.rateBps) * alpha;
    });
  }

  #vm(id: VmId): SimVm {
    const vm = this.#vms.get(id);
    if (!vm) throw new SimRequestError('E_SIM_NO_VM', `no simulated VM ${id}`);
    return vm;
  }

  /** @internal Used by SimEndpoint. */
  _readTx(id: VmId): TxSample {
    const vm = this.#vm(id);
    return { txBytes: BigInt(Math.floor(vm.txBytes)), atMs: this.clock.nowMs() };
  }

  /** @internal Used by SimEndpoint. */
  _applyCap(id: VmId, capBps: number | null): void {
    const vm = this.#vm(id);
    if (capBps !== null && !(Number.isFinite(capBps) && capBps > 0)) {
      throw new SimRequestError('E_SIM_BAD_CAP', `cap for ${id} must be a positive finite rate or null, got ${capBps}`);
    }
    vm.pending.push({ atMs: this.clock.nowMs() + this.applyDelayMs, capBps });
  }

  /** @internal Used by SimEndpoint: the latest cap asked for, as tc would show it once applied. */
  _readCap(id: VmId): CapReading {
    const vm = this.#vm(id);
    const capBps = vm.pending.length > 0 ? vm.pending[vm.pending.length - 1]!.capBps : vm.capBps;
    return { capBps, detail: capBps === null ? 'no daqs qdisc' : `sim cap ${Math.round(capBps)}bit` };
  }

  /** @internal Used by SimEndpoint. */
  _fault(id: VmId): SimFault {
    return this.#vm(id).fault;
  }
}

/** A simulated VM's VmEndpoint: a working implementation over the SimHost. */
export class SimEndpoint implements VmEndpoint {
  constructor(private readonly host: SimHost, readonly id: VmId) {}

  /** Reads the VM's TX counter at the current simulated time. */
  readTx(signal?: AbortSignal): Promise<TxSample> {
    return this.#call('readTx', signal, () => this.host._readTx(this.id));
  }

  /** Asks for a cap; it takes effect after the host's apply delay. */
  applyCap(capBps: number | null, signal?: AbortSignal): Promise<void> {
    return this.#call('applyCap', signal, () => this.host._applyCap(this.id, capBps));
  }

  /** Reads the cap back. */
  readCap(signal?: AbortSignal): Promise<CapReading> {
    return this.#call('readCap', signal, () => this.host._readCap(this.id));
  }

  /** Nothing to release in the simulator. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #call<T>(op: string, signal: AbortSignal | undefined, fn: () => T): Promise<T> {
    try {
      const fault = this.host._fault(this.id);
      if (fault === 'throw') return Promise.reject(new SimFaultError(this.id, op));
      if (fault === 'hang') {
        return new Promise<T>((_, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function normalize(t: SimTraffic): Required<SimTraffic> {
  return { flows: t.flows, perFlowLimitBps: t.perFlowLimitBps ?? null, demandBps: t.demandBps ?? null };
}
