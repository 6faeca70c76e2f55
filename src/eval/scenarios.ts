/**
 * The scenarios of evaluation.md as options: their parameters with the defaults of the paper
 * (contention, adaptability) and of the scenarios beyond it (multi, churn), and validation.
 * Pure; plan.ts turns options into what each policy runs.
 */
import { MAX_VMS } from '../testbed/index.ts';
import type { ScenarioName } from './result.ts';
import { POLICY_NAMES, type PolicyName } from './policies.ts';

/** The paper's port speed; every scenario rate is given in these units and divided by the scale. */
export const PAPER_CAPACITY_BPS = 40e9;

/** Most Best-Effort VMs a scenario whose Best-Effort VMs may all send at once can have (this machine has 2 cores). */
export const MAX_CONCURRENT_BE_VMS = 15;

/** Everything that defines an experiment run. Rates marked "paper" are in paper units. */
export interface ExperimentOptions {
  readonly scenario: ScenarioName;
  readonly policies: readonly PolicyName[];
  /** Emulated port speed C; scale = PAPER_CAPACITY_BPS / C. */
  readonly capacityBps: number;
  /**
   * Contention: one phase per guarantee (one Guarantee VM). Adaptability: the first one is the
   * guarantee. Multi and churn: one Guarantee VM per guarantee (VMs 0..n-1).
   */
  readonly guaranteesPaperBps: readonly number[];
  /** iperf2 -b of each Guarantee VM, split over its threads (the paper's 18.5 Gbit/s single-thread ceiling); null = uncapped. */
  readonly gDemandCapPaperBps: number | null;
  /** iperf2 threads of Guarantee VM k: gThreads[k mod length]. */
  readonly gThreads: readonly number[];
  /** iperf2 threads of Best-Effort VM k (k counts from 0 over the Best-Effort VMs): beThreads[k mod length]. */
  readonly beThreads: readonly number[];
  readonly beVms: number;
  /** Length of each phase (churn: the longest time between two changes; each gap is drawn from [half, all] of it). Also how long each Guarantee VM sends alone for D_G. */
  readonly phaseSeconds: number;
  readonly warmupSeconds: number;
  /** Contention: G sends alone this long before the BE VM starts (the reaction trigger). Churn: every VM idle this long before the first change. */
  readonly leadSeconds: number;
  /** After the last phase (contention: after each), the Guarantee VMs stop and BE reclaim is watched this long; 0 = skip. Churn judges reclaim at each change instead. */
  readonly reclaimSeconds: number;
  /** Churn: how many changes (Best-Effort VMs starting or stopping, a Guarantee VM going on or off). */
  readonly changes: number;
  /** Churn: most VMs sending at once, Guarantee VMs included (what this 2-core machine carries). */
  readonly maxSenders: number;
  /** Churn: seed of the schedule; the same seed gives the same changes at the same times. */
  readonly seed: number;
  readonly periodMs: number;
  readonly tickMs: number;
  readonly testbedName: string;
  /** The Guarantee VM (VM 0) is a real QEMU guest (`testbed up --real 1`) instead of a namespace. */
  readonly realGuarantee?: boolean;
}

/** Error for options that cannot make a meaningful run; names the option. */
export class ExperimentOptionError extends Error {
  readonly code = 'E_EXPERIMENT_OPTION';
  constructor(readonly option: string, message: string) {
    super(`--${option}: ${message}`);
    this.name = 'ExperimentOptionError';
  }
}

/** Defaults per scenario, from evaluation.md (phases shortened from the paper's 60 s to 10 s). */
export function defaultOptions(scenario: ScenarioName): ExperimentOptions {
  const common = {
    scenario,
    policies: [...POLICY_NAMES],
    capacityBps: 2e9,
    gDemandCapPaperBps: 18.5e9,
    gThreads: [1],
    phaseSeconds: 10,
    warmupSeconds: 2,
    leadSeconds: 1,
    reclaimSeconds: 3,
    changes: 20,
    maxSenders: 10,
    seed: 1,
    periodMs: 200,
    tickMs: 200,
    testbedName: `ex${process.pid.toString(36)}`.slice(0, 8),
  };
  switch (scenario) {
    case 'contention': return { ...common, guaranteesPaperBps: [10e9, 15e9, 20e9, 25e9, 30e9], beThreads: [5], beVms: 1 };
    case 'adaptability': return { ...common, guaranteesPaperBps: [10e9], beThreads: [2], beVms: 7 };
    // Three guarantees and thread counts; one Best-Effort VM more per phase, each with more threads.
    case 'multi': return { ...common, guaranteesPaperBps: [5e9, 10e9, 15e9], gThreads: [1, 2, 3], beThreads: [1, 4, 8], beVms: 3 };
    // 64 VMs, at most 10 sending at once; a change every 3-6 s, after 3 s with every VM idle.
    case 'churn': return { ...common, guaranteesPaperBps: [5e9, 10e9, 15e9], gThreads: [1, 2, 3], beThreads: [1, 2, 4], beVms: 61, phaseSeconds: 6, warmupSeconds: 1, leadSeconds: 3 };
  }
}

