/**
 * The evaluation's scenarios in the fluid simulator, for `npm run bench:sim`: contention
 * (paper Fig. 3), adaptability (Fig. 4), several guarantees (multi) and many VMs (churn), run
 * through the real Controller with each policy, beside the oracle (the port schedules with a
 * guaranteed rate per Guarantee VM) and the baseline (no control) on the same seeded host.
 * Every figure is a ratio to what the scenario itself defines (the Guarantee VM's own demand
 * ceiling, the baseline's and the oracle's totals in the same phase), never to a policy's
 * own estimate.
 */
import { createPolicy } from '../src/policy/index.ts';
import { REALISTIC_HOST, cov, guarantee, makeRig, mean, paper, type Rig, type RigControl } from '../src/sim/index.ts';
import type { SimHostOptions, SimTraffic } from '../src/sim/index.ts';
import type { Sla } from '../src/core/types.ts';
import { seededRandom } from '../src/util/random.ts';

/** Paper single-thread ceiling (the Guarantee VM's demand in contention and adaptability). */
export const G_DEMAND_BPS = paper(18.5);
/** Ticks a Guarantee VM must stay at 0.95 of its target for reaction to count (1 s). */
const HOLD_TICKS = 5;

/** One Guarantee VM's judged interval: where it wanted min(guarantee, demand). */
export interface Judged {
  readonly vm: string;
  readonly fromTick: number;
  readonly toTick: number;
  readonly targetBps: number;
  /** Ticks dropped at the start before attainment and CoV are judged. */
  readonly warmupTicks: number;
}

/** A change whose recovery is timed: a Guarantee VM starting (reaction) or stopping (reclaim). */
export interface Change {
  readonly kind: 'reaction' | 'reclaim';
  readonly atTick: number;
  readonly untilTick: number;
  readonly vm: string;
  readonly targetBps: number;
}

/** A scenario: VMs, what they send over time, and what is judged. */
export interface Scenario {
  readonly name: string;
  readonly slas: Record<string, Sla>;
  readonly ticks: number;
  /** The host's VMs at tick 0. */
  setup(rig: Rig): void;
  /** Changes traffic before tick `t` runs. */
  at(rig: Rig, t: number): void;
  readonly judged: readonly Judged[];
  readonly changes: readonly Change[];
  /** Intervals over which utilization is judged (steady state). */
  readonly windows: readonly { readonly fromTick: number; readonly toTick: number }[];
}

/** What one control did in one scenario. */
export interface Outcome {
  readonly totals: readonly number[];
  readonly rates: ReadonlyMap<string, readonly number[]>;
}

/** Runs a scenario with one control on a host built from `host` (same seed, same physics). */
export async function runScenario(s: Scenario, control: string, host: Partial<SimHostOptions>): Promise<Outcome> {
  const c: RigControl = control === 'oracle' || control === 'baseline' ? control : createPolicy(control);
  const rig = makeRig(c, s.slas, host);
  s.setup(rig);
  for (let t = 0; t < s.ticks; t++) {
    s.at(rig, t);
    await rig.run(1);
  }
  return { totals: rig.totals, rates: rig.rates };
}

/** The summary measures of evaluation.md for one control, against baseline and oracle outcomes. */
export function summarize(s: Scenario, o: Outcome, baseline: Outcome, oracle: Outcome) {
  const attainments = s.judged.map((j) => mean(o.rates.get(j.vm)!, j.fromTick + j.warmupTicks, j.toTick) / j.targetBps);
  const covs = s.judged.map((j) => cov(o.rates.get(j.vm)!, j.fromTick + j.warmupTicks, j.toTick));
  const util = (ref: Outcome) => Math.min(...s.windows.map((w) => mean(o.totals, w.fromTick, w.toTick) / mean(ref.totals, w.fromTick, w.toTick)));
  const meanUtil = (ref: Outcome) => mean(s.windows.map((w) => mean(o.totals, w.fromTick, w.toTick) / mean(ref.totals, w.fromTick, w.toTick)), 0, s.windows.length);
  const times = s.changes.map((c) => {
    if (c.kind === 'reaction') return heldAfter(o.rates.get(c.vm)!, c.atTick, c.untilTick, 0.95 * c.targetBps);
    // Reclaim: the others together reach 0.95 of what the baseline's port carries without it.
    const want = 0.95 * mean(baseline.totals, c.atTick + HOLD_TICKS, c.untilTick);
    return heldAfter(o.totals, c.atTick, c.untilTick, want);
  });
  const reaction = times.filter((_, i) => s.changes[i]!.kind === 'reaction');
  const reclaim = times.filter((_, i) => s.changes[i]!.kind === 'reclaim');
  const worst = (xs: (number | null)[]) => (xs.length === 0 ? 0 : xs.some((x) => x === null) ? null : Math.max(...(xs as number[])));
  return {
    minAttainment: round(Math.min(...attainments)),
    meanUtilization: round(meanUtil(baseline)),
    minUtilization: round(util(baseline)),
    utilizationVsOracle: round(meanUtil(oracle)),
    maxReactionTicks: worst(reaction),
    maxReclaimTicks: worst(reclaim),
    gCoV: round(Math.max(...covs)),
  };
}

