/**
 * The fluid model of a saturated port: TCP flows share it max-min fairly (per flow), subject
 * to each VM's cap and demand. A VM with n flows weighs n; its flows stop growing at the
 * per-flow limit (a single thread's ceiling) or when the VM reaches min(cap, demand).
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
}

/** Each VM's share of a port that delivers portBps, in input order. */
export function shareFluid(portBps: number, vms: readonly FluidVm[]): number[] {
  const claims = vms.map((vm) => ({
    demandBps: vm.flows <= 0 ? 0 : Math.min(vm.flows * (vm.perFlowLimitBps ?? Infinity), vm.demandBps ?? Infinity, vm.capBps ?? Infinity),
    weight: Math.max(1, vm.flows),
  }));
  return waterFill(portBps, claims);
}
