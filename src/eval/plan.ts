/**
 * What every policy runs, as data: the VMs of a scenario (role, threads, demand cap) and its
 * sessions — a policy started with some SLAs, then a list of changes (VMs starting or stopping
 * to send), each held for a while and measured as a phase, watched as a reclaim window, or
 * neither. All four scenarios are plans of this one shape; steps.ts executes them. Pure.
 */
import { churnSchedule, type ChurnChange } from './churn.ts';
import { guaranteeVmCount, type ExperimentOptions } from './scenarios.ts';

/** One emulated VM of a scenario. VMs 0..n-1 are the Guarantee VMs, the rest Best-Effort. */
export interface VmSpec {
  readonly index: number;
  readonly role: 'guarantee' | 'best-effort';
  /** "G" (or "G1", "G2"... with several), "BE1", "BE2"... */
  readonly label: string;
  /** iperf2 -P. */
  readonly threads: number;
  /** iperf2 -b for the whole VM (split over its threads), paper units; null = uncapped. */
  readonly demandCapPaperBps: number | null;
}

/** A Guarantee VM's SLA in a session, paper units. */
export interface PlannedSla {
  readonly vmIndex: number;
  readonly guaranteePaperBps: number;
}

/** One measured phase: who sends through it, and whose reaction is measured from its start. */
export interface PlannedPhase {
  readonly index: number;
  readonly label: string;
  /** Guarantee VMs sending through the phase, with their guarantees. */
  readonly gVms: readonly PlannedSla[];
  /** Best-Effort VMs sending through the phase. */
  readonly beVms: readonly number[];
  /** Guarantee VMs whose reaction is measured from the phase start (something started sending there). */
  readonly reactionVms: readonly number[];
}

/** A change: stop some senders, start others, then hold the new state for holdMs. */
export interface PlannedChange {
  /** What the progress display shows while the change is held. */
  readonly step: string;
  readonly start: readonly number[];
  readonly stop: readonly number[];
  readonly holdMs: number;
  /** The held interval is this measured phase. */
  readonly phase?: PlannedPhase;
  /** A Guarantee VM stopped: the held interval is watched for reclaim, judged for that phase; `gVms` still send. */
  readonly reclaim?: { readonly phaseIndex: number; readonly gVms: readonly number[] };
}

/** A policy started with `slas`, the changes it sees, then everything stopped and the policy too. */
export interface PlannedSession {
  readonly slas: readonly PlannedSla[];
  readonly changes: readonly PlannedChange[];
}

/** Pause between sessions so queues drain and rates fall to zero. */
export const SETTLE_MS = 1000;

/** The scenario's VMs: Guarantee VMs first (VM 0 is always one), then the Best-Effort VMs. */
export function vmSpecsOf(o: ExperimentOptions): VmSpec[] {
  const nG = guaranteeVmCount(o);
  const g = Array.from({ length: nG }, (_, k): VmSpec => ({
    index: k,
    role: 'guarantee',
    label: nG === 1 ? 'G' : `G${k + 1}`,
    threads: o.gThreads[k % o.gThreads.length] as number,
    demandCapPaperBps: o.gDemandCapPaperBps,
  }));
  const be = Array.from({ length: o.beVms }, (_, k): VmSpec => ({
    index: nG + k,
    role: 'best-effort',
    label: `BE${k + 1}`,
    threads: o.beThreads[k % o.beThreads.length] as number,
    demandCapPaperBps: null,
  }));
  return [...g, ...be];
}

/** Testbed VMs the scenario needs. */
export function vmCountOf(o: ExperimentOptions): number {
  return guaranteeVmCount(o) + o.beVms;
}

function gbitLabel(bps: number): string {
  return `${Number((bps / 1e9).toPrecision(4))} Gbit/s`;
}

const roleOf = (vms: readonly VmSpec[], role: VmSpec['role']): number[] => vms.filter((v) => v.role === role).map((v) => v.index);

/** Contention: per guarantee, its own policy start; G alone for lead-seconds, then the BE VM(s) (the phase), then G stops (reclaim). */
function contentionSessions(o: ExperimentOptions, vms: readonly VmSpec[]): PlannedSession[] {
  const be = roleOf(vms, 'best-effort');
  return o.guaranteesPaperBps.map((guaranteePaperBps, index) => {
    const label = gbitLabel(guaranteePaperBps);
    const sla = { vmIndex: 0, guaranteePaperBps };
    const changes: PlannedChange[] = [
      { step: `${label}: G alone`, start: [0], stop: [], holdMs: o.leadSeconds * 1000 },
      { step: `guarantee ${label}`, start: be, stop: [], holdMs: o.phaseSeconds * 1000, phase: { index, label, gVms: [sla], beVms: be, reactionVms: [0] } },
    ];
    if (o.reclaimSeconds > 0) changes.push({ step: `${label}: G stopped, reclaim`, start: [], stop: [0], holdMs: o.reclaimSeconds * 1000, reclaim: { phaseIndex: index, gVms: [] } });
    return { slas: [sla], changes };
  });
}

/**
 * Adaptability and multi: one policy start; the Guarantee VMs send from the start (phase 0),
 * one more Best-Effort VM starts each phase, and after the last the Guarantee VMs stop (reclaim).
 */
