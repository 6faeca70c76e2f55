/**
 * The daqs policy: reserve for each Guarantee VM what it needs, learn what the port really
 * delivers, and water-fill the rest among Best-Effort VMs by weight.
 *
 * A Guarantee VM is in one of two modes:
 * - `contended`: it may want its whole guarantee, so the full guarantee is reserved (a jump,
 *   not a step). If it stays short of it, either the port delivers less than we believe
 *   (lower the learned capacity by the shortfall) or the VM wants less (its rate does not rise
 *   although the port has spare room): the second case demotes it and undoes the lowering.
 * - `demand`: it sends less than its guarantee and does not use the room it has, so it gets
 *   what it sends plus headroom for its TCP to grow; filling that headroom promotes it back.
 * Guarantee VMs are never capped (except by their own maximum, never below the guarantee).
 */
import type { VmId } from '../core/types.ts';
import { isGuarantee, PolicyConfigError, type Policy, type PolicyDecision, type PolicyInput, type PolicyVmDecision, type PolicyVmInput } from './types.ts';
import { waterFill, type FillClaim } from './waterfill.ts';

/** Tunables of the daqs policy; every fraction is relative to the quantity it names. */
export interface DaqsOptions {
  /** A VM sending at least (1 - this) × its cap is held back by the cap. */
  readonly nearCapFrac: number;
  /** A Best-Effort VM held back by its cap is assumed to want this × its cap (multiplicative probe). */
  readonly probeUpFactor: number;
  /** Room given to a Best-Effort VM below its cap, relative to its rate. */
  readonly growthFrac: number;
  /** Headroom kept for a Guarantee VM in demand mode: max(this × guarantee, headroomPortFrac × capacity). */
  readonly headroomFrac: number;
  /** See headroomFrac. */
  readonly headroomPortFrac: number;
  /** The policy's own aim: a Guarantee VM below this × its guarantee gets more room (a tuning knob, not core/guarantee.ts's "met"). */
  readonly aimFrac: number;
  /** The port is full when the sum of rates is within this fraction of the learned capacity. */
  readonly saturationSlackFrac: number;
  /** Learned capacity grows by this fraction per tick while the port is full and no guarantee is at risk. */
  readonly capacityProbeFrac: number;
  /** Share of the gap between an observed saturated throughput and the estimate closed per tick. */
  readonly capacityGain: number;
  /** The port can only be judged saturated when it carries at least this × nominal. */
  readonly saturatedFloorFrac: number;
  /** Learned capacity never goes below this × nominal. */
  readonly minCapacityFrac: number;
  /** A cap change smaller than this fraction of the cap in force is not made (hysteresis). */
  readonly holdFrac: number;
  /** Smallest cap set, as a fraction of nominal capacity (tc cannot shape to zero); lowered when many VMs share little. */
  readonly minCapFrac: number;
}

/** Defaults tuned in the simulator (see docs/controller.md). */
export const DEFAULT_DAQS_OPTIONS: DaqsOptions = {
  nearCapFrac: 0.1,
  probeUpFactor: 1.5,
  growthFrac: 0.1,
  headroomFrac: 0.05,
  headroomPortFrac: 0.03,
  aimFrac: 0.98,
  saturationSlackFrac: 0.02,
  capacityProbeFrac: 0.01,
  capacityGain: 0.5,
  saturatedFloorFrac: 0.85,
  minCapacityFrac: 0.5,
  holdFrac: 0.03,
  minCapFrac: 0.005,
};

/** What the daqs policy remembers about a Guarantee VM. */
export interface DaqsGuaranteeState {
  readonly mode: 'contended' | 'demand';
  readonly reservedBps: number;
  readonly demandBps: number;
  /** Consecutive ticks below the guarantee while contended (0 = none). */
  readonly deficitTicks: number;
  readonly rateAtDeficitStartBps: number;
  /** Capacity taken off during the current deficit episode, given back if the VM turns out to want less. */
  readonly loweredBps: number;
}