/** Ticks from `from` until series stays >= threshold for HOLD_TICKS ticks; null if never before `to`. */
function heldAfter(series: readonly number[], from: number, to: number, threshold: number): number | null {
  for (let i = from; i + HOLD_TICKS <= to; i++) {
    let ok = true;
    for (let k = i; k < i + HOLD_TICKS; k++) if (!(series[k]! >= threshold)) ok = false;
    if (ok) return i - from;
  }
  return null;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const PHASE = 50;
const WARMUP = 10;

/** Contention (Fig. 3): G (1 flow, demand 18.5) against BE (5 flows); then G stops. */
export function contention(guaranteePaperGbit: number): Scenario {
  const g = paper(guaranteePaperGbit);
  const stopAt = PHASE + WARMUP;
  return {
    name: `contention-${guaranteePaperGbit}`,
    slas: { g: guarantee(g) },
    ticks: stopAt + 30,
    setup: (rig) => {
      rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND_BPS });
      rig.host.addVm('be', { flows: 5 });
    },
    at: (rig, t) => {
      if (t === stopAt) rig.host.setTraffic('g', { flows: 0 });
    },
    judged: [{ vm: 'g', fromTick: 0, toTick: stopAt, targetBps: Math.min(g, G_DEMAND_BPS), warmupTicks: WARMUP }],
    changes: [
      { kind: 'reaction', atTick: 0, untilTick: stopAt, vm: 'g', targetBps: Math.min(g, G_DEMAND_BPS) },
      { kind: 'reclaim', atTick: stopAt, untilTick: stopAt + 30, vm: 'g', targetBps: 0 },
    ],
    windows: [{ fromTick: WARMUP, toTick: stopAt }],
  };
}

/** Adaptability (Fig. 4): G at 10 against 7 BE VMs (2 flows) starting one per phase. */
export function adaptability(): Scenario {
  const g = paper(10);
  const phases = 8;
  return {
    name: 'adaptability',
    slas: { g: guarantee(g) },
    ticks: phases * PHASE,
    setup: (rig) => {
      rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND_BPS });
      for (let i = 1; i <= 7; i++) rig.host.addVm(`be${i}`, { flows: 0 });
    },
    at: (rig, t) => {
      if (t > 0 && t % PHASE === 0) rig.host.setTraffic(`be${t / PHASE}`, { flows: 2 });
    },
    judged: Array.from({ length: phases }, (_, k) => ({ vm: 'g', fromTick: k * PHASE, toTick: (k + 1) * PHASE, targetBps: g, warmupTicks: WARMUP })),
    changes: Array.from({ length: phases - 1 }, (_, k) => ({ kind: 'reaction' as const, atTick: (k + 1) * PHASE, untilTick: (k + 2) * PHASE, vm: 'g', targetBps: g })),
    windows: Array.from({ length: phases }, (_, k) => ({ fromTick: k * PHASE + WARMUP, toTick: (k + 1) * PHASE })),
  };
}

/**
 * Several guarantees: three Guarantee VMs (5, 10, 15 Gbit/s paper) whose thread counts run
 * against their guarantees (the largest has the fewest), against three Best-Effort VMs with
 * 1, 3 and 8 threads; each thread tops out at 18.5. Then the 10 Gbit/s one stops and restarts.
 */
