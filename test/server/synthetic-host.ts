/**
 * A small working model of VMs sharing a port, producing the TickReports and DaemonEvents a
 * real control loop would publish: demands change over time, the port is shared max-min fairly
 * among uncapped senders, Best-Effort VMs get caps one tick late when a Guarantee VM needs room,
 * agents can fail. Deterministic (seeded noise), so tests can reason about its output.
 */
import { isIdleGuarantee } from '../../src/core/guarantee.ts';
import type { DaemonEvent, ReconcileAction, TickReport, VmId, VmTickReport } from '../../src/core/types.ts';

/** One VM of the model. */
export interface SyntheticVm {
  readonly id: VmId;
  readonly guaranteeBps: number;
  readonly maxBps?: number | null;
  readonly weight?: number;
  /** TCP flows it sends with: an uncapped saturated port splits by flow count (default 1). */
  readonly flows?: number;
  /** What the VM would send uncapped at tick t. */
  demandBps(tick: number): number;
}

/** What one step produced. */
export interface SyntheticStep {
  readonly report: TickReport;
  readonly events: DaemonEvent[];
}

/** Port shape and timing of the model. */
export interface SyntheticHostOptions {
  readonly capacityBps: number;
  readonly learnedCapacityBps?: number;
  readonly vms: readonly SyntheticVm[];
  readonly tickMs?: number;
  /** Epoch ms of tick 0 (default: now). */
  readonly startEpochMs?: number;
  readonly seed?: number;
  readonly policy?: string;
}

/** Max-min fair split of `capacity` among `wants`, by `weights` (water-filling). */
export function waterFill(capacity: number, wants: readonly number[], weights: readonly number[] = wants.map(() => 1)): number[] {
  const out = wants.map(() => 0);
  let left = capacity;
  let open = wants.map((w, i) => ({ w, i, k: weights[i] ?? 1 })).filter((x) => x.w > 0 && x.k > 0);
  while (open.length > 0 && left > 1e-6) {
    const perWeight = left / open.reduce((a, x) => a + x.k, 0);
    const small = open.filter((x) => x.w - out[x.i]! <= perWeight * x.k);
    if (small.length === 0) {
      for (const x of open) out[x.i]! += perWeight * x.k;
      break;
    }
    for (const x of small) {
      left -= x.w - out[x.i]!;
      out[x.i] = x.w;
    }
    open = open.filter((x) => !small.includes(x));
  }
  return out;
}

/** Steps the model one tick at a time. */
export class SyntheticHost {
  private tick = 0;
  private readonly vms = new Map<VmId, SyntheticVm>();
  private readonly caps = new Map<VmId, number | null>();
  private readonly met = new Map<VmId, boolean | null>();
  private readonly failing = new Set<VmId>();
  private readonly wasFailing = new Set<VmId>();
  private readonly announced = new Set<VmId>();
  // Each VM's TX byte counter, as its guest would report it (starting where a booted guest might be).
  private readonly txBytes = new Map<VmId, number>();
  // The counter as the loop last read it: a failing agent leaves it where it was.
  private readonly txBytesRead = new Map<VmId, number>();
  private readonly tickMs: number;
  private readonly startEpochMs: number;
  private seed: number;

  constructor(private readonly opts: SyntheticHostOptions) {
    for (const vm of opts.vms) this.vms.set(vm.id, vm);
    this.tickMs = opts.tickMs ?? 200;
    this.startEpochMs = opts.startEpochMs ?? Date.now();
    this.seed = opts.seed ?? 42;
  }

  /** Adds a VM from the next tick on. */
  addVm(vm: SyntheticVm): void {
    this.vms.set(vm.id, vm);
  }

  /** Removes a VM (it disappears from the next report). */
  removeVm(id: VmId): void {
    this.vms.delete(id);
    this.caps.delete(id);
  }

  /** Makes a VM's agent fail (or recover) from the next tick on. */
  setAgentFailing(id: VmId, failing: boolean): void {
    if (failing) this.failing.add(id);
    else this.failing.delete(id);
  }

  /** Epoch ms at which the next tick starts. */
  get nextEpochMs(): number {
    return this.startEpochMs + this.tick * this.tickMs;
  }

