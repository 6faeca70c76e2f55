/**
 * A synthetic, internally consistent experiment result shaped like the paper's numbers, for
 * the writer, validator and figure tests. Built through the real measures so it is valid.
 */
import { attainment, summarize, utilization } from '../../src/eval/measures.ts';
import { RESULT_SCHEMA, throughput, type ExperimentResult, type PhaseResult, type ScenarioName } from '../../src/eval/result.ts';

export const POLICIES = ['baseline', 'static', 'paper', 'daqs', 'oracle'] as const;
const SCALE = 20;
const CAP = 2e9;

/** G and BE rates (emulated) per policy for a phase, roughly like Fig. 3 / Fig. 4. */
function rates(policy: string, guaranteeBps: number, activeBe: number): { g: number; be: number } {
  const gDemand = 0.925e9;
  if (activeBe === 0) return { g: gDemand, be: 0 };
  switch (policy) {
    case 'baseline': return { g: 0.35e9, be: 1.5e9 };
    case 'static': return { g: Math.min(gDemand, 0.4e9 + guaranteeBps * 0.3), be: Math.min(1.45e9, CAP - guaranteeBps) * 0.9 };
    case 'paper': return { g: Math.min(gDemand, guaranteeBps), be: 1.75e9 - Math.min(gDemand, guaranteeBps) };
    default: return { g: Math.min(gDemand, guaranteeBps) * 1.01, be: 1.83e9 - Math.min(gDemand, guaranteeBps) * 1.01 };
  }
}

export function syntheticResult(scenario: ScenarioName): ExperimentResult {
  const phaseDefs = scenario === 'contention'
    ? [10e9, 15e9, 20e9].map((gp, i) => ({ index: i, label: `${gp / 1e9} Gbit/s`, guaranteeBps: gp / SCALE, activeBe: 1 }))
    : [0, 1, 2, 3].map((n) => ({ index: n, label: `${n} BE sending`, guaranteeBps: 10e9 / SCALE, activeBe: n }));
  const perSample = 10;
  const vmCount = scenario === 'contention' ? 2 : 4;
  const series: ExperimentResult['series']['policies'] = {};
  const baselineTotals = phaseDefs.map((p) => { const r = rates('baseline', p.guaranteeBps, p.activeBe); return r.g + r.be; });
  // The port delivers at most its capacity; the VF counters also count what it dropped.
  const delivered = (total: number): number => Math.min(total, 0.97 * CAP);
  const policies = POLICIES.map((name) => {
    const phases: PhaseResult[] = phaseDefs.map((p, i) => {
      const { g, be } = rates(name, p.guaranteeBps, p.activeBe);
      const baselineTotal = baselineTotals[i] as number;
      const demand = 0.925e9;
      return {
        index: p.index,
        label: p.label,
        activeBeVms: p.activeBe,
        guarantee: throughput(p.guaranteeBps, SCALE),
        gDemand: throughput(demand, SCALE),
        g: throughput(g, SCALE),
        be: throughput(be, SCALE),
        total: throughput(g + be, SCALE),
        baselineTotal: throughput(baselineTotal, SCALE),
        delivered: throughput(delivered(g + be), SCALE),
        baselineDelivered: throughput(delivered(baselineTotal), SCALE),
        attainment: attainment(g, p.guaranteeBps, demand),
        utilization: utilization(delivered(g + be), delivered(baselineTotal)),
        utilizationVfSide: utilization(g + be, baselineTotal),
        gCoV: 0.02,
        samples: perSample,
        ...(p.activeBe > 0 ? { reaction: { reached: name !== 'baseline', ticks: name === 'baseline' ? null : 3, seconds: name === 'baseline' ? null : 0.6, windowS: 2 } } : {}),
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
        ratesBps[0]?.push(p.g.emulatedBps * wobble);
        const beActive = Math.max(1, p.activeBeVms);
        for (let v = 1; v < vmCount; v++) ratesBps[v]?.push(v <= p.activeBeVms ? p.be.emulatedBps / beActive : 0);
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
    parameters: { policies: [...POLICIES], phaseSeconds: 2 },
    scale: { factor: SCALE, paperCapacityBps: 40e9, emulatedCapacityBps: CAP },
    machine: { hostname: 'test', kernel: '6.1.0', cpus: 2, cpuModel: 'synthetic', node: 'v20', memBytes: 1 },
    phases: phaseDefs.map((p) => ({ index: p.index, label: p.label })),
    policies,
    series: {
      periodMs: 200,
      tickMs: 200,
      vms: Array.from({ length: vmCount }, (_, i) => ({ index: i, role: i === 0 ? 'guarantee' as const : 'best-effort' as const, label: i === 0 ? 'g' : `be${i}` })),
      policies: series,
    },
  };
}
