/**
 * The daqs policy's allocation: from each VM's claim to the caps to install. Pure; see
 * daqs.ts for where the claims come from.
 *
 * Everything is in delivered bits per second (what a VM will send) until the last step,
 * where a cap is the allocation divided by the VM's fill ratio (a capped TCP sender delivers
 * only a fraction of its HTB rate). Order:
 * 1. Guarantee VMs' reservations are taken off the budget first.
 * 2. Best-Effort VMs share the rest max-min by weight: a VM held by its cap claims all it can
 *    (so it reaches its fair share among the VMs that actually send within a tick), one below
 *    its cap claims a little more than it sends, an idle one next to nothing.
 * 3. What they leave goes, max-min by weight, to the excess of the Guarantee VMs being capped
 *    (only while another Guarantee VM is at risk; otherwise they are uncapped and simply
 *    take at the port what the Best-Effort caps leave).
 * 4. What nobody claims is spread by weight over the Best-Effort VMs, so every cap has room.
 * Caps never go below the floor, never above a VM's maximum, and a VM below its cap keeps
 * room above its rate so it can show it wants more.
 */
import type { VmId } from '../core/types.ts';
import type { PolicyVmInput } from './types.ts';
import { waterFill } from './waterfill.ts';

/** One Best-Effort VM (or capped Guarantee VM's excess) as the allocation sees it. */
export interface AllocVm {
  readonly vm: PolicyVmInput;
  /** Delivered rate claimed: Infinity when held by its cap; null = keep the cap in force (no sample). */
  readonly claimBps: number | null;
  /** Rate sent this tick (0 when unknown). */
  readonly rateBps: number;
  /** Held by its cap (or still ramping up). */
  readonly held: boolean;
  /** Learned fill ratio: delivered / cap while held. */
  readonly fill: number;
}

/** A capped Guarantee VM: its reservation plus a claim on the excess. */
export interface AllocGuarantee extends AllocVm {
  /** Delivered rate reserved for it. */
  readonly reservedBps: number;
  /** Least it may deliver under the cap: its guarantee plus headroom. */
  readonly minBps: number;
}

/** Tunables the allocation reads (part of DaqsOptions). */
export interface AllocateOptions {
  /** Room kept above the rate of a VM below its cap (delivered units: the cap adds its fill). */
  readonly growthFrac: number;
  /** A cap change smaller than this fraction of the cap in force is not made (hysteresis). */
  readonly holdFrac: number;
  /** Smallest Best-Effort cap, as a fraction of nominal capacity (tc cannot shape to zero). */
  readonly minCapFrac: number;
}

/** Caps and allocations by VM id. */
export interface Allocation {
  readonly capBps: ReadonlyMap<VmId, number>;
  readonly allocBps: ReadonlyMap<VmId, number>;
}

/**
 * Allocates poolBps (the budget minus the reservations of the uncapped Guarantee VMs) among
 * Best-Effort VMs and the capped Guarantee VMs; returns their caps and allocations. `portFull`:
 * no growth room (TCP would take it from the others); `exact`: no hysteresis.
 */