  /** Produces the next tick's report and the events it caused. */
  step(): SyntheticStep {
    const t = this.tick++;
    const atEpochMs = this.startEpochMs + t * this.tickMs;
    const capacity = this.opts.learnedCapacityBps ?? this.opts.capacityBps;
    const vms = [...this.vms.values()];
    const events: DaemonEvent[] = [];
    for (const vm of vms) {
      if (!this.announced.has(vm.id)) {
        this.announced.add(vm.id);
        events.push({ atEpochMs, kind: 'vm-appeared', vm: vm.id, message: `${vm.id} appeared (${vm.guaranteeBps > 0 ? `guarantee ${vm.guaranteeBps / 1e6} Mbit/s` : 'best effort'})` });
      }
    }
    for (const id of this.announced) {
      if (!this.vms.has(id)) {
        this.announced.delete(id);
        events.push({ atEpochMs, kind: 'vm-disappeared', vm: id, message: `${id} is no longer running` });
      }
    }

    // Traffic: each VM sends min(demand, cap, max); a saturated port splits by TCP flow count.
    const wants = vms.map((vm) => Math.min(vm.demandBps(t), this.caps.get(vm.id) ?? Infinity, vm.maxBps ?? Infinity));
    const rates = wants.reduce((a, b) => a + b, 0) <= capacity ? wants : waterFill(capacity, wants, vms.map((vm) => vm.flows ?? 1));
    const noisy = rates.map((r) => Math.max(0, r * (1 + (this.random() - 0.5) * 0.04)));

    // Decide caps for the next tick: reserve what Guarantee VMs need, water-fill the rest.
    const demands = vms.map((vm, i) => {
      const cap = this.caps.get(vm.id) ?? null;
      return cap !== null && noisy[i]! >= 0.95 * cap ? cap * 1.25 : noisy[i]!;
    });
    // An idle Guarantee VM does not want its guarantee: a policy keeps only what it sends.
    const reserved = vms.reduce((sum, vm, i) => sum + (vm.guaranteeBps === 0 ? 0 : isIdleGuarantee(demands[i]!, vm.guaranteeBps) ? demands[i]! : Math.max(vm.guaranteeBps, demands[i]!)), 0);
    const contended = demands.reduce((a, b) => a + b, 0) > capacity * 0.95;
    const beIdx = vms.map((vm, i) => (vm.guaranteeBps > 0 ? -1 : i)).filter((i) => i >= 0);
    const beShares = waterFill(Math.max(0, capacity - reserved), beIdx.map((i) => demands[i]!));
    const actions: ReconcileAction[] = [];
    const reports: VmTickReport[] = [];
    vms.forEach((vm, i) => {
      const failing = this.failing.has(vm.id);
      const before = this.caps.get(vm.id) ?? null;
      const k = beIdx.indexOf(i);
      const wanted = vm.guaranteeBps === 0 && contended && k >= 0 ? Math.max(1e6, Math.round(beShares[k]! / 1e6) * 1e6) : null;
      if (!failing && wanted !== before) {
        actions.push({ vm: vm.id, fromBps: before, toBps: wanted, ok: true, reason: wanted === null ? 'reclaim' : 'share' });
        this.caps.set(vm.id, wanted);
      }
      const rateBps = failing ? null : noisy[i]!;
      // The counter counts what was sent, sampled or not.
      const txBytes = (this.txBytes.get(vm.id) ?? 1e9 * (i + 1)) + Math.round((noisy[i]! / 8) * (this.tickMs / 1000));
      this.txBytes.set(vm.id, txBytes);
      if (!failing) this.txBytesRead.set(vm.id, txBytes);
      // The model knows true demand; a real loop would judge by its estimate.
      const target = Math.min(vm.guaranteeBps, vm.demandBps(t));
      const guaranteeMet = vm.guaranteeBps === 0 || rateBps === null ? null : rateBps >= target * 0.95;
      const prevMet = this.met.get(vm.id) ?? null;
      if (guaranteeMet === false && prevMet !== false) events.push({ atEpochMs, kind: 'guarantee-violated', vm: vm.id, message: `${vm.id} sends ${(rateBps! / 1e6).toFixed(0)} Mbit/s, below its guarantee of ${vm.guaranteeBps / 1e6} Mbit/s` });
      if (guaranteeMet === true && prevMet === false) events.push({ atEpochMs, kind: 'guarantee-restored', vm: vm.id, message: `${vm.id} is back at its guarantee` });
      if (guaranteeMet !== null) this.met.set(vm.id, guaranteeMet);
      if (failing && !this.wasFailing.has(vm.id)) events.push({ atEpochMs, kind: 'agent-unreachable', vm: vm.id, message: `guest agent of ${vm.id} did not answer within 1000 ms` });
      if (!failing && this.wasFailing.has(vm.id)) events.push({ atEpochMs, kind: 'agent-recovered', vm: vm.id, message: `guest agent of ${vm.id} answers again` });
      if (failing) this.wasFailing.add(vm.id);
      else this.wasFailing.delete(vm.id);
      reports.push({
        id: vm.id,
        role: vm.guaranteeBps > 0 ? 'guarantee' : 'best-effort',
        sla: { guaranteeBps: vm.guaranteeBps, maxBps: vm.maxBps ?? null, weight: vm.weight ?? 1 },
        slaSource: { guaranteeBps: vm.guaranteeBps > 0 ? 'config' : 'default', maxBps: vm.maxBps ? 'libvirt-metadata' : 'default', weight: 'default' },
        rateBps,
        demandBps: failing ? null : demands[i]!,
        capBps: this.caps.get(vm.id) ?? null,
        guaranteeMet,
        idle: rateBps !== null && isIdleGuarantee(rateBps, vm.guaranteeBps),
        txBytes: this.txBytesRead.get(vm.id) ?? null,
        agentRttMs: failing ? null : 1.5 + this.random() * 3,
        error: failing ? { code: 'E_AGENT_TIMEOUT', message: `guest agent of ${vm.id} did not answer within 1000 ms` } : null,
      });
    });
    const usedBps = noisy.reduce((a, b, i) => a + (this.failing.has(vms[i]!.id) ? 0 : b), 0);
    const durationMs = 3 + this.random() * 4;
    return {
      report: {
        tick: t,
        atEpochMs,
        durationMs,
        overran: durationMs > this.tickMs,
        policy: this.opts.policy ?? 'daqs',
        port: { nominalCapacityBps: this.opts.capacityBps, learnedCapacityBps: capacity, usedBps },
        vms: reports,
        actions,
      },
      events,
    };
  }

