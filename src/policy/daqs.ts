/**
 * The daqs policy: keep for each Guarantee VM what it needs, learn what the port really
 * delivers and how much of its cap each capped VM really sends, and share the rest max-min
 * by weight among the VMs that want it. docs/controller.md explains it in full.
 *
 * Per tick:
 * 1. Each VM's window is judged: held by its cap (it grew into its cap, or is still ramping
 *    up) or not. A window in which its cap changed, that the loop marks unsettled, or that is
 *    too short makes no VM held and teaches nothing.
 * 2. The port: what it delivered, robustly (a level held two ticks running, the highest of
 *    the last deliveredWindowTicks), is a floor for the learned capacity; the nominal speed a
 *    ceiling. Capacity is lowered only on evidence, tentatively, and given back in full if the
 *    Guarantee VM it was lowered for does not use the room; it is probed upward in small
 *    steps while nobody is short. While no Guarantee VM sends, the budget is the nominal
 *    speed: an overestimate costs nobody.
 * 3. Guarantee VMs: see daqs-guarantee.ts. With one sending it is uncapped (greedy, it takes
 *    what the others leave); with two or more sending and one at risk, all are capped, never
 *    below their guarantee plus headroom, their excess served after the Best-Effort VMs.
 * 4. Fill ratios (HTB under-fill) are learned from held VMs where the shaper is the limit.
 * 5. Allocation and caps: see daqs-allocate.ts.
 */
import type { VmId } from '../core/types.ts';
import { allocate, type AllocateOptions, type AllocGuarantee, type AllocVm } from './daqs-allocate.ts';
import { headroomBps, minHeadroomBps, newGuarantee, stepGuarantee, type CapacityAction, type DaqsGuaranteeState, type GuaranteeOptions, type PortView } from './daqs-guarantee.ts';
import { isGuarantee, PolicyConfigError, type Policy, type PolicyDecision, type PolicyInput, type PolicyVmDecision, type PolicyVmInput } from './types.ts';

export type { DaqsGuaranteeState } from './daqs-guarantee.ts';

/** Tunables of the daqs policy; every fraction is relative to the quantity it names. */
export interface DaqsOptions extends GuaranteeOptions, AllocateOptions {
  /** A VM sending at least this × its fill × its cap is held back by the cap. */
  readonly heldFrac: number;
  /** What a VM below its cap claims of the budget, above its rate. */
  readonly claimFrac: number;
  /** A VM whose rate grew at least this factor since the last tick is still ramping: held. */
  readonly rampFactor: number;
  /** Share of the gap between a held VM's rate / cap and its fill estimate closed per tick. */
  readonly fillGain: number;
  /** Bounds of a learned fill ratio (and the largest cap / allocation it can cause). */
  readonly minFill: number;
  /** Fill ratio assumed before any is learned. */
  readonly initialFill: number;
  /** Capped VMs over-deliver when together they send more than (1 + this) × Σ fill × cap. */
  readonly overDeliveryFrac: number;
  /** Ticks over which what the port delivered is remembered as a floor for its capacity. */
  readonly deliveredWindowTicks: number;
  /** First upward probe of the learned capacity, as a fraction of nominal; each one the port carried doubles the next, up to maxProbeFrac. */
  readonly probeFrac: number;
  /** See probeFrac. */
  readonly maxProbeFrac: number;
  /** Ticks between probes; doubled after each probe that hurt a Guarantee VM. */
  readonly probeIntervalTicks: number;
  /** See probeIntervalTicks. */
  readonly maxProbeIntervalTicks: number;
  /** Learned capacity never goes below this × nominal. */
  readonly minCapacityFrac: number;
  /** A window shorter than this × tickMs is too short to judge or learn from. */
  readonly minWindowFrac: number;
}

/** Defaults tuned in the simulator (see docs/controller.md). */
export const DEFAULT_DAQS_OPTIONS: DaqsOptions = {
  heldFrac: 0.88,
  growthFrac: 0.2,
  claimFrac: 0.05,
  rampFactor: 1.25,
  fillGain: 0.3,
  minFill: 0.85,
  initialFill: 1,
  headroomFrac: 0.01,
  headroomPortFrac: 0.005,
  headroomNoiseFactor: 3,
  aimFrac: 0.98,
  riskFrac: 0.05,
  riskHoldTicks: 10,
  saturationSlackFrac: 0.02,
  overDeliveryFrac: 0.02,
  boostGain: 0.5,
  maxBoostFrac: 0.5,
  deliveredWindowTicks: 50,
  probeFrac: 0.0025,
  maxProbeFrac: 0.02,
  probeIntervalTicks: 5,
  maxProbeIntervalTicks: 160,
  holdFrac: 0.03,
  minCapFrac: 0.005,
  minCapacityFrac: 0.5,
  minWindowFrac: 0.5,
};

