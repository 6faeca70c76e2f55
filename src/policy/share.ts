/**
 * The reference project's simple shares: `fair` caps every VM at capacity / number of VMs,
 * `weighted` at capacity × weight / sum of weights. Guarantees play no part; maximums do.
 */
import type { Policy, PolicyDecision, PolicyInput } from './types.ts';

/** Stateless policies carry no state. */
export type NoState = null;

/** Equal caps for all running VMs. */
export function fairPolicy(): Policy<NoState> {
  return { name: 'fair', initState: () => null, decide: (input) => shareBy(input, () => 1, 'fair share') };
}

/** Caps proportional to each VM's weight (the reference's "payment"). */
export function weightedPolicy(): Policy<NoState> {
  return { name: 'weighted', initState: () => null, decide: (input) => shareBy(input, (w) => (w > 0 ? w : 1), 'weighted share') };
}

function shareBy(input: PolicyInput, weightOf: (w: number) => number, reason: string): PolicyDecision<NoState> {
  const total = input.vms.reduce((a, vm) => a + weightOf(vm.sla.weight), 0);
  const vms = input.vms.map((vm) => {
    const shareBps = (input.capacityBps * weightOf(vm.sla.weight)) / total;
    const capBps = vm.sla.maxBps === null ? shareBps : Math.min(shareBps, vm.sla.maxBps);
    return { id: vm.id, capBps, demandBps: vm.rateBps, reservedBps: null, reason: capBps === shareBps ? reason : 'max' };
  });
  return { vms, learnedCapacityBps: input.capacityBps, state: null };
}
