/**
 * Scenario rig for loop tests and benches: a SimHost at the emulated port's speed, a
 * Controller over it (or the oracle's port scheduler, or nothing at all), and the measures of
 * evaluation.md (reaction, reclaim, CoV) computed from the host's own byte counters (the
 * "outside" view, as the experiments sample the switch side), one mean rate per tick.
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

/**
 * What runs the port: a policy through the real Controller, the oracle (the port itself
 * schedules with a guaranteed rate per Guarantee VM, see shareGuaranteed), or nothing.
 */
export type RigControl = Policy | 'oracle' | 'baseline';

/** Host plus controller plus per-tick samples of every VM's rate. */
export interface Rig {
  readonly host: SimHost;
  /** null for the oracle and the baseline. */
  readonly ctl: Controller | null;
  /** rates[vm][tick]: the VM's mean rate over each tick period, from the host's own counter. */
  readonly rates: Map<VmId, number[]>;
  /** Sum of rates per tick. */
  readonly totals: number[];
  run(ticks: number): Promise<void>;
}

/** Realistic physics for benches and property tests: what the emulated host shows. */
export const REALISTIC_HOST: Partial<SimHostOptions> = {
  capFill: 0.95,
  noiseFrac: 0.02,
  readSkewMs: 4,
  applyDelayMs: 30,
  applyJitterMs: 40,
  rampMs: 60,
  slowStartDoublingMs: 25,
};

/** Builds a rig; VMs are added by the caller on rig.host before running. */
export function makeRig(control: RigControl, slas: Readonly<Record<VmId, Sla>>, host: Partial<SimHostOptions> = {}): Rig {
  const h = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 30, rampMs: 60, ...host });
  let ctl: Controller | null = null;
  if (control === 'oracle') {
    h.setPortScheduler(new Map(Object.entries(slas).filter(([, s]) => s.guaranteeBps > 0).map(([id, s]) => [id, s.guaranteeBps])));
  } else if (control !== 'baseline') {
    ctl = new Controller({ policy: control, capacityBps: h.capacityBps, tickMs: TICK_MS, clock: h.clock, listVms: simInventory(h, slas), perVmTimeoutMs: 50 });
  }
  const rates = new Map<VmId, number[]>();
  const totals: number[] = [];
  const lastBits = new Map<VmId, number>();
  return {
    host: h,
    ctl,
    rates,
    totals,
    async run(ticks: number) {
      for (let i = 0; i < ticks; i++) {
        h.advance(TICK_MS);
        let total = 0;
        for (const id of h.vmIds()) {
          if (!rates.has(id)) rates.set(id, new Array<number>(totals.length).fill(0));
          const bits = h.sentBits(id);
          const rate = ((bits - (lastBits.get(id) ?? 0)) * 1000) / TICK_MS;
          lastBits.set(id, bits);
          rates.get(id)!.push(rate);
          total += rate;
        }
        totals.push(total);
        if (ctl) await ctl.tickOnce();
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
