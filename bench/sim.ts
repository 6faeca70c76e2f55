/**
 * `npm run bench:sim`: what the loop and the policy cost per tick with 1,000 VMs, against the
 * fluid simulator (so the agent path costs nothing and only our code is timed). 50 Guarantee
 * VMs (guarantees adding up to half the port) and 950 Best-Effort VMs with 1-4 flows; a tenth
 * of the BE VMs change what they send every 10 ticks. Prints one JSON line: per policy, the
 * time of one whole tick (observe 1,000 endpoints, rates, decide, reconcile, report) and of
 * decide() alone, as mean / p50 / p95 / max in ms and as a fraction of the 200 ms period.
 * A second line gives the scenario figures per policy (paper Fig. 3 and 4 in the simulator at
 * 2 Gbit/s standing for 40): ticks to reach and hold 0.98 × min(guarantee, demand), CoV,
 * attainment, utilization, ticks for Best-Effort VMs to reclaim 0.95 of the port.
 * Not a test: nothing passes or fails here.
 */
import { cpus, loadavg } from 'node:os';
import { Controller } from '../src/controller/index.ts';
import { createPolicy, type Policy } from '../src/policy/index.ts';
import { SimHost, cov, guarantee, makeRig, mean, paper, simInventory, ticksUntilHeld } from '../src/sim/index.ts';
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

const G_DEMAND = paper(18.5);
const EMULATED_PORT_BPS = 2e9;

async function contention(policyName: string, guaranteePaperGbit: number, efficiency: number) {
  const rig = makeRig(createPolicy(policyName), { g: guarantee(paper(guaranteePaperGbit)) }, { efficiency });
  rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
  rig.host.addVm('be', { flows: 5 });
  const N = 100;
  await rig.run(N);
  const g = rig.rates.get('g')!;
  const target = Math.min(paper(guaranteePaperGbit), G_DEMAND);
  const out = {
    policy: policyName, guaranteePaperGbit, efficiency,
    reactionTicks: ticksUntilHeld(g, 0, N, 0.98 * target),
    attainment: round(mean(g, 50, N) / target),
    cov: round(cov(g, 50, N)),
    utilization: round(mean(rig.totals, 50, N) / (EMULATED_PORT_BPS * efficiency)),
  };
  rig.host.setTraffic('g', { flows: 0 });
  await rig.run(50);
  return { ...out, reclaimTicks: ticksUntilHeld(rig.totals, N, N + 50, 0.95 * EMULATED_PORT_BPS * efficiency) };
}

async function adaptability(policyName: string, efficiency: number) {
  const rig = makeRig(createPolicy(policyName), { g: guarantee(paper(10)) }, { efficiency });
  rig.host.addVm('g', { flows: 1, perFlowLimitBps: G_DEMAND });
  for (let i = 1; i <= 7; i++) rig.host.addVm(`be${i}`, { flows: 0 });
  const phase = 50;
  await rig.run(phase);
  const phases = [];
  for (let k = 1; k <= 7; k++) {
    const t0 = rig.totals.length;
    rig.host.setTraffic(`be${k}`, { flows: 2 });
    await rig.run(phase);
    const g = rig.rates.get('g')!;
    phases.push({ beSending: k, reactionTicks: ticksUntilHeld(g, t0, t0 + phase, 0.98 * paper(10)), attainment: round(mean(g, t0 + 10, t0 + phase) / paper(10)), utilization: round(mean(rig.totals, t0 + 10, t0 + phase) / (EMULATED_PORT_BPS * efficiency)) });
  }
  return { policy: policyName, efficiency, phases };
}

const results = [];
for (const p of ['daqs', 'paper', 'fair']) results.push(await bench(p));
console.log(JSON.stringify({ bench: 'sim', vms: VMS, guaranteeVms: GUARANTEE_VMS, ticks: TICKS, warmupTicks: WARMUP_TICKS, periodMs: TICK_MS, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAvg1m: round(loadavg()[0]!), results }));

const scenarios = { contention: [] as unknown[], adaptability: [] as unknown[] };
for (const p of ['daqs', 'paper', 'static']) {
  for (const eff of [1, 0.94]) {
    for (const g of [10, 15, 20]) scenarios.contention.push(await contention(p, g, eff));
    scenarios.adaptability.push(await adaptability(p, eff));
  }
}
console.log(JSON.stringify({ bench: 'sim-scenarios', emulatedPortBps: EMULATED_PORT_BPS, scale: 20, tickMs: TICK_MS, gDemandPaperGbit: 18.5, ...scenarios }));
