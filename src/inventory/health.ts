/** The inventory's health as operators see it: each VM's status, counted. */
import { INVENTORY_STATUSES, type InventoryStatus } from '../core/types.ts';
import type { InventoryVm } from './types.ts';

/**
 * A VM's inventory status: its agent's state, except that a VM the loop cannot control
 * although its agent state does not say why (no agent reference) is `ignored`.
 */
export function inventoryStatusOf(vm: InventoryVm): InventoryStatus {
  const state = vm.status.state;
  if (vm.agent === null && (state === 'ready' || state === 'not-ready')) return 'ignored';
  return state;
}

/** VMs per inventory status, every status present. */
export function countInventoryStatuses(vms: readonly InventoryVm[]): Record<InventoryStatus, number> {
  const counts = Object.fromEntries(INVENTORY_STATUSES.map((s) => [s, 0])) as Record<InventoryStatus, number>;
  for (const vm of vms) counts[inventoryStatusOf(vm)]++;
  return counts;
}
