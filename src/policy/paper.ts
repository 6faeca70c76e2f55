/**
 * The reference DAQS minimum-guarantee algorithm (Brian-Hwang/DAQS,
 * models/multi_tenants/minimum_guarantee.py), kept for comparison and reproduced as it
 * behaves, quirks included; docs/controller.md maps each of its lines to this file.
 *
 * Its units are its own, and this policy keeps them: rates are measured in Gibit/s
 * (bytes / 2^30 × 8), the port speed comes from ethtool in decimal Gbit/s, guarantees are
 * written in Gbit/s but compared with Gibit/s rates, and a cap of x is installed as
 * `x × 2^10` Mbit (tc's mbit is 10^6). So its 0.8378 saturation threshold is ~0.90 of the
 * decimal port, and its 1 Gbit/s thresholds and the guarantees themselves ~7.4% higher in
 * decimal terms. All of it is in paper units (a 40 Gbit/s port): rates are multiplied by
 * `scale` = 40 Gbit/s / nominal capacity on the way in, caps divided by it on the way out.
 */
import type { VmId } from '../core/types.ts';
import { isGuarantee, PolicyConfigError, type Policy, type PolicyDecision, type PolicyInput, type PolicyVmDecision } from './types.ts';

/** Bits in one of the reference's measured "Gbits" (it divides bytes by 2^30). */
const GIBIT = 2 ** 30;
/** Bits per second of one unit of a cap it installs (`x × 2^10` Mbit, tc's mbit = 10^6). */
const CAP_UNIT_BPS = 2 ** 10 * 1e6;
/** The port speed the paper's constants are written for. */
export const PAPER_PORT_BPS = 40e9;

/** The reference's constants, in its own units (see the file comment). */
export interface PaperOptions {
  /** 40 Gbit/s / nominal capacity; null = derive it from the input's capacity each tick. */
  readonly scale: number | null;
  /** STEP_GBPS: one step of the aggregate Best-Effort cap. */
  readonly stepGbps: number;
  /** IGNORE_BW_THRESHOLD_GBPS: Guarantee VMs below it together are idle; a Best-Effort VM above it is "working". */
  readonly ignoreGbps: number;
  /** MARGINAL_RATE and MARGINAL_OFFSET: loosen when the Guarantee VMs send more than rate × guarantees + offset. */
  readonly marginalRate: number;
  readonly marginalOffsetGbps: number;
  /** TOLERANT_RATE_LOWERBOUND: tighten while the port carries at least this × its speed. */
  readonly tolerantLowerFrac: number;
  /** TOLERANT_RATE_UPPERBOUND: loosen while the port carries less than this × its speed minus a step. */
  readonly tolerantUpperFrac: number;
}

/** 2^30 / 10^9 - 1: how much bigger a Gibit is than a Gbit; the reference builds its thresholds on it. */
const GIB_EXCESS = GIBIT / 1e9 - 1;

/** The reference's values. */
export const DEFAULT_PAPER_OPTIONS: PaperOptions = {
  scale: null,
  stepGbps: 0.3,
  ignoreGbps: 1,
  marginalRate: 1.45,
  marginalOffsetGbps: 1.15,
  tolerantLowerFrac: 1 - GIB_EXCESS * 2.2,
  tolerantUpperFrac: 1 - GIB_EXCESS * 1.3,
};

/** The reference's memory: its regulated_speed, the aggregate Best-Effort cap in its units; -1 (or below 0) = no caps. */
export interface PaperState {
  readonly regulatedGbps: number;
}

