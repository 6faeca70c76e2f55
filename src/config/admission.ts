import type { VmId } from '../core/types.ts';
import { formatRate } from '../units/rate.ts';
import type { ConfigIssue } from './errors.ts';

/** A VM's claim on the port: its guarantee. */
export interface GuaranteeClaim {
  readonly id: VmId;
  readonly guaranteeBps: number;
}

/**
 * Admission control: the guarantees together must fit in the port, or no policy can keep them
 * all when every VM sends at once. Returns the issue to report (with the numbers), or null.
 */
export function checkAdmission(claims: readonly GuaranteeClaim[], capacityBps: number, capacityKey = 'port.capacity'): ConfigIssue | null {
  const totalBps = claims.reduce((sum, c) => sum + c.guaranteeBps, 0);
  if (totalBps <= capacityBps) return null;
  const parts = claims
    .filter((c) => c.guaranteeBps > 0)
    .sort((a, b) => b.guaranteeBps - a.guaranteeBps || a.id.localeCompare(b.id))
    .map((c) => `${c.id} ${formatRate(c.guaranteeBps)}`);
  return {
    path: 'vms',
    value: undefined,
    rule:
      `guarantees add up to ${formatRate(totalBps)} (${parts.join(' + ')}), more than the port capacity ` +
      `${formatRate(capacityBps)} by ${formatRate(totalBps - capacityBps)}: lower some guarantees or raise ${capacityKey}`,
  };
}
