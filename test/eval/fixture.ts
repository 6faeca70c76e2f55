/**
 * A synthetic, internally consistent experiment result shaped like the paper's numbers, for
 * the writer, validator and figure tests. Built through the real measures so it is valid.
 */
import { attainment, summarize, utilization } from '../../src/eval/measures.ts';
import { RESULT_SCHEMA, throughput, type ExperimentResult, type GuaranteeVmResult, type PhaseResult, type ScenarioName } from '../../src/eval/result.ts';

export const POLICIES = ['baseline', 'static', 'paper', 'daqs', 'oracle'] as const;
const SCALE = 20;
const CAP = 2e9;
const G_DEMAND = 0.925e9;

/** G and BE rates (emulated) per policy for a phase, roughly like Fig. 3 / Fig. 4. */
function rates(policy: string, guaranteeBps: number, activeBe: number): { g: number; be: number } {
  if (activeBe === 0) return { g: G_DEMAND, be: 0 };
  switch (policy) {
    case 'baseline': return { g: 0.35e9, be: 1.5e9 };
    case 'static': return { g: Math.min(G_DEMAND, 0.4e9 + guaranteeBps * 0.3), be: Math.min(1.45e9, CAP - guaranteeBps) * 0.9 };
    case 'paper': return { g: Math.min(G_DEMAND, guaranteeBps), be: 1.75e9 - Math.min(G_DEMAND, guaranteeBps) };
    default: return { g: Math.min(G_DEMAND, guaranteeBps) * 1.01, be: 1.83e9 - Math.min(G_DEMAND, guaranteeBps) * 1.01 };
  }
}

/** Share of min(guarantee, demand) each policy gives every Guarantee VM when several compete. */
const SHARE: Readonly<Record<string, number>> = { baseline: 0.6, static: 0.8, paper: 0.9, daqs: 1.01, oracle: 1 };

interface PhaseDef {
  readonly index: number;
  readonly label: string;
  readonly activeBe: number;
  readonly gVms: readonly { vmIndex: number; guaranteeBps: number }[];
}

const MULTI_G = [0.25e9, 0.5e9, 0.75e9].map((guaranteeBps, vmIndex) => ({ vmIndex, guaranteeBps }));

function phaseDefsOf(scenario: ScenarioName): { defs: PhaseDef[]; vmCount: number } {
  switch (scenario) {
    case 'contention':
      return { vmCount: 2, defs: [10e9, 15e9, 20e9].map((gp, i) => ({ index: i, label: `${gp / 1e9} Gbit/s`, activeBe: 1, gVms: [{ vmIndex: 0, guaranteeBps: gp / SCALE }] })) };
    case 'adaptability':
      return { vmCount: 4, defs: [0, 1, 2, 3].map((n) => ({ index: n, label: `${n} BE sending`, activeBe: n, gVms: [{ vmIndex: 0, guaranteeBps: 10e9 / SCALE }] })) };
    case 'multi':
      return { vmCount: 6, defs: [0, 1, 2, 3].map((n) => ({ index: n, label: `${n} BE sending`, activeBe: n, gVms: MULTI_G })) };
    case 'churn':
      // Two Guarantee VMs, four Best-Effort VMs; the last phase has no Guarantee VM sending.
      return {
        vmCount: 6,
        defs: [
          { index: 0, label: '#0 start G1 G2 BE1', activeBe: 1, gVms: MULTI_G.slice(0, 2) },
          { index: 1, label: '#1 +BE2 BE3', activeBe: 3, gVms: MULTI_G.slice(0, 2) },
          { index: 2, label: '#2 G1 off', activeBe: 3, gVms: MULTI_G.slice(1, 2) },
          { index: 3, label: '#3 G2 off', activeBe: 3, gVms: [] },
        ],
      };
  }
}

function gVmsOf(name: string, p: PhaseDef): GuaranteeVmResult[] {
  return p.gVms.map((s) => {
    const g = p.gVms.length === 1 ? rates(name, s.guaranteeBps, p.activeBe).g : p.activeBe === 0 ? G_DEMAND * 0.7 : Math.min(G_DEMAND, s.guaranteeBps) * (SHARE[name] ?? 1);
    return {
      vmIndex: s.vmIndex,
      guarantee: throughput(s.guaranteeBps, SCALE),
      gDemand: throughput(G_DEMAND, SCALE),
      g: throughput(g, SCALE),
      attainment: attainment(g, s.guaranteeBps, G_DEMAND),
      gCoV: 0.02,
      ...(p.activeBe > 0 ? { reaction: { reached: name !== 'baseline', ticks: name === 'baseline' ? null : 3, seconds: name === 'baseline' ? null : 0.6, windowS: 2 } } : {}),
    };
  });
}