/** State carried between ticks. */
export interface DaqsState {
  /** null until the first tick: then the nominal capacity. */
  readonly capacityBps: number | null;
  /** Most the port has been seen to carry (sum of rates in one tick); null before any sample. */
  readonly provenBps: number | null;
  readonly guarantees: Readonly<Record<VmId, DaqsGuaranteeState>>;
  readonly lastRateBps: Readonly<Record<VmId, number>>;
}

/** Builds the daqs policy; options override DEFAULT_DAQS_OPTIONS. */
export function daqsPolicy(options: Partial<DaqsOptions> = {}): Policy<DaqsState> {
  const o: DaqsOptions = { ...DEFAULT_DAQS_OPTIONS, ...options };
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isFinite(v) || v < 0) throw new PolicyConfigError(`daqs option ${k}=${v}: must be a finite number >= 0`);
  }
  if (o.probeUpFactor < 1) throw new PolicyConfigError(`daqs option probeUpFactor=${o.probeUpFactor}: must be >= 1`);
  return {
    name: 'daqs',
    initState: () => ({ capacityBps: null, provenBps: null, guarantees: {}, lastRateBps: {} }),
    decide: (input, state) => decideDaqs(o, input, state),
  };
}

function decideDaqs(o: DaqsOptions, input: PolicyInput, state: DaqsState): PolicyDecision<DaqsState> {
  const nominalBps = input.capacityBps;
  let capacityBps = Math.min(nominalBps, state.capacityBps ?? nominalBps);
  const lastRateBps: Record<VmId, number> = {};
  for (const vm of input.vms) {
    const r = vm.rateBps ?? state.lastRateBps[vm.id];
    if (r !== undefined) lastRateBps[vm.id] = r;
  }
  const sumRateBps = Object.values(lastRateBps).reduce((a, b) => a + b, 0);
  // The port is the bottleneck when it carries a large share of its nominal speed and no
  // sending VM is held back by its cap: then the sum of rates is what it really delivers.
  // Delivered throughput also proves the port carries at least that much. Move halfway,
  // because a rate measured across a cap change can be off for one tick.
  const sending = input.vms.filter((vm) => vm.rateBps !== null && vm.rateBps > 0);
  const unheld = sending.every((vm) => vm.capBps === null || vm.rateBps! < vm.capBps * (1 - o.nearCapFrac));
  if ((sending.length > 0 && unheld && sumRateBps >= o.saturatedFloorFrac * nominalBps) || sumRateBps > capacityBps) {
    capacityBps = Math.min(nominalBps, capacityBps + o.capacityGain * (sumRateBps - capacityBps));
  }
  const portFull = sumRateBps >= capacityBps * (1 - o.saturationSlackFrac);

  const guarantees: Record<VmId, DaqsGuaranteeState> = {};
  const shortfalls: { id: VmId; deficitBps: number }[] = [];
  let giveBackBps = 0;
  for (const vm of input.vms) {
    if (!isGuarantee(vm.sla)) continue;
    const prev = state.guarantees[vm.id];
    if (vm.rateBps === null && prev) {
      guarantees[vm.id] = prev; // no news: keep the last decision
      continue;
    }
    const g = stepGuarantee(o, vm, prev, state.lastRateBps[vm.id] ?? null, capacityBps, portFull);
    guarantees[vm.id] = g.next;
    giveBackBps += g.giveBackBps;
    if (g.deficitBps > 0) shortfalls.push({ id: vm.id, deficitBps: g.deficitBps });
  }
  capacityBps = Math.min(nominalBps, capacityBps + giveBackBps);

  // A contended Guarantee VM still short: believe the port carries what it carried (the
  // observed saturated throughput), never less than needed to close the shortfall.
  const totalDeficitBps = shortfalls.reduce((a, s) => a + s.deficitBps, 0);
  if (totalDeficitBps > 0) {
    const target = Math.max(sumRateBps, capacityBps - totalDeficitBps);
    const loweredBps = Math.max(0, capacityBps - target);
    capacityBps -= loweredBps;
    for (const s of shortfalls) {
      const g = guarantees[s.id]!;
      guarantees[s.id] = { ...g, loweredBps: g.loweredBps + (loweredBps * s.deficitBps) / totalDeficitBps };
    }
  }
  // Probe upward only when no guarantee could pay for an overestimate: no Guarantee VM is
  // contended. (A contended one that is greedy raises the estimate itself, by taking spare.)
  const atRisk = Object.values(guarantees).some((g) => g.mode === 'contended');
  // "Full" counts the headroom kept free for Guarantee VMs as used: it is not on offer.
  const unusedReservedBps = input.vms.reduce((acc, vm) => {
    const g = guarantees[vm.id];
    return g ? acc + Math.max(0, g.reservedBps - (lastRateBps[vm.id] ?? 0)) : acc;
  }, 0);
  // Caps held by hysteresis may leave up to holdFrac unassigned: that still counts as full.
  const committedFull = sumRateBps + unusedReservedBps >= capacityBps * (1 - o.saturationSlackFrac - o.holdFrac);
  // While a Guarantee VM sends, never probe more than one step above the most the port has
  // ever been seen to carry (a physical lower bound on its capacity): an overestimate would be
  // paid by that VM if it is demand-limited. With every Guarantee VM idle, nobody pays.
  const provenBps = Math.min(nominalBps, Math.max(state.provenBps ?? 0, sumRateBps));
  const guaranteeSending = input.vms.some((vm) => isGuarantee(vm.sla) && (lastRateBps[vm.id] ?? 0) > o.headroomPortFrac * capacityBps / 2);
  if (!guaranteeSending) {
    // No Guarantee VM sends: an overestimate costs nobody, so Best-Effort VMs get the port
    // back at once instead of probing upward a percent per tick.
    capacityBps = nominalBps;
  } else if (!atRisk && committedFull && totalDeficitBps === 0) {
    const ceilingBps = provenBps * (1 + o.capacityProbeFrac);
    capacityBps = Math.max(capacityBps, Math.min(nominalBps, capacityBps * (1 + o.capacityProbeFrac), ceilingBps));
  }
  capacityBps = Math.max(capacityBps, nominalBps * o.minCapacityFrac);

  const reservedBps = Object.values(guarantees).reduce((a, g) => a + g.reservedBps, 0);
  const beCaps = allocateBestEffort(o, input, capacityBps - reservedBps, capacityBps, nominalBps);

  const vms: PolicyVmDecision[] = input.vms.map((vm) => {
    const g = guarantees[vm.id];
    if (g) {
      const capBps = vm.sla.maxBps === null ? null : Math.max(vm.sla.maxBps, vm.sla.guaranteeBps);
      return { id: vm.id, capBps, demandBps: g.demandBps, reservedBps: g.reservedBps };
    }
    const b = beCaps.get(vm.id)!;
    return { id: vm.id, capBps: b.capBps, demandBps: b.demandBps, reservedBps: null };
  });
  return { vms, learnedCapacityBps: capacityBps, state: { capacityBps, provenBps, guarantees, lastRateBps } };
}

