/**
 * The `ip link set ... max_tx_rate` practice: caps fixed in advance from the configuration
 * alone. Every Best-Effort VM gets (capacity - sum of guarantees) / number of Best-Effort VMs,
 * whether it sends or not; Guarantee VMs are left uncapped. Rates play no part.
 */
import { isGuarantee, type Policy, type PolicyDecision, type PolicyInput } from './types.ts';
import type { NoState } from './share.ts';

/** Builds the static policy; minCapFrac keeps a cap above zero when guarantees fill the port. */
export function staticPolicy(options: { minCapFrac?: number } = {}): Policy<NoState> {
  const minCapFrac = options.minCapFrac ?? 0.005;
  return { name: 'static', initState: () => null, decide: (input) => decideStatic(input, minCapFrac) };
}

function decideStatic(input: PolicyInput, minCapFrac: number): PolicyDecision<NoState> {
  const guaranteedBps = input.vms.reduce((a, vm) => a + vm.sla.guaranteeBps, 0);
  const beCount = input.vms.filter((vm) => !isGuarantee(vm.sla)).length;
  const beCapBps = beCount === 0 ? 0 : Math.max(minCapFrac * input.capacityBps, (input.capacityBps - guaranteedBps) / beCount);
  const vms = input.vms.map((vm) => {
    if (isGuarantee(vm.sla)) return { id: vm.id, capBps: vm.sla.maxBps, demandBps: vm.rateBps, reservedBps: vm.sla.guaranteeBps, reason: 'max' };
    const capBps = vm.sla.maxBps === null ? beCapBps : Math.min(beCapBps, vm.sla.maxBps);
    return { id: vm.id, capBps, demandBps: vm.rateBps, reservedBps: null, reason: capBps === beCapBps ? 'static split' : 'max' };
  });
  return { vms, learnedCapacityBps: input.capacityBps, state: null };
}
