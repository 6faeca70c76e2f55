/**
 * result.json: one schema gives the TypeScript type and the validation, and a consistency
 * check catches what a schema cannot (a policy missing a phase, paper units that are not the
 * emulated ones times the scale, an attainment that does not follow from its own numbers).
 */
import { z } from 'zod';

/** Version tag written into every result file, bumped when the layout changes. */
export const RESULT_SCHEMA = 'daqs.experiment/2';

/** The scenarios of evaluation.md: the paper's two, then several guarantees, then many VMs coming and going. */
export const SCENARIOS = ['contention', 'adaptability', 'multi', 'churn'] as const;
/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** A rate in emulated bits/s and the paper's bits/s (emulated × scale). */
export const ThroughputSchema = z.object({
  emulatedBps: z.number().nonnegative(),
  paperBps: z.number().nonnegative(),
});
/** A rate in both units. */
export type Throughput = z.infer<typeof ThroughputSchema>;

/** Builds a Throughput from an emulated rate and the scale factor. */
export function throughput(emulatedBps: number, scale: number): Throughput {
  return { emulatedBps, paperBps: emulatedBps * scale };
}

const EventTimeSchema = z.object({
  reached: z.boolean(),
  seconds: z.number().nonnegative().nullable(),
  ticks: z.number().int().nonnegative().nullable(),
  windowS: z.number().nonnegative(),
});
type EventTime = z.infer<typeof EventTimeSchema>;

/** One Guarantee VM sending through a phase, judged against its own guarantee and demand. */
export const GuaranteeVmResultSchema = z.object({
  /** Testbed VM index (series.vms gives its label). */
  vmIndex: z.number().int().nonnegative(),
  guarantee: ThroughputSchema,
  /** What this VM sent alone, same run (D_G). */
  gDemand: ThroughputSchema,
  g: ThroughputSchema,
  /** g / min(guarantee, gDemand). */
  attainment: z.number().nonnegative(),
  gCoV: z.number().nonnegative(),
  /** From a change at the phase start (a Best-Effort VM or this VM starting) until it holds its bar. */
  reaction: EventTimeSchema.optional(),
});
/** One Guarantee VM in one phase. */
export type GuaranteeVmResult = z.infer<typeof GuaranteeVmResultSchema>;

/** One phase of one policy: what was asked, what was measured, how it is judged. */
export const PhaseResultSchema = z.object({
  index: z.number().int().nonnegative(),
  label: z.string().min(1),
  /** Best-Effort VMs sending during this phase. */
  activeBeVms: z.number().int().nonnegative(),
  /** Each Guarantee VM sending during this phase (none: a churn phase with every Guarantee VM off). */
  gVms: z.array(GuaranteeVmResultSchema),
  /** Sum of gVms' guarantees and of their demands alone. */
  guarantee: ThroughputSchema,
  gDemand: ThroughputSchema,
  /** Every Guarantee VM together (VF counters). */
  g: ThroughputSchema,
  be: ThroughputSchema,
  total: ThroughputSchema,
  baselineTotal: ThroughputSchema,
  /** What the port delivered (uplink counter): G + BE minus what the port's queue dropped. */
  delivered: ThroughputSchema,
  baselineDelivered: ThroughputSchema,
  /** The worst of gVms' attainments; null when no Guarantee VM sends. */
  attainment: z.number().nonnegative().nullable(),
  /** delivered / baseline delivered: the port's real output against no control. */
  utilization: z.number().nonnegative(),
  /** total / baseline total, both from the VF counters (counts bytes the port then dropped). */
  utilizationVfSide: z.number().nonnegative(),
  /** The worst of gVms' CoVs; null when no Guarantee VM sends. */
  gCoV: z.number().nonnegative().nullable(),
  /** Steady-state samples behind the means. */
  samples: z.number().int().positive(),
  /** The slowest of gVms' reactions (one that never held wins). */
  reaction: EventTimeSchema.optional(),
  /** A Guarantee VM stopped (after the phase, or at its start in churn): until Best-Effort VMs used what it left. */
  reclaim: EventTimeSchema.optional(),
});
/** One phase of one policy. */
export type PhaseResult = z.infer<typeof PhaseResultSchema>;

/** Worst/mean measures of one policy over all phases (see measures.summarize). */
export const SummarySchema = z.object({
  /** Worst attainment of any Guarantee VM in any phase. */
  minAttainment: z.number().nonnegative(),
  /** Worst attainment per Guarantee VM over the phases it sent in. */
  minAttainmentByVm: z.array(z.object({ vmIndex: z.number().int().nonnegative(), minAttainment: z.number().nonnegative() })),
  meanUtilization: z.number().nonnegative(),
  maxReactionTicks: z.number().int().nonnegative().nullable(),
  maxReactionS: z.number().nonnegative().nullable(),
  reactionMissed: z.number().int().nonnegative(),
  maxReclaimTicks: z.number().int().nonnegative().nullable(),
  maxReclaimS: z.number().nonnegative().nullable(),
  reclaimMissed: z.number().int().nonnegative(),
  gCoV: z.number().nonnegative(),
});