interface GuaranteeStep {
  readonly next: DaqsGuaranteeState;
  /** Shortfall to close by lowering the learned capacity. */
  readonly deficitBps: number;
  /** Capacity lowered earlier for this VM that turned out to be its own low demand. */
  readonly giveBackBps: number;
}

function stepGuarantee(o: DaqsOptions, vm: PolicyVmInput, prev: DaqsGuaranteeState | undefined, prevRateBps: number | null, capacityBps: number, portFull: boolean): GuaranteeStep {
  const guarBps = vm.sla.guaranteeBps;
  const headroomBps = Math.min(guarBps, Math.max(o.headroomFrac * guarBps, o.headroomPortFrac * capacityBps));
  const slackBps = headroomBps / 2;
  const contended = (rate: number): DaqsGuaranteeState => ({ mode: 'contended', reservedBps: guarBps, demandBps: Math.max(guarBps, rate), deficitTicks: 0, rateAtDeficitStartBps: rate, loweredBps: 0 });
  const demand = (rate: number): DaqsGuaranteeState => ({ mode: 'demand', reservedBps: Math.min(guarBps, rate + headroomBps), demandBps: rate, deficitTicks: 0, rateAtDeficitStartBps: rate, loweredBps: 0 });
  // A VM first seen, or without a sample yet, may want its whole guarantee: reserve it.
  if (vm.rateBps === null) return { next: prev ?? contended(0), deficitBps: 0, giveBackBps: 0 };
  const rate = vm.rateBps;
  const met = rate >= o.aimFrac * guarBps;

  // A VM that sends (almost) nothing is not being squeezed: TCP always gets some share of a
  // contended port. It only needs headroom to show it wants more.
  if (rate < slackBps) return { next: demand(rate), deficitBps: 0, giveBackBps: prev?.loweredBps ?? 0 };
  let g = prev ?? contended(rate);
  if (g.mode === 'demand') {
    // It uses the room we left it (or reaches its guarantee): it may want more, jump.
    if (met || rate >= g.reservedBps - slackBps) g = contended(rate);
    else return { next: demand(rate), deficitBps: 0, giveBackBps: 0 };
  }
  if (met) return { next: { ...contended(rate), demandBps: Math.max(guarBps, rate) }, deficitBps: 0, giveBackBps: 0 };
  // A rate that just fell says something changed (its demand, a newcomer), not that the
  // port carries less: no capacity is taken off for it.
  const fell = prevRateBps !== null && rate < prevRateBps - slackBps;
  if (g.deficitTicks === 0) {
    return { next: { ...g, deficitTicks: 1, rateAtDeficitStartBps: rate, loweredBps: 0, demandBps: guarBps }, deficitBps: fell ? 0 : guarBps - rate, giveBackBps: 0 };
  }
  // Still climbing since the last tick (TCP growing into the room it was given)?
  const rose = rate >= (prevRateBps ?? g.rateAtDeficitStartBps) + slackBps;
  if (!rose && !portFull) {
    // Its reservation was in force, the port had room, and it did not take it: it wants less.
    // Give back half of what the episode took: the port may also really carry less (probing
    // and observed saturation recover the rest without risking the guarantee).
    return { next: demand(rate), deficitBps: 0, giveBackBps: g.loweredBps / 2 };
  }
  return { next: { ...g, deficitTicks: g.deficitTicks + 1, demandBps: guarBps }, deficitBps: fell ? 0 : guarBps - rate, giveBackBps: 0 };
}

