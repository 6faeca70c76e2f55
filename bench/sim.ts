/**
 * `npm run bench:sim`: what the loop and the policy cost per tick with 1,000 VMs, against the
 * fluid simulator (so the agent path costs nothing and only our code is timed). 50 Guarantee
 * VMs (guarantees adding up to half the port) and 950 Best-Effort VMs with 1-4 flows; a tenth
 * of the BE VMs change what they send every 10 ticks. Prints one JSON line: per policy, the
 * time of one whole tick (observe 1,000 endpoints, rates, decide, reconcile, report) and of
 * decide() alone, as mean / p50 / p95 / max in ms and as a fraction of the 200 ms period.
 * Then the evaluation's scenarios (bench/sim-scenarios.ts: contention 10-30, adaptability,
 * multi, churn) on the simulated host with the emulated host's realism (HTB under-fill, noise,
 * skew, apply delay and jitter, TCP ramp and slow start), at a port delivering 100% and 94%
 * of nominal: per policy (daqs, paper, static) beside the oracle and no control, the summary
 * measures of evaluation.md, as a table and as one JSON line.
 * Not a test: nothing passes or fails here.
 */
import { cpus, loadavg } from 'node:os';
import { Controller } from '../src/controller/index.ts';
import { createPolicy, type Policy } from '../src/policy/index.ts';
import { SimHost, simInventory } from '../src/sim/index.ts';
import { renderTable } from '../src/util/text-table.ts';
import { allScenarios, benchHost, runScenario, summarize } from './sim-scenarios.ts';
import type { Sla } from '../src/core/types.ts';

const VMS = 1000;
const GUARANTEE_VMS = 50;
const TICKS = 150;
const WARMUP_TICKS = 20;
const TICK_MS = 200;
const PORT_BPS = 40e9;

// Deterministic pseudo-random numbers, so every run sees the same traffic.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}
const round = (x: number): number => Math.round(x * 1000) / 1000;
const summary = (xs: readonly number[]) => ({
  mean: round(xs.reduce((a, b) => a + b, 0) / xs.length),
  p50: round(quantile(xs, 0.5)),
  p95: round(quantile(xs, 0.95)),
  max: round(Math.max(...xs)),
});

async function bench(policyName: string) {
  const rnd = lcg(42);
  const host = new SimHost({ capacityBps: PORT_BPS, applyDelayMs: 30, rampMs: 60, stepMs: 50 });
  const slas: Record<string, Sla> = {};
  for (let i = 0; i < VMS; i++) {
    const id = `vm${String(i).padStart(4, '0')}`;
    host.addVm(id, { flows: 1 + Math.floor(rnd() * 4), demandBps: rnd() < 0.5 ? rnd() * 2e9 : null });
    if (i < GUARANTEE_VMS) slas[id] = { guaranteeBps: (0.5 * PORT_BPS) / GUARANTEE_VMS, maxBps: null, weight: 1 };
  }
  // Time decide() alone by wrapping the policy: the wrapper is the policy, only timed.
  const inner: Policy = createPolicy(policyName);
  const decideMs: number[] = [];
  const timed: Policy = {
    name: inner.name,
    initState: () => inner.initState(),
    decide: (input, state) => {
      const t0 = performance.now();
      const d = inner.decide(input, state);
      decideMs.push(performance.now() - t0);
      return d;
    },
  };
  const ctl = new Controller({ policy: timed, capacityBps: PORT_BPS, tickMs: TICK_MS, clock: host.clock, listVms: simInventory(host, slas), concurrency: 64, perVmTimeoutMs: 100 });
  const tickMs: number[] = [];
  const simMs: number[] = [];
  let applies = 0;
  const ids = host.vmIds();
  for (let t = 0; t < TICKS; t++) {
    if (t % 10 === 0) {
      for (let k = 0; k < VMS / 10; k++) {
        const id = ids[GUARANTEE_VMS + Math.floor(rnd() * (VMS - GUARANTEE_VMS))]!;
        host.setTraffic(id, { flows: Math.floor(rnd() * 5), demandBps: rnd() < 0.5 ? rnd() * 2e9 : null });
      }
    }
    const s0 = performance.now();
    host.advance(TICK_MS);
    simMs.push(performance.now() - s0);
    const t0 = performance.now();
    const r = await ctl.tickOnce();
    tickMs.push(performance.now() - t0);
    applies += r.actions.length;
  }
  const loop = tickMs.slice(WARMUP_TICKS);
  return {
    policy: policyName,
    tickMs: summary(loop),
    decideMs: summary(decideMs.slice(WARMUP_TICKS)),
    tickFractionOfPeriod: round(summary(loop).mean / TICK_MS),
    simPhysicsMsPerTick: summary(simMs.slice(WARMUP_TICKS)).mean,
    capChangesPerTick: round(applies / TICKS),
  };
}

const results = [];
for (const p of ['daqs', 'paper', 'fair']) results.push(await bench(p));
console.log(JSON.stringify({ bench: 'sim', vms: VMS, guaranteeVms: GUARANTEE_VMS, ticks: TICKS, warmupTicks: WARMUP_TICKS, periodMs: TICK_MS, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAvg1m: round(loadavg()[0]!), results }));

const POLICIES = ['daqs', 'paper', 'static', 'oracle'];
const SEED = 11;
const rows: string[][] = [];
const summaries: unknown[] = [];
for (const efficiency of [1, 0.94]) {
  for (const s of allScenarios()) {
    const host = benchHost(efficiency, SEED);
    const baseline = await runScenario(s, 'baseline', host);
    const oracle = await runScenario(s, 'oracle', host);
    for (const p of POLICIES) {
      const o = p === 'oracle' ? oracle : await runScenario(s, p, host);
      const m = summarize(s, o, baseline, oracle);
      summaries.push({ scenario: s.name, efficiency, policy: p, ...m });
      const ticks = (x: number | null) => (x === null ? 'never' : String(x));
      rows.push([s.name, `${Math.round(efficiency * 100)}%`, p, m.minAttainment.toFixed(3), m.meanUtilization.toFixed(3), m.utilizationVsOracle.toFixed(3), ticks(m.maxReactionTicks), ticks(m.maxReclaimTicks), m.gCoV.toFixed(3)]);
    }
  }
}
for (const line of renderTable(['SCENARIO', 'PORT', 'POLICY', 'MIN ATT', 'UTIL/BASE', 'UTIL/ORACLE', 'REACTION', 'RECLAIM', 'G COV'], rows, { rule: true })) console.log(line);
console.log(JSON.stringify({ bench: 'sim-scenarios', emulatedPortBps: 2e9, scale: 20, tickMs: TICK_MS, seed: SEED, summaries }));