export function multi(): Scenario {
  const gs = [
    { id: 'g5', g: paper(5), flows: 4 },
    { id: 'g10', g: paper(10), flows: 2 },
    { id: 'g15', g: paper(15), flows: 1 },
  ];
  const stopAt = PHASE + WARMUP;
  const restartAt = stopAt + PHASE;
  const end = restartAt + PHASE;
  const traffic = (flows: number): SimTraffic => ({ flows, perFlowLimitBps: G_DEMAND_BPS });
  return {
    name: 'multi',
    slas: Object.fromEntries(gs.map((x) => [x.id, guarantee(x.g)])),
    ticks: end,
    setup: (rig) => {
      for (const x of gs) rig.host.addVm(x.id, traffic(x.flows));
      for (const [i, flows] of [1, 3, 8].entries()) rig.host.addVm(`be${i}`, traffic(flows));
    },
    at: (rig, t) => {
      if (t === stopAt) rig.host.setTraffic('g10', traffic(0));
      if (t === restartAt) rig.host.setTraffic('g10', traffic(2));
    },
    judged: [
      ...gs.map((x) => ({ vm: x.id, fromTick: 0, toTick: stopAt, targetBps: x.g, warmupTicks: WARMUP })),
      ...gs.map((x) => ({ vm: x.id, fromTick: restartAt, toTick: end, targetBps: x.g, warmupTicks: WARMUP })),
    ],
    changes: [
      ...gs.map((x) => ({ kind: 'reaction' as const, atTick: 0, untilTick: stopAt, vm: x.id, targetBps: x.g })),
      { kind: 'reclaim', atTick: stopAt, untilTick: restartAt, vm: 'g10', targetBps: 0 },
      { kind: 'reaction', atTick: restartAt, untilTick: end, vm: 'g10', targetBps: paper(10) },
    ],
    windows: [{ fromTick: WARMUP, toTick: stopAt }, { fromTick: stopAt + WARMUP, toTick: restartAt }, { fromTick: restartAt + WARMUP, toTick: end }],
  };
}

/**
 * Many VMs: 64 on one port: two Guarantee VMs (5 and 10 Gbit/s paper, 2 and 1 threads) that go
 * on and off in turn, and 62 Best-Effort VMs (1-4 threads) that start and stop at seeded
 * random times, about a fifth of them sending at any moment.
 */
export function churn(seed = 7): Scenario {
  const rnd = seededRandom(seed);
  const ticks = 6 * PHASE * 2;
  const beCount = 62;
  const flows = Array.from({ length: beCount }, () => 1 + Math.floor(rnd.next() * 4));
  // Each BE VM: on/off periods of 3-20 s, starting off or on at random.
  const events: { t: number; vm: number; on: boolean }[] = [];
  for (let i = 0; i < beCount; i++) {
    let t = Math.floor(rnd.uniform(0, 50));
    let on = rnd.next() < 0.2;
    if (on) events.push({ t: 0, vm: i, on });
    while (t < ticks) {
      on = !on;
      events.push({ t, vm: i, on });
      t += Math.floor(rnd.uniform(on ? 15 : 40, on ? 100 : 300));
    }
  }
  const gs = [
    { id: 'ga', g: paper(5), flows: 2, on: [[0, 200], [300, 500]] },
    { id: 'gb', g: paper(10), flows: 1, on: [[100, 400], [450, 600]] },
  ] as const;
  const gTraffic = (f: number): SimTraffic => ({ flows: f, perFlowLimitBps: G_DEMAND_BPS });
  return {
    name: 'churn',
    slas: Object.fromEntries(gs.map((x) => [x.id, guarantee(x.g)])),
    ticks,
    setup: (rig) => {
      for (const x of gs) rig.host.addVm(x.id, gTraffic(0));
      for (let i = 0; i < beCount; i++) rig.host.addVm(`be${String(i).padStart(2, '0')}`, { flows: 0 });
    },
    at: (rig, t) => {
      for (const x of gs) {
        for (const [a, b] of x.on) {
          if (t === a) rig.host.setTraffic(x.id, gTraffic(x.flows));
          if (t === b) rig.host.setTraffic(x.id, gTraffic(0));
        }
      }
      for (const e of events) if (e.t === t) rig.host.setTraffic(`be${String(e.vm).padStart(2, '0')}`, { flows: e.on ? flows[e.vm]! : 0 });
    },
    judged: gs.flatMap((x) => x.on.map(([a, b]) => ({ vm: x.id, fromTick: a, toTick: b, targetBps: x.g, warmupTicks: WARMUP }))),
    changes: gs.flatMap((x) => x.on.flatMap(([a, b]) => [
      { kind: 'reaction' as const, atTick: a, untilTick: b, vm: x.id, targetBps: x.g },
    ])),
    windows: Array.from({ length: ticks / PHASE }, (_, k) => ({ fromTick: k * PHASE + WARMUP, toTick: (k + 1) * PHASE })),
  };
}

/** Every scenario of the bench, in order. */
export function allScenarios(): Scenario[] {
  return [...[10, 15, 20, 25, 30].map(contention), adaptability(), multi(), churn()];
}

/** The simulated host of the bench: the emulated host's realism, at efficiency `efficiency`. */
export function benchHost(efficiency: number, seed: number): Partial<SimHostOptions> {
  return { ...REALISTIC_HOST, efficiency, seed };
}