/** One policy's run: its phases and summary, or the error that stopped it. */
export const PolicyResultSchema = z.object({
  name: z.string().min(1),
  phases: z.array(PhaseResultSchema),
  summary: SummarySchema.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
/** One policy's run. */
export type PolicyResult = z.infer<typeof PolicyResultSchema>;

/** Per-sample rates of every VM for one policy, on the switch side, emulated bits/s. */
export const PolicySeriesSchema = z.object({
  /** Seconds since the policy's first sample (the end of each sampling interval). */
  tS: z.array(z.number().nonnegative()),
  /** Phase index per sample; -1 outside a measured phase (settling, reclaim tail). */
  phase: z.array(z.number().int().min(-1)),
  /** ratesBps[vm][sample]. */
  ratesBps: z.array(z.array(z.number().nonnegative())),
  /** What the port delivered per sample, emulated bits/s. */
  portBps: z.array(z.number().nonnegative()),
});
/** Time series of one policy. */
export type PolicySeries = z.infer<typeof PolicySeriesSchema>;

/** A whole experiment run as written to result.json. */
export const ExperimentResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA),
  scenario: z.enum(SCENARIOS),
  startedAt: z.string(),
  finishedAt: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  scale: z.object({
    /** paper = emulated × factor. */
    factor: z.number().positive(),
    paperCapacityBps: z.number().positive(),
    emulatedCapacityBps: z.number().positive(),
  }),
  machine: z.object({
    hostname: z.string(),
    kernel: z.string(),
    cpus: z.number().int().positive(),
    cpuModel: z.string(),
    node: z.string(),
    memBytes: z.number().nonnegative(),
  }),
  /** The phases every policy must have, in order. */
  phases: z.array(z.object({ index: z.number().int().nonnegative(), label: z.string() })).min(1),
  policies: z.array(PolicyResultSchema).min(1),
  series: z.object({
    periodMs: z.number().positive(),
    tickMs: z.number().positive(),
    vms: z.array(z.object({ index: z.number().int().nonnegative(), role: z.enum(['guarantee', 'best-effort']), label: z.string() })).min(1),
    policies: z.record(z.string(), PolicySeriesSchema),
  }),
});
/** A whole experiment run. */
export type ExperimentResult = z.infer<typeof ExperimentResultSchema>;

/** Raised when a result file is incomplete or inconsistent; lists every problem found. */
export class ResultInvalidError extends Error {
  readonly code = 'E_RESULT_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`result is incomplete or inconsistent:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ResultInvalidError';
  }
}

// Relative tolerance for numbers that are computed from each other and then rounded by JSON.
const REL_TOL = 1e-9;

function close(a: number, b: number, tol = REL_TOL): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

