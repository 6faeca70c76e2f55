/** Builders for policy inputs in tests: rates in Mbit/s keep the tables readable. */
import type { Sla } from '../../src/core/types.ts';
import type { PolicyInput, PolicyVmInput } from '../../src/policy/index.ts';

/** Mbit/s to bit/s. */
export const M = 1e6;
/** The emulated port: 2 Gbit/s. */
export const PORT = 2000 * M;

/** An SLA from Mbit/s values. */
export function sla(guaranteeMbit = 0, opts: { maxMbit?: number; weight?: number } = {}): Sla {
  return { guaranteeBps: guaranteeMbit * M, maxBps: opts.maxMbit === undefined ? null : opts.maxMbit * M, weight: opts.weight ?? 1 };
}

/** One VM's input from Mbit/s values (null = no sample / uncapped). */
export function vm(id: string, s: Sla, rateMbit: number | null, capMbit: number | null = null): PolicyVmInput {
  return { id, sla: s, rateBps: rateMbit === null ? null : rateMbit * M, capBps: capMbit === null ? null : capMbit * M };
}

/** A tick's input on the 2 Gbit/s port. */
export function input(vms: PolicyVmInput[], capacityBps = PORT): PolicyInput {
  return { tickMs: 200, capacityBps, vms };
}
