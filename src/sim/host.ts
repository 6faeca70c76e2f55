/**
 * A simulated host: VMs with TCP flows share one port (see fluid.ts); caps set through each
 * VM's VmEndpoint take effect after an apply delay; byte counters advance with simulated
 * time. The same loop and policy code that drive real guests drive this.
 *
 * What the emulated host shows and the simulator reproduces, each off by default and seeded:
 * a capped TCP sender fills ~95% of its HTB rate (capFill); rates wobble from one moment to
 * the next (noiseFrac); a counter read is a few ms older than its timestamp says (readSkewMs);
 * a cap lands some time after it was asked for, by a varying delay, so two changes can land
 * in the wrong order (applyDelayMs, applyJitterMs); TCP grows into new room with a lag
 * (rampMs) and, after sitting at a very low rate, only as fast as slow start doubles it
 * (slowStartDoublingMs).
 */
import type { CapReading, TxSample, VmEndpoint, VmId } from '../core/types.ts';
import { seededRandom, type Random } from '../util/random.ts';
import { SimClock } from './clock.ts';
import { SimFaultError, SimRequestError } from './errors.ts';
import { ceilingOf, shareFluid, shareGuaranteed, type FluidVm } from './fluid.ts';

/** How a simulated VM's traffic behaves. */
export interface SimTraffic {
  /** Active TCP flows (iperf -P); 0 = silent. */
  readonly flows: number;
  /** One flow's ceiling (the paper's single-thread limit); null = none. */
  readonly perFlowLimitBps?: number | null;
  /** The VM's total ceiling (iperf -b); null = none. */
  readonly demandBps?: number | null;
  /** Fraction of its cap this VM's TCP delivers; default the host's capFill. */
  readonly capFill?: number | null;
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
  /** Each apply lands a further uniform 0..this ms late, so close changes can land out of order; default 0. */
  readonly applyJitterMs?: number;
  /** Time constant of TCP growing into new room; 0 = instant. Shrinking is always instant. */
  readonly rampMs?: number;
  /** TCP at most doubles its rate every this many ms (slow start), from flows × 1 Mbit/s; 0 = no limit (default). */
  readonly slowStartDoublingMs?: number;
  /** Fraction of its cap a capped TCP sender delivers (HTB under-fill); default 1. */
  readonly capFill?: number;
  /** Relative deviation of a one-flow VM's rate (n flows: this / √n), redrawn every noisePeriodMs; default 0. */
  readonly noiseFrac?: number;
  /** How long one noise draw lasts; default 100 ms. */
  readonly noisePeriodMs?: number;
  /** A counter read returns the value of a uniform 0..this ms earlier (the agent's own delay); default 0. */
  readonly readSkewMs?: number;
  /** Seed of every random draw (noise, jitter, skew); same seed, same run. */
  readonly seed?: number;
  /** Integration step. */
  readonly stepMs?: number;
  readonly clock?: SimClock;
}

/** Rate from which slow start grows, per flow. */
const SLOW_START_FROM_BPS = 1e6;

interface SimVm {
  readonly id: VmId;
  traffic: Required<SimTraffic>;
  capBps: number | null;
  /** Asked-for caps not landed yet, in the order they were asked for. */
  pending: { atMs: number; seq: number; capBps: number | null }[];
  rateBps: number;
  txBytes: number;
  noise: number;
  fault: SimFault;
  endpoint: SimEndpoint;
}

/** The simulated host; create VMs with addVm() and move time with advance(). */
export class SimHost {
  readonly clock: SimClock;
  readonly capacityBps: number;
  readonly efficiency: number;
  readonly applyDelayMs: number;
  readonly applyJitterMs: number;
  readonly rampMs: number;
  readonly slowStartDoublingMs: number;
  readonly capFill: number;
  readonly noiseFrac: number;
  readonly noisePeriodMs: number;
  readonly readSkewMs: number;
  readonly stepMs: number;
  readonly #vms = new Map<VmId, SimVm>();
  readonly #random: Random;
  #applySeq = 0;
  #nextNoiseMs = 0;
  /** Guaranteed rate per VM when the port is the oracle's scheduler; null = plain FIFO port. */
  #portGuarantees: ReadonlyMap<VmId, number> | null = null;

  constructor(opts: SimHostOptions) {
    this.clock = opts.clock ?? new SimClock();
    this.capacityBps = opts.capacityBps;
    this.efficiency = opts.efficiency ?? 1;
    this.applyDelayMs = opts.applyDelayMs ?? 20;
    this.applyJitterMs = opts.applyJitterMs ?? 0;
    this.rampMs = opts.rampMs ?? 0;
    this.slowStartDoublingMs = opts.slowStartDoublingMs ?? 0;
    this.capFill = opts.capFill ?? 1;
    this.noiseFrac = opts.noiseFrac ?? 0;
    this.noisePeriodMs = opts.noisePeriodMs ?? 100;
    this.readSkewMs = opts.readSkewMs ?? 0;
    this.stepMs = opts.stepMs ?? 10;
    this.#random = seededRandom(opts.seed ?? 1);
    for (const [k, v] of Object.entries({ capacityBps: this.capacityBps, efficiency: this.efficiency, applyDelayMs: this.applyDelayMs, applyJitterMs: this.applyJitterMs, rampMs: this.rampMs, slowStartDoublingMs: this.slowStartDoublingMs, capFill: this.capFill, noiseFrac: this.noiseFrac, noisePeriodMs: this.noisePeriodMs, readSkewMs: this.readSkewMs, stepMs: this.stepMs })) {
      if (!(Number.isFinite(v) && v >= 0)) throw new SimRequestError('E_SIM_BAD_OPTION', `sim host option ${k}=${v}: must be a finite number >= 0`);
    }
    if (!(this.capFill > 0 && this.capFill <= 1)) throw new SimRequestError('E_SIM_BAD_OPTION', `sim host option capFill=${this.capFill}: must be in (0, 1]`);
  }