function checkPhase(where: string, p: PhaseResult, scale: number, problems: string[]): void {
  const units = (at: string, t: Throughput, key: string): void => {
    if (!close(t.paperBps, t.emulatedBps * scale)) problems.push(`${at}: ${key}.paperBps ${t.paperBps} is not emulatedBps ${t.emulatedBps} × scale ${scale}`);
  };
  for (const key of ['guarantee', 'gDemand', 'g', 'be', 'total', 'baselineTotal', 'delivered', 'baselineDelivered'] as const) units(where, p[key], key);
  // Tolerances are loose enough for JSON round-trips, tight enough to catch a wrong formula.
  if (!close(p.total.emulatedBps, p.g.emulatedBps + p.be.emulatedBps, 1e-6)) {
    problems.push(`${where}: total ${p.total.emulatedBps} is not G ${p.g.emulatedBps} + BE ${p.be.emulatedBps}`);
  }
  for (const v of p.gVms) {
    const at = `${where} G VM ${v.vmIndex}`;
    for (const key of ['guarantee', 'gDemand', 'g'] as const) units(at, v[key], key);
    const target = Math.min(v.guarantee.emulatedBps, v.gDemand.emulatedBps);
    if (target > 0 && !close(v.attainment, v.g.emulatedBps / target, 1e-6)) {
      problems.push(`${at}: attainment ${v.attainment} is not G / min(guarantee, G demand) = ${v.g.emulatedBps / target}`);
    }
  }
  if (new Set(p.gVms.map((v) => v.vmIndex)).size !== p.gVms.length) problems.push(`${where}: a Guarantee VM is listed twice`);
  const worst = p.gVms.length === 0 ? null : Math.min(...p.gVms.map((v) => v.attainment));
  if (worst === null ? p.attainment !== null : p.attainment === null || !close(p.attainment, worst, 1e-9)) {
    problems.push(`${where}: attainment ${p.attainment} is not the worst of its Guarantee VMs (${worst})`);
  }
  const sum = (key: 'guarantee' | 'gDemand' | 'g'): number => p.gVms.reduce((a, v) => a + v[key].emulatedBps, 0);
  for (const key of ['guarantee', 'gDemand'] as const) {
    if (!close(p[key].emulatedBps, sum(key), 1e-6)) problems.push(`${where}: ${key} ${p[key].emulatedBps} is not the sum over its Guarantee VMs (${sum(key)})`);
  }
  // Guarantee VMs that do not send in this phase still count in G (what a stopping one sent), never the other way.
  if (sum('g') > p.g.emulatedBps * (1 + 1e-6) + 1) problems.push(`${where}: its Guarantee VMs sent ${sum('g')} together, more than G ${p.g.emulatedBps}`);
  if (p.baselineDelivered.emulatedBps > 0 && !close(p.utilization, p.delivered.emulatedBps / p.baselineDelivered.emulatedBps, 1e-6)) {
    problems.push(`${where}: utilization ${p.utilization} is not delivered / baseline delivered`);
  }
  if (p.baselineTotal.emulatedBps > 0 && !close(p.utilizationVfSide, p.total.emulatedBps / p.baselineTotal.emulatedBps, 1e-6)) {
    problems.push(`${where}: utilizationVfSide ${p.utilizationVfSide} is not total / baseline total`);
  }
  const events: [string, EventTime | undefined][] = [['reaction', p.reaction], ['reclaim', p.reclaim], ...p.gVms.map((v) => [`G VM ${v.vmIndex} reaction`, v.reaction] as [string, EventTime | undefined])];
  for (const [key, e] of events) {
    if (e && e.reached !== (e.ticks !== null && e.seconds !== null)) {
      problems.push(`${where}: ${key} says reached=${e.reached} but ticks=${e.ticks}, seconds=${e.seconds}`);
    }
  }
}

function checkSeries(r: ExperimentResult, name: string, problems: string[]): void {
  const s = r.series.policies[name];
  if (!s) {
    problems.push(`policy ${name}: no time series`);
    return;
  }
  if (s.tS.length === 0) problems.push(`policy ${name}: empty time series`);
  if (s.phase.length !== s.tS.length) problems.push(`policy ${name}: series has ${s.tS.length} times but ${s.phase.length} phase marks`);
  if (s.portBps.length !== s.tS.length) problems.push(`policy ${name}: series has ${s.tS.length} times but ${s.portBps.length} port samples`);
  if (s.ratesBps.length !== r.series.vms.length) problems.push(`policy ${name}: series has ${s.ratesBps.length} VMs, expected ${r.series.vms.length}`);
  s.ratesBps.forEach((vm, i) => {
    if (vm.length !== s.tS.length) problems.push(`policy ${name}: VM ${i} has ${vm.length} samples, expected ${s.tS.length}`);
  });
  for (const ph of r.phases) {
    if (!s.phase.includes(ph.index)) problems.push(`policy ${name}: no samples marked with phase ${ph.index} (${ph.label})`);
  }
}

/**
 * Checks a parsed result.json: the schema (numbers finite, fields present), then that every
 * policy ran every phase without error and that the numbers agree with each other.
 * Returns the typed result; throws ResultInvalidError listing every problem.
 */
export function validateResult(raw: unknown): ExperimentResult {
  const parsed = ExperimentResultSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ResultInvalidError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const r = parsed.data;
  const problems: string[] = [];
  const expected = r.phases.map((p) => p.index);
  if (!close(r.scale.factor, r.scale.paperCapacityBps / r.scale.emulatedCapacityBps)) {
    problems.push(`scale.factor ${r.scale.factor} is not paperCapacityBps / emulatedCapacityBps`);
  }
  const names = new Set<string>();
  for (const pol of r.policies) {
    if (names.has(pol.name)) problems.push(`policy ${pol.name} appears twice`);
    names.add(pol.name);
    if (pol.error) problems.push(`policy ${pol.name} failed: ${pol.error.code}: ${pol.error.message}`);
    if (!pol.summary) problems.push(`policy ${pol.name}: no summary`);
    const got = pol.phases.map((p) => p.index);
    if (got.join(',') !== expected.join(',')) problems.push(`policy ${pol.name}: phases [${got.join(',')}], expected [${expected.join(',')}]`);
    for (const p of pol.phases) checkPhase(`policy ${pol.name} phase ${p.index}`, p, r.scale.factor, problems);
    checkSeries(r, pol.name, problems);
  }
  if (problems.length > 0) throw new ResultInvalidError(problems);
  return r;
}
