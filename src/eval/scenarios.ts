/**
 * The two scenarios of evaluation.md as data: their parameters with the paper's defaults,
 * validation, and the phase plan each policy runs. Pure; the runner executes the plan.
 */
import type { ScenarioName } from './result.ts';
import { POLICY_NAMES, type PolicyName } from './policies.ts';

/** The paper's port speed; every scenario rate is given in these units and divided by the scale. */
export const PAPER_CAPACITY_BPS = 40e9;

/** Everything that defines an experiment run. Rates marked "paper" are in paper units. */
export interface ExperimentOptions {
  readonly scenario: ScenarioName;
  readonly policies: readonly PolicyName[];
  /** Emulated port speed C; scale = PAPER_CAPACITY_BPS / C. */
  readonly capacityBps: number;
  /** Contention: one phase per guarantee. Adaptability: the first one is the guarantee. */
  readonly guaranteesPaperBps: readonly number[];
  /** iperf2 -b per Guarantee VM thread (the paper's 18.5 Gbit/s single-thread ceiling); null = uncapped. */
  readonly gDemandCapPaperBps: number | null;
  readonly gThreads: number;
  readonly beThreads: number;
  readonly beVms: number;
  readonly phaseSeconds: number;
  readonly warmupSeconds: number;
  /** Contention: G sends alone this long before the BE VM starts (the reaction trigger). */
  readonly leadSeconds: number;
  /** After the last phase (contention: after each), G stops and BE reclaim is watched this long; 0 = skip. */
  readonly reclaimSeconds: number;
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
    gThreads: 1,
    phaseSeconds: 10,
    warmupSeconds: 2,
    leadSeconds: 1,
    reclaimSeconds: 3,
    periodMs: 200,
    tickMs: 200,
    testbedName: `ex${process.pid.toString(36)}`.slice(0, 8),
  };
  return scenario === 'contention'
    ? { ...common, guaranteesPaperBps: [10e9, 15e9, 20e9, 25e9, 30e9], beThreads: 5, beVms: 1 }
    : { ...common, guaranteesPaperBps: [10e9], beThreads: 2, beVms: 7 };
}

/** The scale factor: paper rate = emulated rate × scale. */
export function scaleOf(opts: Pick<ExperimentOptions, 'capacityBps'>): number {
  return PAPER_CAPACITY_BPS / opts.capacityBps;
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
  if (o.gDemandCapPaperBps !== null) positive('g-demand', o.gDemandCapPaperBps);
  count('g-threads', o.gThreads, 1, 64);
  count('be-threads', o.beThreads, 1, 64);
  count('be-vms', o.beVms, 1, 15);
  positive('phase-seconds', o.phaseSeconds);
  if (o.warmupSeconds < 0 || o.warmupSeconds >= o.phaseSeconds) {
    throw new ExperimentOptionError('warmup-seconds', `must be at least 0 and shorter than the phase (${o.phaseSeconds} s), got ${o.warmupSeconds}`);
  }
  if (o.leadSeconds < 0) throw new ExperimentOptionError('lead-seconds', `must be at least 0, got ${o.leadSeconds}`);
  if (o.reclaimSeconds < 0) throw new ExperimentOptionError('reclaim-seconds', `must be at least 0, got ${o.reclaimSeconds}`);
  count('period-ms', o.periodMs, 20, 5000);
  if (o.phaseSeconds * 1000 < 2 * o.periodMs + o.warmupSeconds * 1000) {
    throw new ExperimentOptionError('phase-seconds', `a ${o.phaseSeconds} s phase leaves fewer than 2 samples after a ${o.warmupSeconds} s warm-up at ${o.periodMs} ms`);
  }
}

/** One measured phase of the plan. */
export interface PlannedPhase {
  readonly index: number;
  readonly label: string;
  readonly guaranteePaperBps: number;
  /** Best-Effort VMs sending in this phase (adaptability: the first n of them). */
  readonly activeBeVms: number;
}

function gbitLabel(bps: number): string {
  return `${Number((bps / 1e9).toPrecision(4))} Gbit/s`;
}

/**
 * The phases every policy runs. Contention: one per guarantee, the BE VM(s) sending.
 * Adaptability: beVms + 1 phases, phase n with n Best-Effort VMs sending.
 */
export function planPhases(o: ExperimentOptions): PlannedPhase[] {
  if (o.scenario === 'contention') {
    return o.guaranteesPaperBps.map((g, index) => ({ index, label: gbitLabel(g), guaranteePaperBps: g, activeBeVms: o.beVms }));
  }
  const g = o.guaranteesPaperBps[0] as number;
  return Array.from({ length: o.beVms + 1 }, (_, n) => ({ index: n, label: `${n} BE sending`, guaranteePaperBps: g, activeBeVms: n }));
}

/** Testbed VMs: VM 0 is the Guarantee VM, VMs 1..beVms are Best-Effort. */
export function vmCountOf(o: ExperimentOptions): number {
  return 1 + o.beVms;
}

/** Roughly how long a run takes, in seconds, for the user and for test timeouts. */
export function estimateSeconds(o: ExperimentOptions): number {
  const phases = planPhases(o).length;
  const settleS = 1;
  const perPolicy = o.scenario === 'contention'
    ? phases * (o.leadSeconds + o.phaseSeconds + o.reclaimSeconds + settleS)
    : phases * o.phaseSeconds + o.reclaimSeconds + settleS;
  const calibration = o.warmupSeconds + o.phaseSeconds + settleS;
  const baselineExtra = o.policies.includes('baseline') ? 0 : 1;
  return Math.round(calibration + (o.policies.length + baselineExtra) * perPolicy + 15);
}