  /** Adds a VM and returns its endpoint. */
  addVm(id: VmId, traffic: SimTraffic): SimEndpoint {
    if (this.#vms.has(id)) throw new SimRequestError('E_SIM_NO_VM', `VM ${id} already exists`);
    const endpoint = new SimEndpoint(this, id);
    this.#vms.set(id, { id, traffic: normalize(traffic), capBps: null, pending: [], rateBps: 0, txBytes: 0, noise: 1, fault: 'none', endpoint });
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

  /** Bits the VM has sent so far (the true counter, without read skew). */
  sentBits(id: VmId): number {
    return this.#vm(id).txBytes * 8;
  }

  /**
   * Makes the port the oracle's work-conserving scheduler with these guaranteed rates
   * (see shareGuaranteed); null restores the plain port. Caps still apply on top.
   */
  setPortScheduler(guaranteesBps: ReadonlyMap<VmId, number> | null): void {
    this.#portGuarantees = guaranteesBps;
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
      // Changes land in the order of their landing times, which jitter can swap: the one
      // that lands last is in force, even if it was asked for first.
      const due = vm.pending.filter((p) => p.atMs <= now).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      if (due.length === 0) continue;
      vm.capBps = due[due.length - 1]!.capBps;
      vm.pending = vm.pending.filter((p) => p.atMs > now);
    }
    if (this.noiseFrac > 0 && now >= this.#nextNoiseMs) {
      this.#nextNoiseMs = now + this.noisePeriodMs;
      // Flows wobble independently, so a VM's total wobbles less the more flows it has.
      // Bounded to ±3 deviations so a draw never turns a rate negative.
      for (const vm of vms) vm.noise = 1 + (this.noiseFrac / Math.sqrt(Math.max(1, vm.traffic.flows))) * Math.max(-3, Math.min(3, this.#random.normal()));
    }
    // TCP grows into new room over about rampMs, and never faster than slow start doubles it
    // (after sitting at a tiny cap, the first ticks of a raise are slow); until it has grown,
    // the room it has not taken yet stays with the others. Shapers cut at once.
    const alpha = this.rampMs > 0 ? 1 - Math.exp(-dtMs / this.rampMs) : 1;
    const doubling = this.slowStartDoublingMs > 0 ? 2 ** (dtMs / this.slowStartDoublingMs) : Infinity;
    const portBps = this.capacityBps * this.efficiency;
    const fluid: FluidVm[] = vms.map((vm) => {
      const base: FluidVm = { ...vm.traffic, capFill: vm.traffic.capFill ?? this.capFill, capBps: vm.capBps, noise: vm.noise };
      // (An uncapped sender without a demand limit grows toward the port.)
      const ceiling = Math.min(ceilingOf(base), portBps);
      if (ceiling <= vm.rateBps) return base;
      const lagged = vm.rateBps + (ceiling - vm.rateBps) * alpha;
      const slowStart = Math.max(vm.rateBps, vm.traffic.flows * SLOW_START_FROM_BPS) * doubling;
      return { ...base, reachBps: Math.min(lagged, slowStart) };
    });
    const guarantees = this.#portGuarantees;
    const rates = guarantees === null ? shareFluid(portBps, fluid) : shareGuaranteed(portBps, fluid, vms.map((vm) => guarantees.get(vm.id) ?? 0));
    vms.forEach((vm, i) => (vm.rateBps = rates[i]!));
  }

  #vm(id: VmId): SimVm {
    const vm = this.#vms.get(id);
    if (!vm) throw new SimRequestError('E_SIM_NO_VM', `no simulated VM ${id}`);
    return vm;
  }

  /** @internal Used by SimEndpoint. */
  _readTx(id: VmId): TxSample {
    const vm = this.#vm(id);
    // The agent read the counter a little before the loop stamps the reply.
    const skewMs = this.readSkewMs > 0 ? this.#random.uniform(0, this.readSkewMs) : 0;
    const bytes = Math.max(0, vm.txBytes - (vm.rateBps * skewMs) / 8000);
    return { txBytes: BigInt(Math.floor(bytes)), atMs: this.clock.nowMs() };
  }

  /** @internal Used by SimEndpoint. */
  _applyCap(id: VmId, capBps: number | null): void {
    const vm = this.#vm(id);
    if (capBps !== null && !(Number.isFinite(capBps) && capBps > 0)) {
      throw new SimRequestError('E_SIM_BAD_CAP', `cap for ${id} must be a positive finite rate or null, got ${capBps}`);
    }
    const jitterMs = this.applyJitterMs > 0 ? this.#random.uniform(0, this.applyJitterMs) : 0;
    vm.pending.push({ atMs: this.clock.nowMs() + this.applyDelayMs + jitterMs, seq: this.#applySeq++, capBps });
  }

  /**
   * @internal Used by SimEndpoint: the cap tc will show once every change asked for has
   * landed (the one landing last, which is not always the one asked for last).
   */
  _readCap(id: VmId): CapReading {
    const vm = this.#vm(id);
    const last = [...vm.pending].sort((a, b) => a.atMs - b.atMs || a.seq - b.seq).pop();
    const capBps = last ? last.capBps : vm.capBps;
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
  return { flows: t.flows, perFlowLimitBps: t.perFlowLimitBps ?? null, demandBps: t.demandBps ?? null, capFill: t.capFill ?? null };
}