/** The scale factor: paper rate = emulated rate × scale. */
export function scaleOf(opts: Pick<ExperimentOptions, 'capacityBps'>): number {
  return PAPER_CAPACITY_BPS / opts.capacityBps;
}

/** Guarantee VMs of a scenario: contention and adaptability have one, multi and churn one per guarantee. */
export function guaranteeVmCount(o: Pick<ExperimentOptions, 'scenario' | 'guaranteesPaperBps'>): number {
  return o.scenario === 'multi' || o.scenario === 'churn' ? o.guaranteesPaperBps.length : 1;
}

/** The shortest phase: churn draws its gaps from [phaseSeconds / 2, phaseSeconds]. */
export function shortestPhaseSeconds(o: Pick<ExperimentOptions, 'scenario' | 'phaseSeconds'>): number {
  return o.scenario === 'churn' ? o.phaseSeconds / 2 : o.phaseSeconds;
}

/** Checks options before a testbed is built; throws ExperimentOptionError naming the option. */
export function validateOptions(o: ExperimentOptions): void {
  const positive = (name: string, v: number): void => {
    if (!(v > 0) || !Number.isFinite(v)) throw new ExperimentOptionError(name, `must be a positive number, got ${v}`);
  };
  const count = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) throw new ExperimentOptionError(name, `must be a whole number from ${min} to ${max}, got ${v}`);
  };
  if (o.policies.length === 0) throw new ExperimentOptionError('policies', 'name at least one policy');
  if (new Set(o.policies).size !== o.policies.length) throw new ExperimentOptionError('policies', 'names a policy twice');
  positive('capacity', o.capacityBps);
  if (o.capacityBps < 10e6) throw new ExperimentOptionError('capacity', `${o.capacityBps} bit/s is too slow to emulate a port; use e.g. 2gbit`);
  if (o.guaranteesPaperBps.length === 0) throw new ExperimentOptionError('guarantees', 'give at least one guarantee');
  for (const g of o.guaranteesPaperBps) {
    if (!(g > 0) || g >= PAPER_CAPACITY_BPS) throw new ExperimentOptionError('guarantees', `each guarantee must be above 0 and below the paper port (40gbit), got ${g} bit/s`);
  }
  const nG = guaranteeVmCount(o);
  const together = o.guaranteesPaperBps.slice(0, nG).reduce((a, b) => a + b, 0);
  if (nG > 1 && together >= PAPER_CAPACITY_BPS) {
    throw new ExperimentOptionError('guarantees', `the Guarantee VMs' guarantees add up to ${together / 1e9} Gbit/s, the whole paper port (40gbit) or more: nothing is left to share`);
  }
  if (o.gDemandCapPaperBps !== null) positive('g-demand', o.gDemandCapPaperBps);
  for (const [name, list] of [['g-threads', o.gThreads], ['be-threads', o.beThreads]] as const) {
    if (list.length === 0) throw new ExperimentOptionError(name, 'give at least one thread count');
    for (const t of list) count(name, t, 1, 64);
  }
  const maxBe = o.scenario === 'churn' ? MAX_VMS - nG : MAX_CONCURRENT_BE_VMS;
  count('be-vms', o.beVms, 1, maxBe);
  positive('phase-seconds', o.phaseSeconds);
  const shortestS = shortestPhaseSeconds(o);
  if (o.warmupSeconds < 0 || o.warmupSeconds >= shortestS) {
    throw new ExperimentOptionError('warmup-seconds', `must be at least 0 and shorter than the shortest phase (${shortestS} s), got ${o.warmupSeconds}`);
  }
  if (o.leadSeconds < 0) throw new ExperimentOptionError('lead-seconds', `must be at least 0, got ${o.leadSeconds}`);
  if (o.reclaimSeconds < 0) throw new ExperimentOptionError('reclaim-seconds', `must be at least 0, got ${o.reclaimSeconds}`);
  count('period-ms', o.periodMs, 20, 5000);
  if (shortestS * 1000 < 2 * o.periodMs + o.warmupSeconds * 1000) {
    throw new ExperimentOptionError('phase-seconds', `a ${shortestS} s phase leaves fewer than 2 samples after a ${o.warmupSeconds} s warm-up at ${o.periodMs} ms`);
  }
  if (o.scenario === 'churn') {
    count('changes', o.changes, 1, 1000);
    count('max-senders', o.maxSenders, nG + 1, 64);
    count('seed', o.seed, 0, 2 ** 32 - 1);
  }
}