interface BeCap {
  readonly capBps: number | null;
  readonly demandBps: number | null;
}

function allocateBestEffort(o: DaqsOptions, input: PolicyInput, budgetBps: number, capacityBps: number, nominalBps: number): Map<VmId, BeCap> {
  const out = new Map<VmId, BeCap>();
  const minCapBps = o.minCapFrac * nominalBps;
  const adjustable: { vm: PolicyVmInput; demandBps: number | null; fillDemandBps: number }[] = [];
  let freeBps = Math.max(0, budgetBps);
  for (const vm of input.vms) {
    if (isGuarantee(vm.sla)) continue;
    const maxBps = vm.sla.maxBps ?? Infinity;
    if (vm.rateBps === null && vm.capBps !== null) {
      // No fresh sample: keep its cap, and keep that cap out of what the others share.
      out.set(vm.id, { capBps: vm.capBps, demandBps: null });
      freeBps = Math.max(0, freeBps - vm.capBps);
      continue;
    }
    if (vm.rateBps === null) {
      // Never measured and uncapped: it starts at its fair share, its demand unknown.
      adjustable.push({ vm, demandBps: null, fillDemandBps: maxBps });
      continue;
    }
    const atCap = vm.capBps !== null && vm.rateBps >= vm.capBps * (1 - o.nearCapFrac);
    const demandBps = Math.min(maxBps, capacityBps, atCap ? Math.max(vm.rateBps, vm.capBps!) * o.probeUpFactor : vm.rateBps);
    const fillDemandBps = Math.min(maxBps, atCap ? demandBps : vm.rateBps * (1 + o.growthFrac));
    adjustable.push({ vm, demandBps, fillDemandBps });
  }
  // A VM held by its cap claims at least its weighted equal share at once: a newcomer with a
  // tiny cap reaches its fair level in one tick instead of crawling up by probeUpFactor.
  const totalWeight = adjustable.reduce((acc, a) => acc + weightOf(a.vm), 0);
  const claims: FillClaim[] = adjustable.map((a) => {
    const held = a.vm.rateBps !== null && a.vm.capBps !== null && a.vm.rateBps >= a.vm.capBps * (1 - o.nearCapFrac);
    const equalShareBps = (freeBps * weightOf(a.vm)) / totalWeight;
    return { demandBps: held ? Math.min(a.vm.sla.maxBps ?? Infinity, Math.max(a.fillDemandBps, equalShareBps)) : a.fillDemandBps, weight: weightOf(a.vm) };
  });
  // The floor never takes more than half the budget, however many VMs share it.
  const floorBps = Math.max(1e3, Math.min(minCapBps, freeBps / (2 * Math.max(1, adjustable.length))));
  const first = fillWithFloor(freeBps, claims, floorBps);
  const spareBps = freeBps - first.reduce((a, b) => a + b, 0);
  // What nobody claims is spread by weight too, so every VM can grow into it (work-conserving).
  const extra = spareBps > 0 ? waterFill(spareBps, adjustable.map((a, i) => ({ demandBps: Math.max(0, (a.vm.sla.maxBps ?? Infinity) - first[i]!), weight: weightOf(a.vm) }))) : first.map(() => 0);
  const computed = adjustable.map((a, i) => {
    const raw = first[i]! + extra[i]!;
    return a.vm.sla.maxBps === null ? raw : Math.min(raw, Math.max(a.vm.sla.maxBps, floorBps));
  });
  // Hysteresis: keep the cap in force when the change is small, unless the sum would then
  // exceed the budget (a guarantee could pay for it).
  const held = adjustable.map((a, i) => {
    const cur = a.vm.capBps;
    const want = computed[i]!;
    const inBounds = cur !== null && cur <= (a.vm.sla.maxBps ?? Infinity);
    return inBounds && Math.abs(want - cur) <= o.holdFrac * cur ? cur : want;
  });
  const heldSum = held.reduce((a, b) => a + b, 0);
  const final = heldSum > Math.max(freeBps, 0) * (1 + 1e-9) + 1e-6 ? held.map((h, i) => Math.min(h, computed[i]!)) : held;
  adjustable.forEach((a, i) => out.set(a.vm.id, { capBps: final[i]!, demandBps: a.demandBps }));
  return out;
}

/**
 * Water-filling where nobody gets less than floorBps (tc cannot shape to zero): VMs that
 * would fall below it are pinned at it and the others share what remains, so the total stays
 * within the budget whenever the budget covers every floor.
 */
function fillWithFloor(budgetBps: number, claims: readonly FillClaim[], floorBps: number): number[] {
  const pinned = new Set<number>();
  for (;;) {
    const free = claims.map((_, i) => i).filter((i) => !pinned.has(i));
    const fill = waterFill(budgetBps - pinned.size * floorBps, free.map((i) => claims[i]!));
    const low = free.filter((_, k) => fill[k]! < floorBps);
    if (low.length === 0 || free.length === 0) {
      const out = claims.map(() => floorBps);
      free.forEach((i, k) => (out[i] = fill[k]!));
      return out;
    }
    for (const i of low) pinned.add(i);
  }
}

function weightOf(vm: PolicyVmInput): number {
  return vm.sla.weight > 0 ? vm.sla.weight : 1;
}
