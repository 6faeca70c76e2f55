/**
 * Glue to drive the real Controller against a SimHost tick by tick, for tests and benches.
 */
import type { Sla, TickReport, VmId } from '../core/types.ts';
import type { ControlledVm } from '../controller/controller.ts';
import type { SimHost } from './host.ts';

/** A Best-Effort SLA (no guarantee, no maximum, weight 1). */
export const BEST_EFFORT: Sla = { guaranteeBps: 0, maxBps: null, weight: 1 };

/** A listVms() callback over the host's VMs, with SLAs looked up by id (Best-Effort by default). */
export function simInventory(host: SimHost, slas: ReadonlyMap<VmId, Sla> | Readonly<Record<VmId, Sla>>): () => ControlledVm[] {
  const get = (id: VmId): Sla | undefined => (slas instanceof Map ? slas.get(id) : (slas as Record<VmId, Sla>)[id]);
  return () =>
    host.vmIds().map((id) => ({
      id,
      sla: get(id) ?? BEST_EFFORT,
      slaSource: { guaranteeBps: get(id) ? 'config' : 'default', maxBps: 'default', weight: 'default' },
      endpoint: host.endpoint(id),
    }));
}

/** Something that runs one tick (a Controller). */
export interface Ticker {
  tickOnce(): Promise<TickReport>;
}

/** Advances the host by one period, then runs one tick; repeats n times; returns the reports. */
export async function driveTicks(host: SimHost, ticker: Ticker, n: number, tickMs: number, each?: (r: TickReport, i: number) => void): Promise<TickReport[]> {
  const out: TickReport[] = [];
  for (let i = 0; i < n; i++) {
    host.advance(tickMs);
    const r = await ticker.tickOnce();
    out.push(r);
    each?.(r, i);
  }
  return out;
}