/** Builds the reference policy; options override DEFAULT_PAPER_OPTIONS. */
export function paperPolicy(options: Partial<PaperOptions> = {}): Policy<PaperState> {
  const o: PaperOptions = { ...DEFAULT_PAPER_OPTIONS, ...options };
  if (o.scale !== null && !(Number.isFinite(o.scale) && o.scale > 0)) throw new PolicyConfigError(`paper option scale=${o.scale}: must be > 0`);
  for (const k of ['stepGbps', 'ignoreGbps', 'marginalRate', 'marginalOffsetGbps', 'tolerantLowerFrac', 'tolerantUpperFrac'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new PolicyConfigError(`paper option ${k}=${o[k]}: must be a finite number >= 0`);
  }
  return {
    name: 'paper',
    initState: () => ({ regulatedGbps: -1 }),
    decide: (input, state) => decidePaper(o, input, state),
  };
}

/** calculate_regulated_speed: the next aggregate cap from the Guarantee VMs' sum and the port's total. */
function regulate(o: PaperOptions, guaranteedNowGbps: number, guaranteedGoalGbps: number, hostGbps: number, totalGbps: number, regulatedGbps: number): number {
  if (guaranteedNowGbps < o.ignoreGbps) return -1;
  if (guaranteedNowGbps < guaranteedGoalGbps) {
    // The first short tick only installs the port speed; steps start on the next one.
    if (regulatedGbps < 0) return hostGbps;
    if (hostGbps * o.tolerantLowerFrac <= totalGbps) return Math.max(1, regulatedGbps - o.stepGbps);
    if (hostGbps * o.tolerantUpperFrac > totalGbps + o.stepGbps) return Math.min(hostGbps, regulatedGbps + o.stepGbps);
    return regulatedGbps;
  }
  if (guaranteedNowGbps > guaranteedGoalGbps * o.marginalRate + o.marginalOffsetGbps) {
    // Loosening also needs the Best-Effort VMs to send; it has no lower bound, so from -1 it
    // passes -0.7, -0.4, -0.1 (no caps) and then 0.2: a tiny cap (the reference's own quirk).
    if (totalGbps - guaranteedNowGbps > o.ignoreGbps) return Math.min(hostGbps, regulatedGbps + o.stepGbps);
  }
  return regulatedGbps;
}

function decidePaper(o: PaperOptions, input: PolicyInput, state: PaperState): PolicyDecision<PaperState> {
  const scale = o.scale ?? PAPER_PORT_BPS / input.capacityBps;
  const toGib = (bps: number): number => (bps * scale) / GIBIT;
  const hostGbps = (input.capacityBps * scale) / 1e9;
  // Guarantees of every Guarantee VM present, summed, in the Gbit/s its config file holds.
  const goalGbps = input.vms.reduce((a, vm) => a + (isGuarantee(vm.sla) ? (vm.sla.guaranteeBps * scale) / 1e9 : 0), 0);
  // Only VMs measured this tick count (the reference skips a VM on its first sight or a failed read).
  let guaranteedNowGbps = 0;
  let totalGbps = 0;
  const working = new Set<VmId>();
  for (const vm of input.vms) {
    if (vm.rateBps === null) continue;
    const gib = toGib(vm.rateBps);
    totalGbps += gib;
    if (isGuarantee(vm.sla)) guaranteedNowGbps += gib;
    else if (gib > o.ignoreGbps) working.add(vm.id);
  }
  const regulatedGbps = regulate(o, guaranteedNowGbps, goalGbps, hostGbps, totalGbps, state.regulatedGbps);
  // Split equally among the working Best-Effort VMs; only they are touched, and only when
  // there is at least one. A share of zero or less lifts their caps.
  let shareBps: number | null | undefined;
  if (working.size > 0) {
    const each = regulatedGbps > hostGbps ? -1 : regulatedGbps / working.size;
    shareBps = each <= 0 ? null : (each * CAP_UNIT_BPS) / scale;
  }
  const vms: PolicyVmDecision[] = input.vms.map((vm) => {
    const touched = shareBps !== undefined && working.has(vm.id);
    let capBps = touched ? shareBps! : vm.capBps;
    // Maximums are daqs' own, not the reference's: never above one, never lifted past it.
    if (vm.sla.maxBps !== null) {
      const maxBps = isGuarantee(vm.sla) ? Math.max(vm.sla.maxBps, vm.sla.guaranteeBps) : vm.sla.maxBps;
      capBps = capBps === null ? maxBps : Math.min(capBps, maxBps);
    }
    return { id: vm.id, capBps: capBps ?? null, demandBps: vm.rateBps, reservedBps: null };
  });
  return { vms, learnedCapacityBps: input.capacityBps, state: { regulatedGbps } };
}
