/**
 * Pure builders for the cap daqs installs in a guest: one HTB root qdisc with one class that
 * all traffic defaults to. HTB rather than TBF because `tc class change` rewrites rate, ceil,
 * burst and quantum in place without touching the qdisc (its counters and queued packets
 * survive every tick), TBF's queue `limit` would have to be recomputed for every new rate, and
 * HTB keeps room for per-flow classes later. The handle dac5: marks the qdisc as daqs' own so
 * readback can tell it from a qdisc the guest installed.
 */
import { tcRate } from '../units/rate.ts';
import { guestText } from '../util/guest-text.ts';
import { isKernelIfaceName } from '../util/iface-name.ts';

/** Root qdisc handle and class id daqs owns in every guest. */
export const DAQS_QDISC_HANDLE = 'dac5:';
export const DAQS_CLASS_ID = 'dac5:1';

/** How burst and quantum follow the rate. */
export interface HtbTuning {
  /** Burst as time at the cap rate (default 2 ms: smooth, yet multi-Gbit rates stay accurate). */
  readonly burstMs?: number;
  /** Floor of burst/cburst (default 64 KiB: one GSO/TSO super-packet, so large segments are not throttled below the rate). */
  readonly minBurstBytes?: number;
}

/** The numbers that go on the class line. */
export interface HtbClassParams {
  readonly rateBps: number;
  readonly burstBytes: number;
  readonly quantumBytes: number;
}

/** Error for a cap tc cannot express. */
export class TcPlanError extends Error {
  readonly code = 'E_TC_PLAN';
  constructor(message: string) {
    super(message);
    this.name = 'TcPlanError';
  }
}

/**
 * Throws TcPlanError unless `iface` is a name the kernel accepts. Any such name is fine here:
 * it only ever travels as one argv element, never inside text tc or a shell would split.
 */
export function checkIfaceName(iface: string): void {
  if (!isKernelIfaceName(iface)) throw new TcPlanError(`invalid interface name ${JSON.stringify(guestText(iface, 40))}: Linux interface names are 1-15 bytes without "/", ":" or whitespace`);
}

/** Burst in bytes for a rate: burstMs of traffic at that rate, at least minBurstBytes. */
export function burstBytesFor(rateBps: number, tuning: HtbTuning = {}): number {
  const bytes = Math.ceil((rateBps / 8) * ((tuning.burstMs ?? 2) / 1000));
  return Math.max(tuning.minBurstBytes ?? 64 * 1024, bytes);
}

/**
 * Quantum for the class: rate/80 (HTB's r2q default of 10, in bytes) clamped to what the
 * kernel accepts without its "quantum is big/small" warning, so tc stays silent at any rate.
 */
export function quantumBytesFor(rateBps: number): number {
  return Math.min(200_000, Math.max(10_000, Math.round(rateBps / 8 / 10)));
}

/** Class parameters for a cap; rejects caps that are not positive finite numbers. */
export function htbClassParams(capBps: number, tuning: HtbTuning = {}): HtbClassParams {
  if (!Number.isFinite(capBps) || capBps < 8) throw new TcPlanError(`invalid cap ${capBps} bit/s: must be a finite rate of at least 8 bit/s (use null to lift the cap)`);
  // The kernel keeps rates in bytes/s; a whole number of bytes reads back exactly.
  const rateBps = Math.round(capBps / 8) * 8;
  return { rateBps, burstBytes: burstBytesFor(rateBps, tuning), quantumBytes: quantumBytesFor(rateBps) };
}

function classArgs(verb: 'change' | 'replace', iface: string, p: HtbClassParams): string[] {
  const r = tcRate(p.rateBps);
  const b = String(p.burstBytes);
  return ['class', verb, 'dev', iface, 'parent', DAQS_QDISC_HANDLE, 'classid', DAQS_CLASS_ID, 'htb', 'rate', r, 'ceil', r, 'burst', b, 'cburst', b, 'quantum', String(p.quantumBytes)];
}

// Every builder returns tc's argv (after the tc path): the interface name, which the guest
// chose, is one element of it. tc's -batch input is never used for a line that names the
// interface: batch lines are split on blanks, quotes and '#' comments, so a name such as
// 'e#1' or "a'b" would change what the line means.

/** argv that changes the existing class in place (the per-tick path). */
export function buildChangeArgs(iface: string, capBps: number, tuning: HtbTuning = {}): string[] {
  checkIfaceName(iface);
  return classArgs('change', iface, htbClassParams(capBps, tuning));
}

/** argv that installs daqs' root qdisc (replacing whatever root qdisc the interface had). */
export function buildQdiscArgs(iface: string): string[] {
  checkIfaceName(iface);
  return ['qdisc', 'replace', 'dev', iface, 'root', 'handle', DAQS_QDISC_HANDLE, 'htb', 'default', '1'];
}

/**
 * argv that (re)creates the class under daqs' qdisc. `qdisc replace` on an existing HTB fails
 * ("Change operation not supported"), so the qdisc is installed only when it is not there,
 * and keeping it keeps its counters.
 */
export function buildClassReplaceArgs(iface: string, capBps: number, tuning: HtbTuning = {}): string[] {
  checkIfaceName(iface);
  return classArgs('replace', iface, htbClassParams(capBps, tuning));
}

/** argv that removes daqs' root qdisc; the handle makes the kernel refuse to delete anyone else's. */
export function buildLiftArgs(iface: string): string[] {
  checkIfaceName(iface);
  return ['qdisc', 'del', 'dev', iface, 'root', 'handle', DAQS_QDISC_HANDLE];
}

/** argv of the two readbacks (qdiscs, then classes, with statistics) of an interface. */
export function buildReadArgs(iface: string): [string[], string[]] {
  checkIfaceName(iface);
  return [['-s', 'qdisc', 'show', 'dev', iface], ['-s', 'class', 'show', 'dev', iface]];
}

/** True when stderr of a lift says there was nothing of ours to remove (success: removal is idempotent). */
export function isNothingToLift(stderr: string): boolean {
  return /Invalid handle|handle of zero|No such file or directory|Cannot find specified qdisc/i.test(stderr);
}

/** True when a `class change` failed because the class or qdisc is missing (then create instead). */
export function isMissingClass(stderr: string): boolean {
  return /No such file or directory|Cannot find|Specified class not found|Invalid handle|Parent Qdisc doesn't exists/i.test(stderr);
}