/** What daqs remembers about one VM. */
export interface DaqsVmState {
  /** Cap in force at the last tick (a different one now means it changed during this window). */
  readonly capBps: number | null;
  readonly rateBps: number;
  readonly held: boolean;
  readonly fill: number;
  /** Last allocation (delivered units). */
  readonly allocBps: number;
  /** Guarantee VMs only. */
  readonly guarantee: DaqsGuaranteeState | null;
}

/** An upward probe of the learned capacity whose effect is being watched. */
export interface DaqsProbe {
  readonly capacityBeforeBps: number;
  readonly stepBps: number;
  /** The port's total when it was made. */
  readonly totalBeforeBps: number;
  /** Each Guarantee VM's rate when the probe was made. */
  readonly ratesBps: Readonly<Record<VmId, number>>;
  readonly ticksLeft: number;
}

/** State carried between ticks. */
export interface DaqsState {
  /** Learned capacity; null until the first tick. */
  readonly capacityBps: number | null;
  /** Sum of rates of the last deliveredWindowTicks ticks, oldest first. */
  readonly deliveredBps: readonly number[];
  /** Budget left for the others last tick (to tell when it fell). */
  readonly budgetBps: number | null;
  readonly calmTicks: number;
  /** Ticks until the next upward probe is allowed, and the current interval. */
  readonly probeWaitTicks: number;
  readonly probeIntervalTicks: number;
  /** Size of the next probe. */
  readonly probeStepBps: number | null;
  readonly probe: DaqsProbe | null;
  /** Fill ratio learned across all VMs: the starting point of a VM not yet held. */
  readonly hostFill: number;
  /** Last tick: Guarantee VMs capped for one at risk; an uncapped one took all the full port left. */
  readonly protecting: boolean;
  readonly absorbing: boolean;
  readonly vms: Readonly<Record<VmId, DaqsVmState>>;
}

/** Builds the daqs policy; options override DEFAULT_DAQS_OPTIONS. */
export function daqsPolicy(options: Partial<DaqsOptions> = {}): Policy<DaqsState> {
  const o: DaqsOptions = { ...DEFAULT_DAQS_OPTIONS, ...options };
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isFinite(v) || v < 0) throw new PolicyConfigError(`daqs option ${k}=${v}: must be a finite number >= 0`);
  }
  for (const k of ['minFill', 'initialFill'] as const) {
    if (!(o[k] > 0 && o[k] <= 1)) throw new PolicyConfigError(`daqs option ${k}=${o[k]}: must be in (0, 1]`);
  }
  if (o.initialFill < o.minFill) throw new PolicyConfigError(`daqs option initialFill=${o.initialFill}: must be >= minFill (${o.minFill})`);
  if (o.deliveredWindowTicks < 2) throw new PolicyConfigError(`daqs option deliveredWindowTicks=${o.deliveredWindowTicks}: must be >= 2`);
  return {
    name: 'daqs',
    initState: () => ({ capacityBps: null, deliveredBps: [], budgetBps: null, calmTicks: 0, probeWaitTicks: o.probeIntervalTicks, probeIntervalTicks: o.probeIntervalTicks, probeStepBps: null, probe: null, hostFill: o.initialFill, protecting: false, absorbing: false, vms: {} }),
    decide: (input, state) => decideDaqs(o, input, state),
  };
}

/** A Guarantee VM within this fraction of fill × cap is held by its own cap. */
const OWN_CAP_FRAC = 0.03;
/** A rate within this fraction of the last one is steady. */
const STEADY_FRAC = 0.05;

/** One VM's window, judged. */
interface Seen {
  readonly vm: PolicyVmInput;
  readonly prev: DaqsVmState | undefined;
  /** This tick's rate, or the last one when there is no sample. */
  readonly rateBps: number;
  readonly held: boolean;
  /** Held at its cap in a clean window: its rate / cap is its fill ratio. */
  readonly atCap: boolean;
  readonly fill: number;
  /** A clean window: the cap did not change in it, the loop did not flag it, long enough. */
  readonly settled: boolean;
}