/** A complete, valid result of `scenario` with every policy. */
export function syntheticResult(scenario: ScenarioName): ExperimentResult {
  const { defs: phaseDefs, vmCount } = phaseDefsOf(scenario);
  const perSample = 10;
  const gCount = Math.max(1, ...phaseDefs.flatMap((p) => p.gVms.map((v) => v.vmIndex + 1)));
  const series: ExperimentResult['series']['policies'] = {};
  // The port delivers at most its capacity; the VF counters also count what it dropped.
  const delivered = (total: number): number => Math.min(total, 0.97 * CAP);
  const beOf = (name: string, p: PhaseDef): number => (p.activeBe === 0 ? 0 : rates(name, p.gVms[0]?.guaranteeBps ?? 0, p.activeBe).be);
  const baselineTotals = phaseDefs.map((p) => gVmsOf('baseline', p).reduce((a, v) => a + v.g.emulatedBps, 0) + beOf('baseline', p));
  const policies = POLICIES.map((name) => {
    const phases: PhaseResult[] = phaseDefs.map((p, i) => {
      const gVms = gVmsOf(name, p);
      const g = gVms.reduce((a, v) => a + v.g.emulatedBps, 0);
      const be = beOf(name, p);
      const baselineTotal = baselineTotals[i] as number;
      const reactions = gVms.flatMap((v) => (v.reaction ? [v.reaction] : []));
      return {
        index: p.index,
        label: p.label,
        activeBeVms: p.activeBe,
        gVms,
        guarantee: throughput(gVms.reduce((a, v) => a + v.guarantee.emulatedBps, 0), SCALE),
        gDemand: throughput(gVms.reduce((a, v) => a + v.gDemand.emulatedBps, 0), SCALE),
        g: throughput(g, SCALE),
        be: throughput(be, SCALE),
        total: throughput(g + be, SCALE),
        baselineTotal: throughput(baselineTotal, SCALE),
        delivered: throughput(delivered(g + be), SCALE),
        baselineDelivered: throughput(delivered(baselineTotal), SCALE),
        attainment: gVms.length === 0 ? null : Math.min(...gVms.map((v) => v.attainment)),
        utilization: utilization(delivered(g + be), delivered(baselineTotal)),
        utilizationVfSide: utilization(g + be, baselineTotal),
        gCoV: gVms.length === 0 ? null : 0.02,
        samples: perSample,
        ...(reactions[0] ? { reaction: reactions[0] } : {}),
      };
    });
    const tS: number[] = [];
    const phase: number[] = [];
    const ratesBps: number[][] = Array.from({ length: vmCount }, () => []);
    const portBps: number[] = [];
    phases.forEach((p, i) => {
      for (let k = 0; k < perSample; k++) {
        tS.push((i * perSample + k + 1) * 0.2);
        phase.push(p.index);
        const wobble = 1 + 0.03 * Math.sin(k);
        for (let v = 0; v < gCount; v++) ratesBps[v]?.push((p.gVms.find((x) => x.vmIndex === v)?.g.emulatedBps ?? 0) * wobble);
        const beActive = Math.max(1, p.activeBeVms);
        for (let v = gCount; v < vmCount; v++) ratesBps[v]?.push(v - gCount < p.activeBeVms ? p.be.emulatedBps / beActive : 0);
        portBps.push(p.delivered.emulatedBps);
      }
    });
    series[name] = { tS, phase, ratesBps, portBps };
    return { name, phases, summary: summarize(phases), error: null };
  });
  return {
    schema: RESULT_SCHEMA,
    scenario,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    parameters: { policies: [...POLICIES], phaseSeconds: 2, vms: Array.from({ length: vmCount }, (_, index) => ({ index, threads: index + 1 })) },
    scale: { factor: SCALE, paperCapacityBps: 40e9, emulatedCapacityBps: CAP },
    machine: { hostname: 'test', kernel: '6.1.0', cpus: 2, cpuModel: 'synthetic', node: 'v20', memBytes: 1 },
    phases: phaseDefs.map((p) => ({ index: p.index, label: p.label })),
    policies,
    series: {
      periodMs: 200,
      tickMs: 200,
      vms: Array.from({ length: vmCount }, (_, i) => ({
        index: i,
        role: i < gCount ? 'guarantee' as const : 'best-effort' as const,
        label: i < gCount ? (gCount === 1 ? 'g' : `g${i + 1}`) : `be${i - gCount + 1}`,
      })),
      policies: series,
    },
  };
}