export function allocate(o: AllocateOptions, nominalBps: number, poolBps: number, bes: readonly AllocVm[], capped: readonly AllocGuarantee[], portFull: boolean, exact = false): Allocation {
  const capBps = new Map<VmId, number>();
  const allocBps = new Map<VmId, number>();
  const floorBps = o.minCapFrac * nominalBps;
  let freeBps = Math.max(0, poolBps - capped.reduce((a, g) => a + g.reservedBps, 0));
  // No fresh sample: its cap stays, and what it may send stays out of what the others share.
  const fixed = bes.filter((b) => b.claimBps === null);
  for (const b of fixed) {
    const cap = b.vm.capBps!;
    capBps.set(b.vm.id, cap);
    allocBps.set(b.vm.id, cap * b.fill);
    freeBps = Math.max(0, freeBps - cap * b.fill);
  }
  const live = bes.filter((b) => b.claimBps !== null);
  const maxOf = (b: AllocVm): number => (b.vm.sla.maxBps === null ? Infinity : b.vm.sla.maxBps * b.fill);
  const beShare = waterFill(freeBps, live.map((b) => ({ demandBps: Math.min(b.claimBps!, maxOf(b)), weight: weightOf(b.vm) })));
  let leftBps = freeBps - sum(beShare);
  const excess = waterFill(leftBps, capped.map((g) => ({ demandBps: Math.min(g.claimBps ?? 0, maxOf(g)), weight: weightOf(g.vm) })));
  leftBps -= sum(excess);
  // Unclaimed: every VM may grow into it (work-conserving), by weight.
  const growers = [...live, ...capped];
  const given = [...beShare, ...excess];
  const spread = leftBps > 0 ? waterFill(leftBps, growers.map((b, i) => ({ demandBps: Math.max(0, maxOf(b) - given[i]!), weight: weightOf(b.vm) }))) : growers.map(() => 0);
  const spare = spread.slice(0, live.length);
  const spareG = spread.slice(live.length);

  const wanted = live.map((b, i) => {
    const alloc = beShare[i]! + spare[i]!;
    // Below its cap and granted its claim, on a port with room to spare: room above what it
    // sends, so it can show it wants more (the cap counts its fill: a sender that wants more
    // reaches fill × cap, clearly above its rate). On a full port that room would be taken
    // from the others by TCP, so it gets none: wanting more, it fills its cap and is held.
    // One whose claim the budget cannot cover is cut to its allocation.
    const granted = beShare[i]! >= Math.min(b.claimBps!, maxOf(b)) * (1 - 1e-9);
    const roomBps = b.held || b.rateBps <= 0 || !granted || portFull ? 0 : b.rateBps * (1 + o.growthFrac);
    const cap = Math.max(floorBps, alloc / b.fill, roomBps / b.fill);
    return b.vm.sla.maxBps === null ? cap : Math.min(cap, b.vm.sla.maxBps);
  });
  // (A probe must reach the caps, or it would test nothing: no hysteresis then.)
  const kept = exact ? wanted : holdSmallChanges(o, live, wanted);
  live.forEach((b, i) => {
    capBps.set(b.vm.id, kept[i]!);
    allocBps.set(b.vm.id, beShare[i]! + spare[i]!);
  });
  capped.forEach((g, i) => {
    const alloc = g.reservedBps + excess[i]! + spareG[i]!;
    let cap = Math.max(g.minBps, alloc) / g.fill;
    if (g.vm.sla.maxBps !== null) cap = Math.min(cap, Math.max(g.vm.sla.maxBps, g.vm.sla.guaranteeBps));
    capBps.set(g.vm.id, cap);
    allocBps.set(g.vm.id, alloc);
  });
  return { capBps, allocBps };
}

/**
 * Hysteresis: a change within holdFrac of the cap in force is not made, unless keeping the
 * old caps would let the VMs together deliver more than the new ones (a guarantee could pay).
 */
function holdSmallChanges(o: AllocateOptions, live: readonly AllocVm[], wanted: readonly number[]): number[] {
  const held = live.map((b, i) => {
    const cur = b.vm.capBps;
    const want = wanted[i]!;
    const inBounds = cur !== null && cur <= (b.vm.sla.maxBps ?? Infinity);
    return inBounds && Math.abs(want - cur) <= o.holdFrac * cur ? cur : want;
  });
  const heldBps = sum(held.map((c, i) => c * live[i]!.fill));
  const wantBps = sum(wanted.map((c, i) => c * live[i]!.fill));
  return heldBps > wantBps * (1 + 1e-9) ? held.map((c, i) => Math.min(c, wanted[i]!)) : held;
}

function weightOf(vm: PolicyVmInput): number {
  return vm.sla.weight > 0 ? vm.sla.weight : 1;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
