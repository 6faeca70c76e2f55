/**
 * Scenario rig for loop tests and benches: a SimHost at the emulated port's speed, a
 * Controller over it, and the measures of evaluation.md (reaction, reclaim, CoV) computed
 * from the host's own rates (the "outside" view), one sample per tick.
 */
import { Controller } from '../controller/controller.ts';
import type { Policy } from '../policy/types.ts';
import type { Sla, VmId } from '../core/types.ts';
import { SimHost, type SimHostOptions } from './host.ts';
import { simInventory } from './drive.ts';

/** Emulated port speed; the paper's 40 Gbit/s port scaled by 20. */
export const PORT_BPS = 2e9;
/** Paper units (Gbit/s on a 40 Gbit/s port) to emulated bits per second. */
export const paper = (gbit: number): number => (gbit * 1e9 * PORT_BPS) / 40e9;
/** The reference tick period. */
export const TICK_MS = 200;

/** A guarantee-only SLA. */
export const guarantee = (bps: number): Sla => ({ guaranteeBps: bps, maxBps: null, weight: 1 });

/** Host plus controller plus per-tick samples of every VM's rate. */
export interface Rig {
  readonly host: SimHost;
  readonly ctl: Controller;
  /** rates[vm][tick] as the host carried them at the end of each tick period. */
  readonly rates: Map<VmId, number[]>;
  readonly totals: number[];
  run(ticks: number): Promise<void>;
}

/** Builds a rig; VMs are added by the caller on rig.host before running. */
export function makeRig(policy: Policy, slas: Record<VmId, Sla>, host: Partial<SimHostOptions> = {}): Rig {
  const h = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 30, rampMs: 60, ...host });
  const ctl = new Controller({ policy, capacityBps: PORT_BPS, tickMs: TICK_MS, clock: h.clock, listVms: simInventory(h, slas), perVmTimeoutMs: 50 });
  const rates = new Map<VmId, number[]>();
  const totals: number[] = [];
  return {
    host: h,
    ctl,
    rates,
    totals,
    async run(ticks: number) {
      for (let i = 0; i < ticks; i++) {
        h.advance(TICK_MS);
        for (const id of h.vmIds()) {
          if (!rates.has(id)) rates.set(id, new Array<number>(totals.length).fill(0));
          rates.get(id)!.push(h.rateOf(id));
        }
        totals.push(h.totalRateBps());
        await ctl.tickOnce();
      }
    },
  };
}

/** Ticks from `fromTick` until `series` stays >= threshold to the end of the window; null if never. */
export function ticksUntilHeld(series: readonly number[], fromTick: number, toTick: number, threshold: number): number | null {
  for (let i = fromTick; i < toTick; i++) {
    if (series.slice(i, toTick).every((v) => v >= threshold)) return i - fromTick;
  }
  return null;
}

/** Coefficient of variation of series[from..to). */
export function cov(series: readonly number[], from: number, to: number): number {
  const xs = series.slice(from, to);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return Math.sqrt(variance) / mean;
}

/** Mean of series[from..to). */
export function mean(series: readonly number[], from: number, to: number): number {
  const xs = series.slice(from, to);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
