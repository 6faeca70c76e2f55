/**
 * `daqs plan`: what the policy would set for given rates, without touching any VM. Rates are
 * held for a few ticks, each VM sending min(its rate, the cap from the tick before), so a
 * stateful policy shows where it settles rather than only its first step.
 */
import type { Sla, VmId } from '../core/types.ts';
import type { Policy, PolicyVmDecision } from '../policy/index.ts';

/** One VM of a plan: its SLA and the rate it would send uncapped. */
export interface PlanVm {
  readonly id: VmId;
  readonly sla: Sla;
  readonly rateBps: number;
  /** Cap in force before the first tick (default none). */
  readonly capBps?: number | null;
}

/** A VM's line in the plan. */
export interface PlanRow extends PolicyVmDecision {
  readonly sla: Sla;
  /** What the VM sends under the final caps. */
  readonly sendsBps: number;
}

/** The plan: per VM decisions after `ticks` ticks, and the policy's view of the port. */
export interface Plan {
  readonly policy: string;
  readonly ticks: number;
  readonly capacityBps: number;
  readonly learnedCapacityBps: number;
  readonly rows: readonly PlanRow[];
}

/** Runs the policy for `ticks` ticks on steady rates; pure. */
export function planCaps(policy: Policy, capacityBps: number, vms: readonly PlanVm[], ticks = 5, tickMs = 200): Plan {
  let state = policy.initState();
  let caps = new Map<VmId, number | null>(vms.map((vm) => [vm.id, vm.capBps ?? null]));
  let last: PolicyVmDecision[] = [];
  let learned = capacityBps;
  const sends = (vm: PlanVm): number => Math.min(vm.rateBps, caps.get(vm.id) ?? Infinity);
  for (let t = 0; t < Math.max(1, ticks); t++) {
    // A full port is shared out in proportion to what each VM offers, as TCP roughly does.
    const offered = vms.map(sends);
    const total = offered.reduce((a, b) => a + b, 0);
    const scale = total > capacityBps ? capacityBps / total : 1;
    const decision = policy.decide({ tickMs, capacityBps, vms: vms.map((vm, i) => ({ id: vm.id, sla: vm.sla, rateBps: (offered[i] ?? 0) * scale, capBps: caps.get(vm.id) ?? null })) }, state);
    state = decision.state;
    learned = decision.learnedCapacityBps;
    last = [...decision.vms];
    caps = new Map(last.map((d) => [d.id, d.capBps]));
  }
  const rows = vms.map((vm) => {
    const d = last.find((x) => x.id === vm.id) ?? { id: vm.id, capBps: null, demandBps: null, reservedBps: null };
    return { ...d, sla: vm.sla, sendsBps: sends(vm) };
  });
  return { policy: policy.name, ticks, capacityBps, learnedCapacityBps: learned, rows };
}
