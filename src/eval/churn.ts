/**
 * The churn scenario's schedule: Best-Effort VMs start (sometimes several at once) and stop at
 * seeded random times and the Guarantee VMs go off and on, never more than `maxSenders`
 * sending at once and never nobody. Pure and repeatable: the same seed gives the same changes.
 */
import { seededRandom, type Random } from '../util/random.ts';

/** What a change does. `begin` starts every Guarantee VM and a few Best-Effort VMs. */
export type ChurnKind = 'begin' | 'be-start' | 'be-stop' | 'g-off' | 'g-on';

/** One change of the schedule and how long the state it leaves lasts. */
export interface ChurnChange {
  readonly kind: ChurnKind;
  /** VMs that start sending at this change. */
  readonly start: readonly number[];
  /** VMs that stop sending at this change. */
  readonly stop: readonly number[];
  /** Time from this change to the next one (or to the end), ms. */
  readonly holdMs: number;
}

/** What the schedule is drawn from. */
export interface ChurnScheduleOptions {
  readonly gVms: readonly number[];
  readonly beVms: readonly number[];
  /** Changes after the beginning. */
  readonly changes: number;
  /** Most VMs sending at once, Guarantee VMs included. */
  readonly maxSenders: number;
  readonly minGapMs: number;
  readonly maxGapMs: number;
  readonly seed: number;
}

/** Most Best-Effort VMs that start together (the case: four idle VMs starting on an empty port). */
export const MAX_BURST = 4;
/** Best-Effort VMs sending from the beginning, beside the Guarantee VMs. */
const BEGIN_BE = 2;

type Kind = Exclude<ChurnKind, 'begin'>;

/**
 * Relative weights of the kinds of change, among those possible in the current state. Stops
 * grow likelier with more Best-Effort VMs sending, so the run mostly has a few of them
 * (Guarantee VMs going off then leave something to reclaim) and sometimes none.
 */
function weightOf(kind: Kind, beSending: number): number {
  switch (kind) {
    case 'be-start': return 3;
    case 'be-stop': return 2 * Math.min(1, beSending / 4);
    case 'g-off':
    case 'g-on': return 1.5;
  }
}

function intIn(r: Random, lo: number, hi: number): number {
  return Math.min(hi, lo + Math.floor(r.next() * (hi - lo + 1)));
}

/** k distinct members of `from`, in the order drawn. */
function pick(r: Random, from: readonly number[], k: number): number[] {
  const pool = [...from];
  const out: number[] = [];
  while (out.length < k && pool.length > 0) out.push(pool.splice(intIn(r, 0, pool.length - 1), 1)[0] as number);
  return out;
}

/** The schedule: a `begin` change, then `changes` random ones, each with its hold time. */
export function churnSchedule(o: ChurnScheduleOptions): ChurnChange[] {
  if (o.gVms.length + 1 > o.maxSenders) throw new RangeError(`maxSenders ${o.maxSenders} leaves no room for a Best-Effort VM beside ${o.gVms.length} Guarantee VMs`);
  if (o.beVms.length === 0) throw new RangeError('churn needs at least one Best-Effort VM');
  if (!(o.minGapMs > 0 && o.maxGapMs >= o.minGapMs)) throw new RangeError(`gaps must satisfy 0 < min (${o.minGapMs}) <= max (${o.maxGapMs})`);
  const r = seededRandom(o.seed);
  const gap = (): number => Math.round(r.uniform(o.minGapMs, o.maxGapMs));
  const gOn = new Set(o.gVms);
  const beOn = new Set(pick(r, o.beVms, Math.min(BEGIN_BE, o.maxSenders - o.gVms.length, o.beVms.length)));
  const out: ChurnChange[] = [{ kind: 'begin', start: [...o.gVms, ...beOn], stop: [], holdMs: gap() }];
  for (let i = 0; i < o.changes; i++) {
    const senders = gOn.size + beOn.size;
    const idleBe = o.beVms.filter((v) => !beOn.has(v));
    const possible: Kind[] = [];
    if (senders < o.maxSenders && idleBe.length > 0) possible.push('be-start');
    // Never stop the last sender: a phase with nothing sending has no utilization to judge.
    if (beOn.size > 0 && senders > 1) possible.push('be-stop');
    if (gOn.size > 0 && senders > 1) possible.push('g-off');
    if (gOn.size < o.gVms.length && senders < o.maxSenders) possible.push('g-on');
    const weights = possible.map((k) => weightOf(k, beOn.size));
    let x = r.next() * weights.reduce((a, b) => a + b, 0);
    const kind = possible.find((_, k) => (x -= weights[k] as number) < 0) ?? (possible[possible.length - 1] as Kind);
    let start: number[] = [];
    let stop: number[] = [];
    switch (kind) {
      case 'be-start': start = pick(r, idleBe, intIn(r, 1, Math.min(MAX_BURST, o.maxSenders - senders, idleBe.length))); break;
      case 'be-stop': stop = pick(r, [...beOn], intIn(r, 1, Math.min(2, beOn.size, senders - 1))); break;
      case 'g-off': stop = pick(r, [...gOn], 1); break;
      case 'g-on': start = pick(r, o.gVms.filter((v) => !gOn.has(v)), 1); break;
    }
    for (const v of start) (o.gVms.includes(v) ? gOn : beOn).add(v);
    for (const v of stop) {
      gOn.delete(v);
      beOn.delete(v);
    }
    out.push({ kind, start, stop, holdMs: gap() });
  }
  return out;
}