  // mulberry32: small, fast and deterministic.
  private random(): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let x = this.seed;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }
}

/** A demand that is `beforeBps` until tick `atTick`, then `afterBps`. */
export function stepDemand(beforeBps: number, atTick: number, afterBps: number): (tick: number) => number {
  return (tick) => (tick < atTick ? beforeBps : afterBps);
}

/** The paper's scenario at a scaled 2 Gbit/s port: one Guarantee VM and Best-Effort VMs joining one by one. */
export function paperLikeVms(count = 4, joinEveryTicks = 150): SyntheticVm[] {
  const vms: SyntheticVm[] = [{ id: 'vm-guar', guaranteeBps: 800e6, demandBps: () => 1e9 }];
  for (let i = 1; i < count; i++) {
    vms.push({ id: `vm-be${i}`, guaranteeBps: 0, flows: 5, maxBps: i === count - 1 ? 600e6 : null, demandBps: stepDemand(20e6, i * joinEveryTicks, 1.2e9) });
  }
  return vms;
}

/** Many VMs: one in 16 a Guarantee VM (a quarter of those idle), the rest Best-Effort VMs joining over time. */
export function manyVms(count: number): SyntheticVm[] {
  const vms: SyntheticVm[] = [];
  const guarantees = Math.max(1, Math.floor(count / 16));
  for (let i = 0; i < guarantees; i++) vms.push({ id: `guar-${String(i).padStart(3, '0')}`, guaranteeBps: 40e6, demandBps: i % 4 === 0 ? () => 0.2e6 : () => 60e6 });
  for (let i = 0; i < count - guarantees; i++) vms.push({ id: `be-${String(i).padStart(3, '0')}`, guaranteeBps: 0, flows: 1 + (i % 4), demandBps: stepDemand(1e6, 5 * i, 4e6 + (i % 7) * 3e6) });
  return vms;
}
