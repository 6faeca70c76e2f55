/**
 * The daqs policy's view of one Guarantee VM: how much of the port to keep for it (its
 * reservation) and what its shortfall says about the port. Pure; see daqs.ts for the whole.
 *
 * Two modes:
 * - `contended`: it may want its whole guarantee, so all of it is reserved (plus a boost that
 *   corrects what the model gets wrong). Short of it once the reservation has been in force
 *   for two ticks, the cause is one of three, told apart by what the others and the port did:
 *   the others sent past their caps, or the port is as full as we believe it can be: it did
 *   not get its share, so its boost grows by part of the shortfall; the port carries as much
 *   as it has lately been seen to carry, which is less than we believe: capacity is lowered to
 *   that, tentatively (an episode, undone in full if the VM does not use the room); otherwise
 *   the port had room and the VM did not take it: it wants less, demote it.
 * - `demand`: it sends less than its guarantee: it gets its usual rate (base) plus headroom.
 *   Filling the headroom (to the top once, or past half of it twice running) promotes it
 *   back: a jump to the guarantee, not a step. Its base follows its rate, except downward
 *   when the port's total did not fall with it (the others took it: a squeeze, not its
 *   choice); a VM whose recent mean stays well under its base while the port is full is
 *   squeezed, and capacity is lowered for it.
 * Headroom is small (a fraction of the guarantee or of the port) but never under a few times
 * the VM's own rate noise, or noise alone would look like a VM that wants more.
 * A VM that sends less than half its minimum headroom is idle: it is never judged squeezed,
 * and from idle the first tick it sends promotes it.
 */
import type { PolicyVmInput } from './types.ts';

/** What daqs remembers about one Guarantee VM between ticks. */
export interface DaqsGuaranteeState {
  readonly mode: 'contended' | 'demand';
  /** Bandwidth kept for it (delivered bits per second). */
  readonly reservedBps: number;
  /** Correction added to the guarantee while contended, learned from its shortfalls. */
  readonly boostBps: number;
  /** Its usual rate in demand mode. */
  readonly baseBps: number;
  /** The port's total when the base was last set. */
  readonly totalAtBaseBps: number;
  /** Its last rate, and its recent mean (a change of more than a tenth restarts the mean). */
  readonly rateBps: number;
  readonly meanBps: number;
  /** Its rate's tick-to-tick deviation (estimated). */
  readonly noiseBps: number;
  /** Ticks since its reservation last rose (so the others' cuts have landed after 2). */
  readonly sinceTicks: number;
  /** Consecutive ticks past half its headroom (demand mode). */
  readonly useTicks: number;
  /** Consecutive ticks well under its base while the port is full (demand mode). */
  readonly lowTicks: number;
  /** Contended, and within riskFrac of its guarantee without being held there by a cap of ours. */
  readonly atRisk: boolean;
  /** Ticks left during which Guarantee VMs stay capped for it (kept while it is contended). */
  readonly riskTicks: number;
  /** A tentative capacity lowering on its behalf, undone if it does not use the room. */
  readonly episode: { readonly capacityBeforeBps: number; readonly rateBps: number; readonly loweredBps: number } | null;
}

/** Tunables the guarantee logic reads (part of DaqsOptions). */
export interface GuaranteeOptions {
  /** Headroom of a Guarantee VM below its guarantee: max(this × guarantee, headroomPortFrac × capacity). */
  readonly headroomFrac: number;
  /** See headroomFrac. */
  readonly headroomPortFrac: number;
  /** Headroom is at least this × the VM's rate noise (its tick-to-tick deviation). */
  readonly headroomNoiseFactor: number;
  /** The policy's own aim: a contended Guarantee VM below this × its guarantee is short (a tuning knob, not core/guarantee.ts's "met"). */
  readonly aimFrac: number;
  /** A contended Guarantee VM within this above its guarantee is at risk: the others' excess gets capped. */
  readonly riskFrac: number;
  /** Ticks the other Guarantee VMs stay capped after the last tick one was at risk. */
  readonly riskHoldTicks: number;
  /** The port is full when it carries at least (1 - this) × the learned capacity (or what it was seen to deliver). */
  readonly saturationSlackFrac: number;
  /** Share of a contended Guarantee VM's shortfall added to its reservation per tick. */
  readonly boostGain: number;
  /** Largest boost, as a fraction of the guarantee. */
  readonly maxBoostFrac: number;
}

