/**
 * The summary table (policy × measures) printed after a run and by `npm run bench`, and the
 * compact JSON summary printed with --json.
 */
import { renderTable } from '../util/text-table.ts';
import type { ExperimentResult } from './result.ts';

function cell(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined ? '-' : v.toFixed(digits);
}

/** A reaction or reclaim time for a table or caption: ticks, `never×k` when k never got there, `n/a` when none applied. */
export function timeCell(ticks: number | null, missed: number): string {
  return missed > 0 ? `never×${missed}` : ticks === null ? 'n/a' : String(ticks);
}

/** A fixed-width text table: one row per policy with the issue's measures. */
export function renderSummaryTable(r: ExperimentResult): string {
  const head = ['policy', 'minAttain', 'meanUtil', 'maxReact(ticks)', 'maxReclaim(ticks)', 'gCoV', 'note'];
  const rows = r.policies.map((p) => {
    const s = p.summary;
    if (!s) return [p.name, '-', '-', '-', '-', '-', p.error ? `${p.error.code}` : 'no data'];
    return [p.name, cell(s.minAttainment, 3), cell(s.meanUtilization, 3), timeCell(s.maxReactionTicks, s.reactionMissed), timeCell(s.maxReclaimTicks, s.reclaimMissed), cell(s.gCoV, 3), p.error?.code ?? ''];
  });
  const demands = demandsOf(r);
  const demandText = demands.length === 0 ? '' : `, demand alone ${demands.map((d) => `${d.label} ${(d.paperBps / 1e9).toFixed(2)}`).join(', ')} Gbit/s (paper)`;
  const lines = [
    `${r.scenario}: scale ×${r.scale.factor} (emulated ${r.scale.emulatedCapacityBps / 1e9} Gbit/s = paper ${r.scale.paperCapacityBps / 1e9} Gbit/s)${demandText}`,
    ...renderTable(head, rows, { rule: true }),
  ];
  // With several Guarantee VMs, each one's worst attainment: minAttain above is the worst of these.
  const gLabels = r.series.vms.filter((v) => v.role === 'guarantee');
  if (gLabels.length > 1) {
    const byVm = (p: ExperimentResult['policies'][number], vm: number): string => cell(p.summary?.minAttainmentByVm.find((x) => x.vmIndex === vm)?.minAttainment, 3);
    lines.push('', ...renderTable(['policy', ...gLabels.map((v) => `minAttain ${v.label}`)], r.policies.map((p) => [p.name, ...gLabels.map((v) => byVm(p, v.index))]), { rule: true }));
  }
  return lines.join('\n');
}

/** Each Guarantee VM's demand alone (D_G), paper units, as the phases recorded it. */
function demandsOf(r: ExperimentResult): { label: string; paperBps: number }[] {
  const seen = new Map<number, number>();
  for (const v of r.policies.flatMap((p) => p.phases.flatMap((ph) => ph.gVms))) if (!seen.has(v.vmIndex)) seen.set(v.vmIndex, v.gDemand.paperBps);
  return [...seen].sort((a, b) => a[0] - b[0]).map(([vm, paperBps]) => ({ label: r.series.vms[vm]?.label ?? `vm${vm}`, paperBps }));
}

/** The per-phase numbers in paper Gbit/s, one row per policy and phase, for a closer look. */
export function renderPhaseTable(r: ExperimentResult): string {
  const head = ['policy', 'phase', 'G', 'BE', 'total', 'delivered', 'attain', 'util', 'react(s)', 'reclaim(s)', 'gCoV'];
  const rows: string[][] = [];
  for (const p of r.policies) {
    for (const ph of p.phases) {
      const ev = (e: typeof ph.reaction): string => (e === undefined ? '' : e.reached ? cell(e.seconds, 1) : `>${e.windowS.toFixed(1)}`);
      rows.push([p.name, ph.label, cell(ph.g.paperBps / 1e9, 2), cell(ph.be.paperBps / 1e9, 2), cell(ph.total.paperBps / 1e9, 2), cell(ph.delivered.paperBps / 1e9, 2), cell(ph.attainment, 3), cell(ph.utilization, 3), ev(ph.reaction), ev(ph.reclaim), cell(ph.gCoV, 3)]);
    }
  }
  return [...renderTable(head, rows, { rule: true }), '(Gbit/s, paper units. G, BE, total: VF counters; delivered: what the port sent on; util = delivered / baseline delivered)'].join('\n');
}

/** What --json prints: where the files are and each policy's summary or error. */
export function summaryJson(r: ExperimentResult, files: Record<string, unknown>): Record<string, unknown> {
  return {
    scenario: r.scenario,
    scale: r.scale.factor,
    files,
    policies: Object.fromEntries(r.policies.map((p) => [p.name, p.summary ? { ...p.summary, error: p.error } : { error: p.error }])),
  };
}