function joiningSessions(o: ExperimentOptions, vms: readonly VmSpec[]): PlannedSession[] {
  const slas = roleOf(vms, 'guarantee').map((vmIndex) => ({ vmIndex, guaranteePaperBps: o.guaranteesPaperBps[vmIndex] as number }));
  const gIdx = slas.map((s) => s.vmIndex);
  const be = roleOf(vms, 'best-effort');
  const changes: PlannedChange[] = [];
  for (let n = 0; n <= be.length; n++) {
    const start = n === 0 ? gIdx : [be[n - 1] as number];
    const label = `${n} BE sending`;
    changes.push({ step: label, start, stop: [], holdMs: o.phaseSeconds * 1000, phase: { index: n, label, gVms: slas, beVms: be.slice(0, n), reactionVms: n === 0 ? [] : gIdx } });
  }
  if (o.reclaimSeconds > 0) {
    const step = `${slas.length > 1 ? 'Guarantee VMs' : 'G'} stopped, reclaim`;
    changes.push({ step, start: [], stop: gIdx, holdMs: o.reclaimSeconds * 1000, reclaim: { phaseIndex: be.length, gVms: [] } });
  }
  return [{ slas, changes }];
}

function churnLabel(index: number, ch: ChurnChange, vms: readonly VmSpec[]): string {
  const names = (list: readonly number[]): string => list.map((v) => vms[v]?.label ?? `vm${v}`).join(' ');
  switch (ch.kind) {
    case 'begin': return `#${index} start ${names(ch.start)}`;
    case 'be-start': return `#${index} +${names(ch.start)}`;
    case 'be-stop': return `#${index} −${names(ch.stop)}`;
    case 'g-off': return `#${index} ${names(ch.stop)} off`;
    case 'g-on': return `#${index} ${names(ch.start)} on`;
  }
}

/**
 * Churn: one policy start, lead-seconds with every VM idle, then the seeded schedule
 * (churn.ts) of Best-Effort VMs starting and
 * stopping and Guarantee VMs going off and on. Every change is a phase; where something
 * started, every sending Guarantee VM's reaction is measured; where a Guarantee VM stopped
 * while Best-Effort VMs send, their reclaim is watched through the same phase.
 */
function churnSessions(o: ExperimentOptions, vms: readonly VmSpec[]): PlannedSession[] {
  const gIdx = roleOf(vms, 'guarantee');
  const slas = gIdx.map((vmIndex) => ({ vmIndex, guaranteePaperBps: o.guaranteesPaperBps[vmIndex] as number }));
  const schedule = churnSchedule({ gVms: gIdx, beVms: roleOf(vms, 'best-effort'), changes: o.changes, maxSenders: o.maxSenders, minGapMs: (o.phaseSeconds * 1000) / 2, maxGapMs: o.phaseSeconds * 1000, seed: o.seed });
  const on = new Set<number>();
  // The policy first runs with every VM idle, as a daemon does before traffic: what is measured
  // after is the churn, not the loop's start-up, and every Best-Effort VM starts from idle.
  const lead: PlannedChange = { step: 'every VM idle', start: [], stop: [], holdMs: o.leadSeconds * 1000 };
  const changes = schedule.map((ch, index): PlannedChange => {
    for (const v of ch.stop) on.delete(v);
    for (const v of ch.start) on.add(v);
    const gOn = slas.filter((s) => on.has(s.vmIndex));
    const beOn = [...on].filter((v) => !gIdx.includes(v)).sort((a, b) => a - b);
    const label = churnLabel(index, ch, vms);
    const gStopped = ch.stop.some((v) => gIdx.includes(v));
    return {
      step: label,
      start: ch.start,
      stop: ch.stop,
      holdMs: ch.holdMs,
      phase: { index, label, gVms: gOn, beVms: beOn, reactionVms: ch.start.length > 0 ? gOn.map((s) => s.vmIndex) : [] },
      ...(gStopped && beOn.length > 0 ? { reclaim: { phaseIndex: index, gVms: gOn.map((s) => s.vmIndex) } } : {}),
    };
  });
  return [{ slas, changes: [lead, ...changes] }];
}

/** The sessions every policy runs, in order. */
export function planSessions(o: ExperimentOptions): PlannedSession[] {
  const vms = vmSpecsOf(o);
  switch (o.scenario) {
    case 'contention': return contentionSessions(o, vms);
    case 'adaptability':
    case 'multi': return joiningSessions(o, vms);
    case 'churn': return churnSessions(o, vms);
  }
}

/** The measured phases of the plan, in order. */
export function planPhases(o: ExperimentOptions): PlannedPhase[] {
  return planSessions(o).flatMap((s) => s.changes.flatMap((c) => (c.phase ? [c.phase] : [])));
}

/** Roughly how long a run takes, in seconds, for the user and for test timeouts. */
export function estimateSeconds(o: ExperimentOptions, settleMs = SETTLE_MS): number {
  const sessions = planSessions(o);
  const perPolicyMs = sessions.reduce((a, s) => a + settleMs + s.changes.reduce((b, c) => b + c.holdMs, 0), 0);
  // D_G: each Guarantee VM alone for a phase.
  const calibrationMs = guaranteeVmCount(o) * o.phaseSeconds * 1000 + settleMs;
  const runs = o.policies.length + (o.policies.includes('baseline') ? 0 : 1);
  return Math.round((calibrationMs + runs * perPolicyMs) / 1000 + 15);
}