function decideDaqs(o: DaqsOptions, input: PolicyInput, state: DaqsState): PolicyDecision<DaqsState> {
  const nominalBps = input.capacityBps;
  const floorCapBps = o.minCapacityFrac * nominalBps;

  // 1. Judge each window.
  const seen: Seen[] = input.vms.map((vm) => {
    const prev = state.vms[vm.id];
    const fill = prev?.fill ?? state.hostFill;
    if (vm.rateBps === null) return { vm, prev, rateBps: prev?.rateBps ?? 0, held: prev?.held ?? vm.capBps === null, atCap: false, fill, settled: false };
    const rate = vm.rateBps;
    const cap = vm.capBps;
    const settled = vm.settled !== false && prev !== undefined && prev.capBps === cap && (vm.windowMs == null || vm.windowMs >= o.minWindowFrac * input.tickMs);
    const atCap = cap !== null && rate >= o.heldFrac * fill * cap;
    // A window in which the cap moved is judged against the lower of the two caps: filling
    // even that much says it is held, whichever way the cap went.
    const lowerCap = cap === null ? null : Math.min(cap, prev?.capBps ?? cap);
    const atLowerCap = lowerCap !== null && rate >= o.heldFrac * fill * lowerCap;
    // TCP still climbing into room it was given is not yet showing what it wants.
    const ramping = prev !== undefined && rate >= o.rampFactor * prev.rateBps && rate > o.minCapFrac * nominalBps;
    // At its cap it may be there only because the cap came down to what it sends (on a full
    // port a VM below its cap gets little room): it counts as held if it was already, or if it
    // grew into the little room it had. A VM that wants more does; one that sends what it
    // wants does not, and keeps its allocation instead of claiming a fair share it won't use.
    const grew = prev === undefined || prev.held || rate >= (1 + 0.8 * o.claimFrac) * prev.rateBps;
    // (A window in which the cap moved keeps a VM held if it filled even the lower of the two
    // caps, but makes none held that was not: half a window under a lower cap proves nothing.)
    const held = cap !== null && ((settled && atCap && grew) || (!settled && atLowerCap && (prev?.held ?? false)) || ramping);
    // Its rate / cap is its fill only at a steady rate: TCP still climbing reads low.
    const steady = prev !== undefined && Math.abs(rate - prev.rateBps) <= STEADY_FRAC * rate;
    return { vm, prev, rateBps: rate, held, atCap: settled && atCap && steady, fill, settled };
  });

  // 2. The port.
  const totalBps = seen.reduce((a, s) => a + s.rateBps, 0);
  // A tick without a single sample (the first) says nothing about the port.
  const measured = input.vms.some((vm) => vm.rateBps !== null);
  const deliveredBps = measured ? [...state.deliveredBps, totalBps].slice(-o.deliveredWindowTicks) : state.deliveredBps;
  const deliveredFloorBps = Math.min(nominalBps, sustainedMax(deliveredBps));
  let capacityBps = clamp(Math.max(state.capacityBps ?? nominalBps, deliveredFloorBps), floorCapBps, nominalBps);
  let capFillBps = 0;
  let cappedRateBps = 0;
  for (const s of seen) {
    if (s.vm.capBps === null || s.vm.rateBps === null) continue;
    capFillBps += s.fill * s.vm.capBps;
    cappedRateBps += s.rateBps;
  }
  let beRateBps = 0;
  let beAllocBps = 0;
  for (const s of seen) {
    if (isGuarantee(s.vm.sla) || s.prev === undefined) continue;
    beRateBps += s.rateBps;
    // (A cap never goes under the floor: a VM allocated less may still send that much.)
    beAllocBps += Math.max(s.prev.allocBps, o.minCapFrac * nominalBps);
  }
  const port: PortView = {
    nominalBps,
    capacityBps,
    deliveredFloorBps,
    totalBps,
    lastTotalBps: state.deliveredBps.length > 0 ? state.deliveredBps[state.deliveredBps.length - 1]! : null,
    // The first measured tick is taken as rising: TCP has only just started.
    rising: state.deliveredBps.length === 0 || totalBps > (1 + o.saturationSlackFrac) * state.deliveredBps[state.deliveredBps.length - 1]!,
    overDelivering: cappedRateBps > (1 + o.overDeliveryFrac) * capFillBps,
    othersOverAllocation: beRateBps > (1 + o.overDeliveryFrac) * beAllocBps,
    calmTicks: state.calmTicks,
  };

  // 3. Guarantee VMs.
  const guarantees = new Map<VmId, DaqsGuaranteeState>();
  const actions: CapacityAction[] = [];
  let anyShort = false;
  for (const s of seen) {
    if (!isGuarantee(s.vm.sla)) continue;
    const prevG = s.prev?.guarantee ?? newGuarantee(o, s.vm.sla.guaranteeBps);
    if (s.vm.rateBps === null) {
      guarantees.set(s.vm.id, prevG); // no news: keep the last decision
      continue;
    }
    // Held by its own cap: close to what that cap lets through at its fill (further below, the
    // port or the others are what holds it back).
    const heldByCap = s.vm.capBps !== null && s.settled && s.vm.rateBps >= (1 - OWN_CAP_FRAC) * s.fill * s.vm.capBps;
    const step = stepGuarantee(o, s.vm, s.vm.rateBps, prevG, port, s.settled, heldByCap, s.vm.capBps !== null);
    guarantees.set(s.vm.id, step.next);
    if (step.action.kind !== 'none') actions.push(step.action);
    anyShort ||= step.short;
  }
  // Undo first (the port proved it had room), then lower (never below what it delivered).
  // An episode the VM did not use gives back all it took: the lowering proved nothing. (If
  // the port does carry less, a squeezed demand-mode VM shows it again.)
  for (const a of actions) if (a.kind === 'restore') capacityBps = Math.max(capacityBps, Math.min(nominalBps, a.toBps));
  for (const a of actions) if (a.kind === 'lower') capacityBps = Math.max(deliveredFloorBps, floorCapBps, Math.min(capacityBps, a.toBps));
  // A Guarantee VM sends unless it is idle (under half its headroom); one not measured yet may.
  const active = seen.some((s) => {
    const g = guarantees.get(s.vm.id);
    return g !== undefined && (g.mode === 'contended' || s.rateBps >= minHeadroomBps(o, s.vm.sla.guaranteeBps, nominalBps) / 2);
  });
  const squeezed = [...guarantees.values()].some((g) => g.lowTicks > 0);

  // Fill ratios: only while a Guarantee VM depends on them and gets what it wants. Then a held
  // VM's rate / cap is its shaper's doing; with a Guarantee VM short it may be the port's.
  // Nor while an uncapped Guarantee VM takes more than its reservation from a full port: then
  // TCP shares the port, and a capped VM's rate is its share there, not its shaper's fill.
  const absorbing = port.totalBps >= (1 - o.saturationSlackFrac) * capacityBps && seen.some((s) => {
    const g = guarantees.get(s.vm.id);
    return g !== undefined && g.mode === 'contended' && s.vm.capBps === null && s.rateBps > g.reservedBps + 2 * g.noiseBps;
  });
  let hostFill = state.hostFill;
  const fills = new Map<VmId, number>();
  for (const s of seen) {
    let fill = s.fill;
    // (A capped Guarantee VM always learns its own: a shortfall at a cap it fills is the fill's.)
    const own = isGuarantee(s.vm.sla);
    if (((active && !anyShort && !squeezed && !absorbing) || own) && s.atCap && s.vm.capBps !== null) {
      const ratio = Math.min(1, s.rateBps / s.vm.capBps);
      fill = clamp(fill + o.fillGain * (ratio - fill), o.minFill, 1);
      hostFill = clamp(hostFill + (o.fillGain / 4) * (ratio - hostFill), o.minFill, 1);
    }
    fills.set(s.vm.id, fill);
  }
  // While no Guarantee VM sends, the budget is the nominal speed (nobody can pay for an
  // overestimate), and held VMs that get less than their caps let through show what the
  // port delivers: the estimate follows it, so a Guarantee VM that starts finds it ready.
  // (A fill below 1 makes it read low: safe, and a contended Guarantee VM, uncapped, takes
  // what is left and so shows more.)
  if (!active && seen.some((s) => s.held && s.settled) && port.totalBps < (1 - o.saturationSlackFrac) * capFillBps && !port.rising) {
    capacityBps = clamp(Math.min(capacityBps, deliveredFloorBps), floorCapBps, nominalBps);
  }

  // Probing: watch the last probe; make a new one when nobody is short and the port is as
  // full as we believe it can be. A probe is kept only if the port then carried about that
  // much more and no Guarantee VM lost by it; otherwise it is undone, and the next one waits
  // twice as long. (Steps are small: a step the port cannot carry eats into the headroom of a
  // demand-limited Guarantee VM before anything shows.)
  let { probeWaitTicks, probeIntervalTicks, probe } = state;
  let stepBps = state.probeStepBps ?? o.probeFrac * nominalBps;
  const guaranteeRates: Record<VmId, number> = {};
  for (const s of seen) if (guarantees.has(s.vm.id)) guaranteeRates[s.vm.id] = s.rateBps;
  if (probe) {
    const hurt = actions.some((a) => a.kind === 'lower') || seen.some((s) => {
      const before = probe!.ratesBps[s.vm.id];
      const g = guarantees.get(s.vm.id);
      return before !== undefined && g !== undefined && s.rateBps < before - Math.max(probe!.stepBps, 2 * g.noiseBps);
    });
    const done = probe.ticksLeft <= 1;
    const carried = totalBps >= probe.totalBeforeBps + probe.stepBps / 2;
    if (hurt || (done && !carried)) {
      capacityBps = Math.max(deliveredFloorBps, floorCapBps, Math.min(capacityBps, probe.capacityBeforeBps));
      probeIntervalTicks = Math.min(o.maxProbeIntervalTicks, probeIntervalTicks * 2);
      probeWaitTicks = probeIntervalTicks;
      stepBps = o.probeFrac * nominalBps;
      probe = null;
    } else if (done) {
      // Carried: probe sooner and further next time.
      probeIntervalTicks = Math.max(o.probeIntervalTicks, Math.floor(probeIntervalTicks / 2));
      stepBps *= 2;
      probe = null;
    } else {
      probe = { ...probe, ticksLeft: probe.ticksLeft - 1 };
    }
  }
  probeWaitTicks = Math.max(0, probeWaitTicks - 1);
  const reservedBps = [...guarantees.values()].reduce((a, g) => a + g.reservedBps, 0);
  const unusedReservedBps = seen.reduce((a, s) => {
    const g = guarantees.get(s.vm.id);
    return g ? a + Math.max(0, g.reservedBps - s.rateBps) : a;
  }, 0);
  const committedFull = totalBps + unusedReservedBps >= (1 - o.saturationSlackFrac - o.holdFrac) * capacityBps;
  // Someone would take more: a VM at its cap (a Best-Effort one, or a Guarantee VM capped
  // while another is protected).
  const wantsMore = seen.some((s) => (s.held || s.atCap) && s.vm.rateBps !== null);
  // While a Guarantee VM is at risk and another shares the port, every Guarantee VM is capped
  // (never below its guarantee plus headroom): uncapped, the ones with more flows would take
  // what it needs, and a capped VM at risk loses nothing (its headroom is above its guarantee).
  // (An idle one shares nothing: with one Guarantee VM sending, it stays uncapped.)
  const sendingGs = seen.filter((s) => {
    const g = guarantees.get(s.vm.id);
    return g !== undefined && (g.mode === 'contended' || s.rateBps >= minHeadroomBps(o, s.vm.sla.guaranteeBps, nominalBps) / 2);
  }).length;
  const protecting = sendingGs >= 2 && [...guarantees.values()].some((g) => g.riskTicks > 0);
  // Protection starting after a greedy uncapped Guarantee VM kept the port full: that port
  // delivered all it could, so what it was seen to deliver is the capacity now that nobody
  // takes the slack any more.
  if (protecting && !state.protecting && state.absorbing) capacityBps = Math.max(floorCapBps, Math.min(capacityBps, deliveredFloorBps));
  // A contended Guarantee VM left uncapped is greedy: any room the estimate leaves, it takes,
  // and the port is seen to deliver it. Without one, room can go unseen: probe then.
  const absorber = !protecting && [...guarantees.values()].some((g) => g.mode === 'contended');
  if (active && !absorber && !probe && probeWaitTicks === 0 && actions.length === 0 && committedFull && wantsMore && capacityBps < nominalBps && state.calmTicks >= 2) {
    stepBps = Math.min(stepBps, o.maxProbeFrac * nominalBps);
    probe = { capacityBeforeBps: capacityBps, totalBeforeBps: totalBps, stepBps, ratesBps: guaranteeRates, ticksLeft: 3 };
    capacityBps = Math.min(nominalBps, capacityBps + stepBps);
    probeWaitTicks = probeIntervalTicks;
  }

  // 4. Who is capped, and the budget. While no Guarantee VM sends, nobody can pay for an
  // overestimate: the nominal speed is the budget, so Best-Effort VMs get the port back at once.
  const budgetBps = active ? capacityBps : nominalBps;
  const bes: AllocVm[] = [];
  const cappedGs: AllocGuarantee[] = [];
  let uncappedReservedBps = 0;
  for (const s of seen) {
    const g = guarantees.get(s.vm.id);
    if (!g) {
      bes.push({ vm: s.vm, claimBps: claimOf(o, s), rateBps: s.rateBps, held: s.held, fill: fills.get(s.vm.id)! });
    } else if (protecting) {
      const h = headroomBps(o, s.vm.sla.guaranteeBps, nominalBps, g.noiseBps);
      cappedGs.push({ vm: s.vm, claimBps: s.held ? Infinity : Math.max(0, s.rateBps - g.reservedBps) * (1 + o.claimFrac), rateBps: s.rateBps, held: s.held, fill: fills.get(s.vm.id)!, reservedBps: g.reservedBps, minBps: s.vm.sla.guaranteeBps + h });
    } else {
      uncappedReservedBps += g.reservedBps;
    }
  }
  // Headroom is kept once, not once per demand-limited Guarantee VM: any of them can grow into
  // it (they are uncapped, or capped well above what they send), and the first to use it is
  // promoted and gets its whole guarantee.
  const headrooms = [...guarantees.values()].filter((g) => g.mode === 'demand').map((g) => Math.max(0, g.reservedBps - g.baseBps));
  const sharedCreditBps = headrooms.reduce((a, b) => a + b, 0) - Math.max(0, ...headrooms);
  const portFull = totalBps >= (1 - o.saturationSlackFrac) * budgetBps;
  const probing = probe !== null && probe.ticksLeft === 3;
  const alloc = allocate(o, nominalBps, budgetBps - uncappedReservedBps + sharedCreditBps, bes, cappedGs, portFull, probing);

  // A cut (the budget left for the others falls, or any cap goes down) frees room that shows
  // over the next windows: shortfalls are not judged until two have passed.
  const othersBudgetBps = budgetBps - reservedBps;
  const budgetFell = state.budgetBps !== null && othersBudgetBps < state.budgetBps - o.holdFrac * nominalBps;
  const capCut = seen.some((s) => {
    const next = alloc.capBps.get(s.vm.id);
    return next !== undefined && s.vm.rateBps !== null && (s.vm.capBps === null || next < (1 - o.holdFrac) * s.vm.capBps) && s.rateBps > next;
  });
  const calmTicks = budgetFell || capCut ? 0 : state.calmTicks + 1;

  const vmsOut: PolicyVmDecision[] = [];
  const vmStates: Record<VmId, DaqsVmState> = {};
  for (const s of seen) {
    const g = guarantees.get(s.vm.id) ?? null;
    let capBps: number | null;
    if (alloc.capBps.has(s.vm.id)) capBps = alloc.capBps.get(s.vm.id)!;
    else capBps = s.vm.sla.maxBps === null ? null : Math.max(s.vm.sla.maxBps, s.vm.sla.guaranteeBps);
    const allocBps = alloc.allocBps.get(s.vm.id) ?? g?.reservedBps ?? 0;
    vmStates[s.vm.id] = { capBps: s.vm.capBps, rateBps: s.rateBps, held: s.held, fill: fills.get(s.vm.id)!, allocBps, guarantee: g };
    const demandBps = g
      ? g.mode === 'contended' ? Math.max(s.vm.sla.guaranteeBps, s.rateBps) : s.rateBps
      : s.held ? null : s.rateBps;
    vmsOut.push({ id: s.vm.id, capBps, demandBps, reservedBps: g ? g.reservedBps : null });
  }
  return {
    vms: vmsOut,
    learnedCapacityBps: capacityBps,
    state: { capacityBps, deliveredBps, budgetBps: othersBudgetBps, calmTicks, probeWaitTicks, probeIntervalTicks, probeStepBps: stepBps, probe, hostFill, protecting, absorbing, vms: vmStates },
  };
}

/** What a Best-Effort VM claims of the budget (delivered units); null = keep its cap. */
function claimOf(o: DaqsOptions, s: Seen): number | null {
  if (s.vm.rateBps === null) return s.vm.capBps === null ? Infinity : null;
  return s.held ? Infinity : s.rateBps * (1 + o.claimFrac);
}

/** The highest level the port carried two ticks running (one noisy window is not enough). */
function sustainedMax(seriesBps: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < seriesBps.length; i++) best = Math.max(best, Math.min(seriesBps[i]!, seriesBps[i - 1]!));
  return best;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