/** The port as the policy sees it this tick, before the guarantee logic acts on it. */
export interface PortView {
  /** Nominal speed. */
  readonly nominalBps: number;
  /** Learned capacity. */
  readonly capacityBps: number;
  /** What the port was robustly seen to deliver lately (a lower bound on its capacity). */
  readonly deliveredFloorBps: number;
  /** Sum of all rates this tick, and last tick (null on the first). */
  readonly totalBps: number;
  readonly lastTotalBps: number | null;
  /** The sum grew by more than the saturation slack since the last tick (TCP still ramping up). */
  readonly rising: boolean;
  /** The capped VMs together sent more than their caps allow at their learned fill. */
  readonly overDelivering: boolean;
  /** The Best-Effort VMs together sent more than they were allocated last tick. */
  readonly othersOverAllocation: boolean;
  /** Ticks since the budget left for the others last fell (their cuts have landed after 2). */
  readonly calmTicks: number;
}

/** What one Guarantee VM asks of the port's capacity estimate this tick. */
export type CapacityAction =
  | { readonly kind: 'none' }
  /** Lower it to this (never below what the port delivered). */
  | { readonly kind: 'lower'; readonly toBps: number }
  /** Undo an episode: back up to this. */
  | { readonly kind: 'restore'; readonly toBps: number };

/** One step of a Guarantee VM. */
export interface GuaranteeStep {
  readonly next: DaqsGuaranteeState;
  readonly action: CapacityAction;
  /** Contended and short of its guarantee this tick. */
  readonly short: boolean;
}

/** Smallest headroom kept for a Guarantee VM below its guarantee. */
export function minHeadroomBps(o: GuaranteeOptions, guaranteeBps: number, nominalBps: number): number {
  return Math.min(guaranteeBps, Math.max(o.headroomFrac * guaranteeBps, o.headroomPortFrac * nominalBps));
}

/** Headroom for a VM whose rate deviates by noiseBps from tick to tick. */
export function headroomBps(o: GuaranteeOptions, guaranteeBps: number, nominalBps: number, noiseBps: number): number {
  return Math.min(guaranteeBps, Math.max(minHeadroomBps(o, guaranteeBps, nominalBps), o.headroomNoiseFactor * noiseBps));
}

/** The state of a Guarantee VM first seen: it may want its whole guarantee, and may be at risk. */
export function newGuarantee(o: GuaranteeOptions, guaranteeBps: number): DaqsGuaranteeState {
  return { mode: 'contended', reservedBps: guaranteeBps, boostBps: 0, baseBps: 0, totalAtBaseBps: 0, rateBps: 0, meanBps: 0, noiseBps: 0, sinceTicks: 0, useTicks: 0, lowTicks: 0, atRisk: true, riskTicks: o.riskHoldTicks, episode: null };
}

const NONE: CapacityAction = { kind: 'none' };
/** Gain of the recent mean (and so of the demand-mode base), and of the noise estimate. */
const MEAN_GAIN = 0.3;
const NOISE_GAIN = 0.1;
/** Mean |difference| of two normal draws is 2/√π of their deviation. */
const ABS_DIFF_TO_DEVIATION = Math.sqrt(Math.PI) / 2;
/** Noise assumed before any is learned, relative to the rate. */
const NOISE_PRIOR_FRAC = 0.02;
/** Largest tick-to-tick change, relative to the rate, taken as noise. */
const NOISE_MAX_FRAC = 0.1;
/** Ticks well under its base (with the port full) before a demand-mode VM counts as squeezed. */
const SQUEEZE_TICKS = 2;
/** "Well under": its recent mean this many deviations of its noise below its base. */
const SQUEEZE_DEVIATIONS = 1;

/**
 * Advances one Guarantee VM by a tick in which it was measured. `judge`: its window is clean;
 * `capped`: it has a cap of ours (set only while one is at risk); `heldByCap`: it sends what
 * that cap lets through.
 */
