/**
 * The fluid model of a saturated port. By default TCP flows share it max-min fairly (per
 * flow), subject to each VM's cap and demand: a VM with n flows weighs n, its flows stop
 * growing at the per-flow limit (a single thread's ceiling) or when the VM reaches its own
 * ceiling, min(capFill × cap, demand). A capped TCP sender fills only part of its HTB rate
 * (capFill, ~0.95 on the emulated host): the cap is a ceiling it never quite reaches.
 *
 * shareGuaranteed is the oracle's port instead: a work-conserving scheduler with a guaranteed
 * rate per Guarantee VM (one HTB class each, rate = guarantee), the Best-Effort VMs in one
 * leftover class, excess split equally between the classes that want more (equal quanta).
 */
import { waterFill } from '../policy/waterfill.ts';

/** What limits one VM's traffic at an instant. */
export interface FluidVm {
  /** Active TCP flows; 0 = not sending. */
  readonly flows: number;
  /** Ceiling of one flow (null = none). */
  readonly perFlowLimitBps: number | null;
  /** Ceiling of the whole VM, e.g. iperf -b (null = none). */
  readonly demandBps: number | null;
  /** Cap in effect (null = uncapped). */
  readonly capBps: number | null;
  /** Fraction of its cap a capped sender delivers; default 1. */
  readonly capFill?: number;
  /** Multiplies the VM's ceilings and its weight at the port this instant (TCP's ups and downs); default 1. */
  readonly noise?: number;
  /** Most it can send this instant while TCP is still growing (null/absent = no such limit). */
  readonly reachBps?: number | null;
}

/** The most a VM would send on an empty port, with its cap. */
export function ceilingOf(vm: FluidVm): number {
  if (vm.flows <= 0) return 0;
  const k = vm.noise ?? 1;
  const own = Math.min(vm.flows * (vm.perFlowLimitBps ?? Infinity), vm.demandBps ?? Infinity) * k;
  // An HTB class never passes its rate, whatever the noise: the fill only ever lowers it.
  const capped = vm.capBps === null ? Infinity : vm.capBps * Math.min(1, (vm.capFill ?? 1) * k);
  return Math.min(own, capped, vm.reachBps ?? Infinity);
}

/** Each VM's share of a port that delivers portBps, in input order. */
export function shareFluid(portBps: number, vms: readonly FluidVm[]): number[] {
  return waterFill(portBps, vms.map((vm) => ({ demandBps: ceilingOf(vm), weight: Math.max(1, vm.flows) * (vm.noise ?? 1) })));
}

/**
 * The oracle's port: guaranteesBps[i] > 0 makes VM i a class of its own with that guaranteed
 * rate; the others share one leftover class (rate: what the guarantees leave of the port) by
 * TCP flows. Each class first gets min(rate, what it wants); what is left goes equally to the
 * classes that want more. Guarantees beyond the port are scaled down to fit.
 */
export function shareGuaranteed(portBps: number, vms: readonly FluidVm[], guaranteesBps: readonly number[]): number[] {
  const ceilings = vms.map(ceilingOf);
  const gIdx = vms.map((_, i) => i).filter((i) => (guaranteesBps[i] ?? 0) > 0);
  const beIdx = vms.map((_, i) => i).filter((i) => !((guaranteesBps[i] ?? 0) > 0));
  const sumG = gIdx.reduce((a, i) => a + guaranteesBps[i]!, 0);
  const fit = sumG > portBps ? portBps / sumG : 1;
  const out = new Array<number>(vms.length).fill(0);
  // A guaranteed class wobbles with its TCP like any other sender.
  for (const i of gIdx) out[i] = Math.min(ceilings[i]!, guaranteesBps[i]! * fit * (vms[i]!.noise ?? 1));
  const beWeights = beIdx.map((i) => Math.max(1, vms[i]!.flows) * (vms[i]!.noise ?? 1));
  const shareBe = (budget: number): void => {
    const got = waterFill(budget, beIdx.map((i, k) => ({ demandBps: Math.max(0, ceilings[i]! - out[i]!), weight: beWeights[k]! })));
    beIdx.forEach((i, k) => (out[i] = out[i]! + got[k]!));
  };
  shareBe(Math.max(0, portBps - sumG * fit));
  const used = out.reduce((a, b) => a + b, 0);
  // Excess: one claim per Guarantee VM class and one for the whole leftover class.
  const wantBe = beIdx.reduce((a, i) => a + Math.max(0, ceilings[i]! - out[i]!), 0);
  const claims = [...gIdx.map((i) => ({ demandBps: Math.max(0, ceilings[i]! - out[i]!), weight: 1 })), { demandBps: wantBe, weight: 1 }];
  const extra = waterFill(Math.max(0, portBps - used), claims);
  gIdx.forEach((i, k) => (out[i] = out[i]! + extra[k]!));
  shareBe(extra[gIdx.length]!);
  return out;
}
