/**
 * The reference DAQS minimum-guarantee algorithm (Brian-Hwang/DAQS), kept for comparison:
 * one aggregate Best-Effort cap moved in fixed steps, split equally among the Best-Effort
 * VMs that send. Its constants are in paper units (a 40 Gbit/s port) and are divided by
 * `scale` = 40 Gbit/s / nominal capacity, so the emulated port behaves like the paper's.
 */
import type { VmId } from '../core/types.ts';
import { isGuarantee, PolicyConfigError, type Policy, type PolicyDecision, type PolicyInput } from './types.ts';

/** The reference algorithm's constants, in paper units (bits per second on a 40 Gbit/s port). */
export interface PaperOptions {
  /** 40 Gbit/s / nominal capacity; null = derive from the input's capacity each tick. */
  readonly scale: number | null;
  readonly stepPaperBps: number;
  /** A Best-Effort VM sending more than this shares the aggregate cap. */
  readonly activePaperBps: number;
  /** A Guarantee VM below this counts as idle and all caps are lifted. */
  readonly idlePaperBps: number;
  /** Tighten while the port carries at least this fraction of its speed. */
  readonly saturationFrac: number;
  /** Loosen when the Guarantee VM sends more than looseSlaFactor × SLA + looseOffsetPaperBps. */
  readonly looseSlaFactor: number;
  readonly looseOffsetPaperBps: number;
}

/** The constants system.md lists for the reference implementation. */
export const DEFAULT_PAPER_OPTIONS: PaperOptions = {
  scale: null,
  stepPaperBps: 0.3e9,
  activePaperBps: 1e9,
  idlePaperBps: 1e9,
  saturationFrac: 0.84,
  looseSlaFactor: 1.45,
  looseOffsetPaperBps: 1.15e9,
};

/** The paper policy's memory: the aggregate Best-Effort cap (null = no caps). */
export interface PaperState {
  readonly aggregateCapBps: number | null;
}

/** The port speed the paper's constants are written for. */
export const PAPER_PORT_BPS = 40e9;

/** Builds the reference policy; options override DEFAULT_PAPER_OPTIONS. */
export function paperPolicy(options: Partial<PaperOptions> = {}): Policy<PaperState> {
  const o: PaperOptions = { ...DEFAULT_PAPER_OPTIONS, ...options };
  if (o.scale !== null && !(o.scale > 0)) throw new PolicyConfigError(`paper option scale=${o.scale}: must be > 0`);
  return {
    name: 'paper',
    initState: () => ({ aggregateCapBps: null }),
    decide: (input, state) => decidePaper(o, input, state),
  };
}

function decidePaper(o: PaperOptions, input: PolicyInput, state: PaperState): PolicyDecision<PaperState> {
  const portBps = input.capacityBps;
  const scale = o.scale ?? PAPER_PORT_BPS / portBps;
  const stepBps = o.stepPaperBps / scale;
  const gs = input.vms.filter((vm) => isGuarantee(vm.sla) && vm.rateBps !== null);
  const totalBps = input.vms.reduce((a, vm) => a + (vm.rateBps ?? 0), 0);
  let agg = state.aggregateCapBps;
  let keepAll = false;
  if (gs.length === 0) {
    // No Guarantee VM measured this tick: hold everything as it is.
    keepAll = input.vms.some((vm) => isGuarantee(vm.sla));
    if (!keepAll) agg = null;
  } else if (gs.every((vm) => vm.rateBps! < o.idlePaperBps / scale)) {
    agg = null;
  } else if (gs.some((vm) => vm.rateBps! < vm.sla.guaranteeBps)) {
    const start = agg ?? portBps;
    agg = totalBps >= o.saturationFrac * portBps ? start - stepBps : start + stepBps;
  } else if (agg !== null && gs.every((vm) => vm.rateBps! > o.looseSlaFactor * vm.sla.guaranteeBps + o.looseOffsetPaperBps / scale)) {
    agg += stepBps;
  }
  if (agg !== null) agg = Math.min(portBps, Math.max(stepBps, agg));

  const active = input.vms.filter((vm) => !isGuarantee(vm.sla) && vm.rateBps !== null && vm.rateBps > o.activePaperBps / scale);
  const shareBps = agg === null || active.length === 0 ? null : agg / active.length;
  const activeIds = new Set<VmId>(active.map((vm) => vm.id));
  const vms = input.vms.map((vm) => {
    if (isGuarantee(vm.sla)) return { id: vm.id, capBps: vm.sla.maxBps, demandBps: vm.rateBps, reservedBps: null };
    let capBps: number | null;
    if (keepAll) capBps = vm.capBps;
    else if (agg === null) capBps = null;
    else if (activeIds.has(vm.id)) capBps = shareBps;
    else capBps = vm.capBps; // not sending: left as it is, as the reference does
    if (capBps !== null && vm.sla.maxBps !== null) capBps = Math.min(capBps, vm.sla.maxBps);
    return { id: vm.id, capBps, demandBps: vm.rateBps, reservedBps: null };
  });
  return { vms, learnedCapacityBps: portBps, state: { aggregateCapBps: agg } };
}