export function stepGuarantee(o: GuaranteeOptions, vm: PolicyVmInput, rateBps: number, prev: DaqsGuaranteeState, port: PortView, judge: boolean, heldByCap: boolean, capped: boolean): GuaranteeStep {
  const g = vm.sla.guaranteeBps;
  const hMin = minHeadroomBps(o, g, port.nominalBps);
  // A step of more than a tenth is a change (a start, a cut, a ramp), not noise.
  const stepBps = Math.abs(rateBps - prev.rateBps);
  // Until it is learned, assume a few percent: headroom too tight for its noise would read
  // every upward wobble as a VM that wants more.
  const priorBps = prev.noiseBps > 0 ? prev.noiseBps : NOISE_PRIOR_FRAC * rateBps;
  // (Not while the port is still settling after a cut or ramping up: that is change, not noise.)
  const quiet = judge && port.calmTicks >= 2 && !port.rising;
  const noiseBps = quiet && prev.rateBps > 0 && rateBps >= hMin / 2 && stepBps <= NOISE_MAX_FRAC * rateBps
    ? priorBps + NOISE_GAIN * (ABS_DIFF_TO_DEVIATION * stepBps - priorBps)
    : priorBps;
  const h = headroomBps(o, g, port.nominalBps, noiseBps);
  const meanBps = stepBps > NOISE_MAX_FRAC * rateBps || prev.meanBps <= 0 ? rateBps : prev.meanBps + MEAN_GAIN * (rateBps - prev.meanBps);
  const base = { ...prev, rateBps, meanBps, noiseBps };
  const demand = (baseBps: number, extra: Partial<DaqsGuaranteeState> = {}): DaqsGuaranteeState => ({
    ...base, mode: 'demand', baseBps, totalAtBaseBps: port.totalBps, reservedBps: Math.min(g, baseBps + h), sinceTicks: prev.sinceTicks + 1, useTicks: 0, lowTicks: 0, atRisk: false, riskTicks: 0, episode: null, ...extra,
  });
  // Near its guarantee on its own (at a cap of ours it is not: that cap, never under its
  // guarantee plus headroom at its learned fill, is what keeps it there): another Guarantee
  // VM's excess could push it under, so theirs gets capped.
  const atRisk = rateBps < g * (1 + o.riskFrac) && !heldByCap;
  const contended = (boostBps: number, sinceTicks: number, episode: DaqsGuaranteeState['episode'], riskTicks: number): DaqsGuaranteeState => ({
    // One deviation of its own noise on top: it is judged on every tick, not on average.
    ...base, mode: 'contended', reservedBps: g + boostBps + noiseBps, boostBps, sinceTicks, useTicks: 0, lowTicks: 0, atRisk, riskTicks, episode,
  });
  // Idle: TCP always gets some share of a busy port, so this is its choice. Headroom only.
  if (rateBps < hMin / 2) return { next: { ...demand(rateBps), reservedBps: Math.min(g, rateBps + hMin) }, action: NONE, short: false };
  // From idle, the first tick it sends: it may want all of it.
  if (prev.mode === 'demand' && prev.rateBps < hMin / 2) return { next: contended(prev.boostBps, 0, null, o.riskHoldTicks), action: NONE, short: false };

  if (prev.mode === 'demand') {
    // Filled its room: it may want more. At the top at once; past half of it, twice running
    // (one tick past half is as likely its own noise).
    const full = rateBps >= Math.min(g * o.aimFrac, prev.reservedBps);
    const useTicks = rateBps >= prev.reservedBps - h / 2 ? prev.useTicks + 1 : 0;
    if (full || useTicks >= 2) return { next: contended(prev.boostBps, 0, null, o.riskHoldTicks), action: NONE, short: false };
    if (!judge) return { next: { ...prev, rateBps, noiseBps, sinceTicks: prev.sinceTicks + 1 }, action: NONE, short: false };
    // Its base follows it down only if the port's total fell with it (the others are capped,
    // so what it stops sending stays unused). If the total held, the others took it: a
    // squeeze, not its choice.
    const ownFall = rateBps < prev.baseBps && port.totalBps <= prev.totalAtBaseBps - (prev.baseBps - rateBps) / 2 && !port.overDelivering;
    const follow = rateBps >= prev.baseBps || ownFall;
    const baseBps = follow ? prev.baseBps + MEAN_GAIN * (rateBps - prev.baseBps) : prev.baseBps;
    const totalAtBaseBps = follow ? port.totalBps : prev.totalAtBaseBps;
    const portFull = port.totalBps >= (1 - o.saturationSlackFrac) * Math.min(port.capacityBps, port.deliveredFloorBps);
    // (Judged on its recent mean, so that one noisy tick neither triggers nor resets it.)
    const low = portFull && meanBps < baseBps - Math.max(hMin, SQUEEZE_DEVIATIONS * noiseBps);
    const lowTicks = low ? prev.lowTicks + 1 : 0;
    // Under its usual rate on a full port: others may be taking it. Another Guarantee VM's
    // excess gets capped at once (cheap: never below its own guarantee plus headroom).
    const risk = low ? { atRisk: true, riskTicks: o.riskHoldTicks } : { riskTicks: Math.max(0, prev.riskTicks - 1) };
    if (lowTicks >= SQUEEZE_TICKS) {
      // Still, three ticks running: the port carries less than we believe, about what it
      // carries now.
      return { next: demand(baseBps, { totalAtBaseBps, ...risk }), action: { kind: 'lower', toBps: port.totalBps }, short: false };
    }
    return { next: demand(baseBps, { useTicks, lowTicks, totalAtBaseBps, ...risk }), action: NONE, short: false };
  }

  const sinceTicks = prev.sinceTicks + 1;
  const met = rateBps >= o.aimFrac * g;
  // Once at risk, it stays protected while it wants its guarantee: the others' excess came
  // from it, and would again if uncapped.
  const riskTicks = atRisk || (prev.mode === 'contended' && prev.riskTicks > 0) ? o.riskHoldTicks : 0;
  // Without a clean window, or while the port's total still climbs (TCP ramping), a
  // shortfall says nothing yet. Before its reservation (or the last capacity cut) has been in
  // force for a whole window, it says only one thing: a port at its seen maximum is full.
  const hold = { next: contended(prev.boostBps, sinceTicks, prev.episode, riskTicks), action: NONE, short: !met };
  if (!judge || sinceTicks < 1) return hold;
  // Ramping or not yet a whole window: only a tentative lowering (below) may be made.
  const early = sinceTicks < 2 || port.calmTicks < 2 || port.rising;
  // (A capped one's early shortfall is as likely its own cap and ramp: only uncapped ones.)
  if (early && (met || prev.episode || (capped && port.rising))) return hold;
  // (Met, an episode ends: the lowering was right.)
  const maxBoostBps = o.maxBoostFrac * g;
  // Short at a cap of ours that it fills: its cap lets less through than we thought (its fill
  // is being learned, which raises the cap), not the port or the others. Nothing to judge.
  if (heldByCap && !met) return hold;
  if (met && prev.episode && rateBps < prev.episode.rateBps + prev.episode.loweredBps / 2 && rateBps < g) {
    // It meets its guarantee now, but without taking the room the lowering gave it: the
    // lowering proved nothing. Give it back.
    return { next: contended(prev.boostBps, sinceTicks, null, riskTicks), action: { kind: 'restore', toBps: prev.episode.capacityBeforeBps }, short: false };
  }
  if (met) {
    // A surplus over the guarantee means the boost is more than needed: let it go by as much.
    const boostBps = rateBps > g ? Math.max(0, prev.boostBps - o.boostGain * (rateBps - g)) : prev.boostBps;
    return { next: contended(boostBps, sinceTicks, null, riskTicks), action: NONE, short: false };
  }
  const fullPort = port.totalBps >= (1 - o.saturationSlackFrac) * port.capacityBps;
  // Capacity was lowered for it and it is still short: if the others keep to what they were
  // allocated, nobody took its room (a port that carries only what the estimate allows looks
  // full by that estimate): it is its own demand. Give the capacity back in full.
  if (prev.episode && !early && ((!fullPort && !port.overDelivering) || !port.othersOverAllocation)) return { next: demand(meanBps), action: { kind: 'restore', toBps: prev.episode.capacityBeforeBps }, short: false };
  if (!early && (port.overDelivering || fullPort)) {
    // The port is as full as we believe it can be, or the others send past their caps: it
    // did not get its share, so keep more for it.
    const boostBps = Math.min(maxBoostBps, prev.boostBps + o.boostGain * (g - rateBps));
    return { next: contended(boostBps, sinceTicks, null, riskTicks), action: NONE, short: true };
  }
  const seenFull = port.totalBps >= (1 - o.saturationSlackFrac) * port.deliveredFloorBps;
  if (!prev.episode && seenFull && port.deliveredFloorBps < (1 - o.saturationSlackFrac) * port.capacityBps) {
    // The port carries as much as it has lately, and that is less than we believe: it may
    // really carry only that. Lower the estimate, tentatively, and see whether the VM takes
    // the room.
    const episode = { capacityBeforeBps: port.capacityBps, rateBps, loweredBps: port.capacityBps - port.totalBps };
    return { next: contended(prev.boostBps, 0, episode, riskTicks), action: { kind: 'lower', toBps: port.totalBps }, short: true };
  }
  if (early) return hold;
  // Its reservation was in force, the port had room, and it did not take it: it wants less.
  return { next: demand(meanBps), action: NONE, short: false };
}
