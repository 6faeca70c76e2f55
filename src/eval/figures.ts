/**
 * The figures of a result, in paper units (Gbit/s at 40 Gbit/s): grouped, stacked bars for
 * `contention` (cf. Fig. 3), throughput over time per policy (`adaptability` as in Fig. 4,
 * `multi` one line per Guarantee VM, `churn` with every change marked), and per Guarantee VM
 * attainment bars for `multi`. Pure string rendering; figure-files.ts writes them and
 * converts to PNG.
 */
import type { ExperimentResult, PhaseResult, PolicyResult } from './result.ts';
import { GUARANTEE_MET_FRAC } from '../core/guarantee.ts';
import { timeCell } from './table.ts';
import { el, group, linearScale, niceTicks, polyline, svgDocument, text, tickLabel } from './svg.ts';

/** Colours shared by the figures (colour-blind safe Okabe–Ito hues). */
export const COLORS = { g: '#0072B2', be: '#E69F00', total: '#222222', guarantee: '#D55E00', demand: '#777777', grid: '#e4e4e4' } as const;

/** One colour per Guarantee VM when each is drawn on its own (blue, sky blue, bluish green, purple). */
const G_COLORS = ['#0072B2', '#56B4E9', '#009E73', '#CC79A7'] as const;

function gColor(k: number): string {
  return G_COLORS[k % G_COLORS.length] as string;
}

/** One bar colour per policy in the attainment figure. */
const POLICY_COLORS: Readonly<Record<string, string>> = { baseline: '#999999', static: '#E69F00', paper: '#56B4E9', daqs: '#0072B2', oracle: '#009E73' };

const GBIT = 1e9;

function gbit(bps: number): string {
  return (bps / GBIT).toFixed(1);
}

function scaleNote(r: ExperimentResult): string {
  return `Paper units: emulated port ${gbit(r.scale.emulatedCapacityBps)} Gbit/s × ${tickLabel(r.scale.factor)} = ${gbit(r.scale.paperCapacityBps)} Gbit/s. ` +
    `${r.machine.cpus} CPUs, kernel ${r.machine.kernel}, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC.`;
}

function legendItem(x: number, y: number, kind: 'box' | 'line' | 'dash' | 'dot', color: string, label: string): string {
  const mark = kind === 'box'
    ? el('rect', { x, y: y - 10, width: 14, height: 12, fill: color })
    : el('line', { x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: color, 'stroke-width': kind === 'line' ? 2.5 : 2, 'stroke-dasharray': kind === 'dash' ? '7 4' : kind === 'dot' ? '2 3' : undefined });
  return mark + text(x + (kind === 'box' ? 20 : 28), y, label, { 'font-size': 13 });
}

function yAxis(x0: number, x1: number, y: (v: number) => number, ticks: readonly number[], label: string, labelY: number, unit = GBIT): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    out.push(el('line', { x1: x0, y1: y(t), x2: x1, y2: y(t), stroke: COLORS.grid, 'stroke-width': 1 }));
    out.push(text(x0 - 6, y(t) + 4, tickLabel(t / unit), { 'text-anchor': 'end', 'font-size': 12 }));
  }
  out.push(text(18, labelY, label, { 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(-90 18 ${labelY})` }));
  return out;
}

function failedNote(p: PolicyResult): string {
  return p.error ? `${p.name}: failed (${p.error.code})` : `${p.name}: no data`;
}

/** Where a bar goes: its left edge, width and centre. */
interface BarBox {
  readonly bx: number;
  readonly bw: number;
  readonly cx: number;
}

/** A chart of groups (guarantees, Guarantee VMs) with one bar per policy in each. */
interface GroupedBars {
  readonly height: number;
  readonly m: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly plotW: number;
  readonly plotH: number;
  readonly groups: number;
  readonly policies: readonly PolicyResult[];
  /** The value axis (zero at the bottom of the plot). */
  readonly y: (v: number) => number;
  /** One bar's marks; null when the policy has nothing for this group (a red × is drawn). */
  bar(groupIndex: number, pol: PolicyResult, box: BarBox): string[] | null;
  /** What the group adds beyond its bars (a guarantee line, a caption), given its left edge and width. */
  groupMarks(groupIndex: number, gx: number, groupW: number): string[];
  /** data-* attributes that identify a bar in the document. */
  tag(groupIndex: number, pol: PolicyResult): Record<string, string | number>;
}

/** Bars, policy names under them, group separators, the zero line and a note naming failed policies. */
function groupedBars(c: GroupedBars): string[] {
  const out: string[] = [];
  const groupW = c.plotW / Math.max(1, c.groups);
  const barW = Math.min(46, (groupW * 0.84) / Math.max(1, c.policies.length));
  const y0 = c.y(0);
  for (let gi = 0; gi < c.groups; gi++) {
    const gx = c.m.left + gi * groupW;
    const x0 = gx + (groupW - barW * c.policies.length) / 2;
    c.policies.forEach((pol, pi) => {
      const bx = x0 + pi * barW + 2;
      const bw = barW - 4;
      const cx = bx + bw / 2;
      const marks = c.bar(gi, pol, { bx, bw, cx }) ?? [text(cx, y0 - 6, '×', { 'text-anchor': 'middle', 'font-size': 14, fill: '#a00' })];
      const ly = y0 + 10;
      marks.push(text(cx, ly, pol.name, { 'text-anchor': 'end', 'font-size': 11.5, transform: `rotate(-40 ${cx} ${ly})` }));
      out.push(group(marks, c.tag(gi, pol)));
    });
    out.push(...c.groupMarks(gi, gx, groupW));
    if (gi > 0) out.push(el('line', { x1: gx, y1: c.m.top, x2: gx, y2: c.m.top + c.plotH, stroke: '#ccc', 'stroke-width': 1 }));
  }
  out.push(el('line', { x1: c.m.left, y1: y0, x2: c.m.left + c.plotW, y2: y0, stroke: '#000', 'stroke-width': 1 }));
  const failed = c.policies.filter((p) => p.phases.length === 0 || p.error);
  if (failed.length > 0) out.push(text(c.m.left, c.height - 12, `Not shown: ${failed.map(failedNote).join('; ')}`, { 'font-size': 12, fill: '#a00' }));
  return out;
}

/**
 * Contention (cf. Fig. 3): one group per guarantee, one stacked bar per policy (G at the
 * bottom, BE on top, so the bar's height is the total), the guarantee as a dashed line
 * across its group and G's demand alone as a dotted line.
 */
export function renderContentionSvg(r: ExperimentResult): string {
  const width = 1180;
  const height = 600;
  const m = { left: 72, right: 24, top: 96, bottom: 116 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const policies = r.policies;
  const phases = r.phases;
  const all = policies.flatMap((p) => p.phases);
  const maxBps = Math.max(r.scale.paperCapacityBps, ...all.map((p) => p.total.paperBps), ...all.map((p) => p.guarantee.paperBps));
  const ticks = niceTicks(maxBps, 8);
  const y = linearScale(0, ticks[ticks.length - 1] ?? maxBps, m.top + plotH, m.top);
  const out: string[] = [];
  out.push(text(m.left, 30, 'Contention: Guarantee VM (1 thread) vs Best-Effort VM, per guarantee and policy (cf. paper Fig. 3)', { 'font-size': 18, 'font-weight': 'bold' }));
  out.push(text(m.left, 50, scaleNote(r), { 'font-size': 12, fill: '#444' }));
  let lx = m.left;
  for (const [kind, color, label] of [['box', COLORS.g, 'Guarantee VM (G)'], ['box', COLORS.be, 'Best-Effort VM(s) (BE)'], ['line', COLORS.total, 'port delivered'], ['dash', COLORS.guarantee, 'guarantee'], ['dot', COLORS.demand, 'G demand alone (D_G)']] as const) {
    out.push(legendItem(lx, 78, kind, color, label));
    lx += label.length * 8.4 + 36;
  }
  out.push(text(width - m.right, 50, 'Bar = G + BE sent by the VFs (number on top).', { 'text-anchor': 'end', 'font-size': 12, fill: '#444' }));
  out.push(...yAxis(m.left, m.left + plotW, y, ticks, 'Throughput (Gbit/s, paper units)', m.top + plotH / 2));
  out.push(...groupedBars({
    height, m, plotW, plotH, policies, y,
    groups: phases.length,
    tag: (gi, pol) => ({ 'data-policy': pol.name, 'data-phase': phases[gi]?.index ?? gi }),
    bar(gi, pol, { bx, bw, cx }) {
      const p = pol.phases.find((q) => q.index === phases[gi]?.index);
      if (!p) return null;
      const marks: string[] = [];
      marks.push(el('rect', { x: bx, y: y(p.g.paperBps), width: bw, height: y(0) - y(p.g.paperBps), fill: COLORS.g }));
      marks.push(el('rect', { x: bx, y: y(p.total.paperBps), width: bw, height: y(p.g.paperBps) - y(p.total.paperBps), fill: COLORS.be }));
      marks.push(text(cx, y(p.total.paperBps) - 4, gbit(p.total.paperBps), { 'text-anchor': 'middle', 'font-size': 10.5 }));
      // What the port delivered: below the bar top when the port's queue dropped some of it.
      marks.push(el('line', { x1: bx - 2, y1: y(p.delivered.paperBps), x2: bx + bw + 2, y2: y(p.delivered.paperBps), stroke: COLORS.total, 'stroke-width': 2.5 }));
      if (y(0) - y(p.g.paperBps) > 16) marks.push(text(cx, (y(0) + y(p.g.paperBps)) / 2 + 4, gbit(p.g.paperBps), { 'text-anchor': 'middle', 'font-size': 10, fill: '#fff' }));
      return marks;
    },
    groupMarks(gi, gx, groupW) {
      const ph = phases[gi];
      const marks: string[] = [];
      const guarantee = all.find((q) => q.index === ph?.index)?.guarantee.paperBps;
      if (guarantee !== undefined) {
        marks.push(el('line', { x1: gx + 6, y1: y(guarantee), x2: gx + groupW - 6, y2: y(guarantee), stroke: COLORS.guarantee, 'stroke-width': 2, 'stroke-dasharray': '7 4' }));
      }
      marks.push(text(gx + groupW / 2, y(0) + 84, `guarantee ${ph?.label ?? gi}`, { 'text-anchor': 'middle', 'font-size': 13.5, 'font-weight': 'bold' }));
      return marks;
    },
  }));
  const demand = all[0]?.gDemand.paperBps;
  if (demand !== undefined) {
    out.push(el('line', { x1: m.left, y1: y(demand), x2: m.left + plotW, y2: y(demand), stroke: COLORS.demand, 'stroke-width': 1.5, 'stroke-dasharray': '2 3' }));
  }
  return svgDocument(width, height, out);
}

const TIMESERIES_TITLES: Readonly<Record<ExperimentResult['scenario'], string>> = {
  contention: 'Contention over time: each phase is one guarantee (cf. paper Fig. 3)',
  adaptability: 'Adaptability: one more Best-Effort VM starts sending each phase (cf. paper Fig. 4)',
  multi: 'Multi: several Guarantee VMs, each against its own guarantee; one more Best-Effort VM each phase',
  churn: 'Churn: Best-Effort VMs start and stop, Guarantee VMs go off and on (each change marked)',
};

/** Phase starts and ends (seconds), labels and utilization of one policy's series. */
function phaseMarks(r: ExperimentResult, name: string): { tS: number; endS: number; label: string; utilization: number | undefined }[] {
  const s = r.series.policies[name];
  const pol = r.policies.find((p) => p.name === name);
  if (!s) return [];
  const marks: { tS: number; endS: number; label: string; utilization: number | undefined }[] = [];
  let prev = -2;
  s.phase.forEach((ph, i) => {
    const t = s.tS[i] ?? 0;
    if (ph >= 0 && ph !== prev) {
      const p = pol?.phases.find((q) => q.index === ph);
      const joining = r.scenario === 'adaptability' || r.scenario === 'multi';
      const label = joining ? `${p?.activeBeVms ?? ph} BE` : (r.phases.find((q) => q.index === ph)?.label ?? String(ph));
      marks.push({ tS: t - r.series.periodMs / 1000, endS: t, label, utilization: p?.utilization });
    }
    const last = marks[marks.length - 1];
    if (ph >= 0 && last) last.endS = t;
    prev = ph;
  });
  return marks;
}

/**
 * Throughput over time (cf. Fig. 4): one panel per policy on a shared time and rate axis,
 * G and total (and BE thin), the guarantee as a dashed line, phase starts as vertical lines.
 */
export function renderTimeseriesSvg(r: ExperimentResult): string {
  const width = 1180;
  const panelH = 150;
  const gap = 34;
  const m = { left: 72, right: 24, top: 124, bottom: 56 };
  const names = r.policies.map((p) => p.name);
  const height = m.top + names.length * (panelH + gap) - gap + m.bottom;
  const plotW = width - m.left - m.right;
  const scale = r.scale.factor;
  const gIdx = r.series.vms.filter((v) => v.role === 'guarantee').map((v) => v.index);
  const maxT = Math.max(1, ...Object.values(r.series.policies).map((s) => s.tS[s.tS.length - 1] ?? 0));
  // Switch-side counters see bursts above the port rate (queued or dropped at the port): the
  // axis stops at 1.25 × the port and lines are clipped to their panel, so one burst does not
  // squash every panel.
  const maxBps = r.scale.paperCapacityBps * 1.25;
  const ticks = niceTicks(maxBps, 5);
  const x = linearScale(0, maxT, m.left, m.left + plotW);
  const out: string[] = [];
  const title = TIMESERIES_TITLES[r.scenario];
  // Multi: each Guarantee VM on its own line against its own guarantee; elsewhere G is their sum.
  const eachG = r.scenario === 'multi' && gIdx.length > 1;
  out.push(text(m.left, 30, title, { 'font-size': 18, 'font-weight': 'bold' }));
  out.push(text(m.left, 50, `${scaleNote(r)} One sample every ${r.series.periodMs} ms.`, { 'font-size': 12, fill: '#444' }));
  let lx = m.left;
  const gLegend: [kind: 'line' | 'dash', color: string, label: string][] = eachG
    ? gIdx.map((vm, k) => ['line', gColor(k), r.series.vms[vm]?.label ?? `G${k + 1}`])
    : [['line', COLORS.g, gIdx.length > 1 ? 'Guarantee VMs (G, sum)' : 'Guarantee VM (G)']];
  const guaranteeLegend = eachG ? 'guarantee (dashed, in its colour)' : gIdx.length > 1 ? 'guarantees of the sending G VMs (sum)' : 'guarantee';
  const guaranteeColor = eachG ? COLORS.demand : COLORS.guarantee;
  for (const [kind, color, label] of [['line', COLORS.total, 'total (port delivered)'], ...gLegend, ['line', COLORS.be, 'Best-Effort VMs (BE, sum)'], ['dash', guaranteeColor, guaranteeLegend]] as const) {
    out.push(legendItem(lx, 78, kind, color, label));
    lx += label.length * 8.4 + 52;
  }
  names.forEach((name, pi) => {
    const top = m.top + pi * (panelH + gap);
    const y = linearScale(0, ticks[ticks.length - 1] ?? maxBps, top + panelH, top);
    const marks: string[] = [];
    const pol = r.policies.find((p) => p.name === name);
    const sum = pol?.summary;
    const caption = sum ? `${name} — min attainment ${sum.minAttainment.toFixed(2)}, mean utilization ${sum.meanUtilization.toFixed(2)}, G CoV ${sum.gCoV.toFixed(3)}, reaction ${timeCell(sum.maxReactionTicks, sum.reactionMissed)}, reclaim ${timeCell(sum.maxReclaimTicks, sum.reclaimMissed)} ticks` : `${name} — ${pol ? failedNote(pol) : 'no data'}`;
    marks.push(text(m.left, top - 8, caption, { 'font-size': 13.5, 'font-weight': 'bold' }));
    marks.push(...yAxis(m.left, m.left + plotW, y, ticks, 'Gbit/s', top + panelH / 2));
    // Many changes (churn): labels step down in three rows so neighbours do not overlap, and
    // each phase shows its utilization (delivered / baseline delivered) along the bottom.
    phaseMarks(r, name).forEach((ph, k, all) => {
      const row = all.length > 12 ? k % 3 : 0;
      marks.push(el('line', { x1: x(ph.tS), y1: top, x2: x(ph.tS), y2: top + panelH, stroke: '#999', 'stroke-width': 1, 'stroke-dasharray': '3 3' }));
      marks.push(text(x(ph.tS) + 3, top + 12 + row * 11, ph.label, { 'font-size': all.length > 12 ? 9 : 10.5, fill: '#555' }));
      if (r.scenario === 'churn' && ph.utilization !== undefined) {
        marks.push(text((x(ph.tS) + x(ph.endS)) / 2, top + panelH - 4, `U ${ph.utilization.toFixed(2)}`, { 'text-anchor': 'middle', 'font-size': 9, fill: '#333' }));
      }
    });
    const s = r.series.policies[name];
    const clipId = `clip-${pi}`;
    marks.push(`<clipPath id="${clipId}">${el('rect', { x: m.left, y: top - 1, width: plotW, height: panelH + 2 })}</clipPath>`);
    const lines: string[] = [];
    if (s) {
      const rateOf = (vms: readonly number[]): number[] => s.tS.map((_, i) => vms.reduce((acc, k) => acc + (s.ratesBps[k]?.[i] ?? 0), 0) * scale);
      const be = rateOf(r.series.vms.filter((v) => v.role !== 'guarantee').map((v) => v.index));
      const delivered = s.portBps.map((v) => v * scale);
      const pts = (vals: number[]) => vals.map((v, i) => [x(s.tS[i] ?? 0), y(v)] as const);
      lines.push(polyline(pts(be), { stroke: COLORS.be, 'stroke-width': 1.2 }));
      lines.push(polyline(pts(delivered), { stroke: COLORS.total, 'stroke-width': 2 }));
      const phaseOf = new Map(pol?.phases.map((p) => [p.index, p]) ?? []);
      // A guarantee line follows the phases: it changes per phase and is absent outside them.
      const guaranteeLine = (valueOf: (p: PhaseResult) => number | undefined, color: string): void => {
        let seg: (readonly [number, number])[] = [];
        const flush = (): void => {
          if (seg.length > 1) lines.push(polyline(seg, { stroke: color, 'stroke-width': 2, 'stroke-dasharray': '7 4' }));
          seg = [];
        };
        s.phase.forEach((ph, i) => {
          const p = phaseOf.get(ph);
          const gv = p ? valueOf(p) : undefined;
          if (gv === undefined) flush();
          else seg.push([x(s.tS[i] ?? 0), y(gv)]);
        });
        flush();
      };
      if (eachG) {
        gIdx.forEach((vm, k) => {
          lines.push(polyline(pts(rateOf([vm])), { stroke: gColor(k), 'stroke-width': 1.8 }));
          guaranteeLine((p) => p.gVms.find((v) => v.vmIndex === vm)?.guarantee.paperBps, gColor(k));
        });
      } else {
        lines.push(polyline(pts(rateOf(gIdx)), { stroke: COLORS.g, 'stroke-width': 2 }));
        // The guarantee of the phase each sample belongs to (the sum over the Guarantee VMs sending then).
        guaranteeLine((p) => (p.gVms.length > 0 ? p.guarantee.paperBps : undefined), COLORS.guarantee);
      }
    }
    marks.push(group(lines, { 'clip-path': `url(#${clipId})` }));
    marks.push(el('line', { x1: m.left, y1: top + panelH, x2: m.left + plotW, y2: top + panelH, stroke: '#000', 'stroke-width': 1 }));
    out.push(group(marks, { 'data-policy': name }));
  });
  const axisY = height - m.bottom + 4;
  for (const t of niceTicks(maxT, 10)) {
    if (t > maxT) continue;
    out.push(text(x(t), axisY + 14, tickLabel(t), { 'text-anchor': 'middle', 'font-size': 12 }));
  }
  out.push(text(m.left + plotW / 2, axisY + 36, "Time since this policy's run began (s), policy set-up included", { 'text-anchor': 'middle', 'font-size': 13 }));
  return svgDocument(width, height, out);
}

/**
 * Multi: attainment per Guarantee VM. One group per Guarantee VM (its guarantee, threads and
 * demand alone), one bar per policy: its worst phase (the summary's minAttainmentByVm);
 * 1 = min(guarantee, demand alone) held, the dotted line is the "guarantee met" bar (0.95).
 */
export function renderAttainmentSvg(r: ExperimentResult, metFrac = GUARANTEE_MET_FRAC): string {
  const width = 1180;
  const height = 560;
  const m = { left: 72, right: 24, top: 96, bottom: 110 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const policies = r.policies;
  const gVms = r.series.vms.filter((v) => v.role === 'guarantee');
  const params = r.parameters as { vms?: { index: number; threads: number }[] };
  const worstOf = (p: PolicyResult, vm: number): number | null => {
    const xs = p.phases.flatMap((ph) => ph.gVms.filter((v) => v.vmIndex === vm).map((v) => v.attainment));
    return xs.length === 0 ? null : Math.min(...xs);
  };
  const all = policies.flatMap((p) => gVms.map((v) => worstOf(p, v.index) ?? 0));
  const maxA = Math.max(1.2, ...all);
  const ticks = niceTicks(maxA, 6);
  const y = linearScale(0, ticks[ticks.length - 1] ?? maxA, m.top + plotH, m.top);
  const out: string[] = [];
  out.push(text(m.left, 30, 'Multi: attainment of each Guarantee VM, worst phase, per policy', { 'font-size': 18, 'font-weight': 'bold' }));
  out.push(text(m.left, 50, scaleNote(r), { 'font-size': 12, fill: '#444' }));
  let lx = m.left;
  for (const p of policies) {
    out.push(legendItem(lx, 78, 'box', POLICY_COLORS[p.name] ?? COLORS.demand, p.name));
    lx += p.name.length * 8.4 + 36;
  }
  out.push(legendItem(lx, 78, 'dot', COLORS.guarantee, `guarantee met (${metFrac})`));
  out.push(text(width - m.right, 78, 'bar: worst phase of G / min(guarantee, demand alone)', { 'text-anchor': 'end', 'font-size': 12, fill: '#444' }));
  out.push(...yAxis(m.left, m.left + plotW, y, ticks, 'Attainment', m.top + plotH / 2, 1));
  out.push(...groupedBars({
    height, m, plotW, plotH, policies, y,
    groups: gVms.length,
    tag: (gi, pol) => ({ 'data-policy': pol.name, 'data-vm': gVms[gi]?.index ?? gi }),
    bar(gi, pol, { bx, bw, cx }) {
      const a = worstOf(pol, gVms[gi]?.index ?? -1);
      if (a === null) return null;
      return [
        el('rect', { x: bx, y: y(a), width: bw, height: y(0) - y(a), fill: POLICY_COLORS[pol.name] ?? COLORS.demand }),
        text(cx, y(a) - 4, a.toFixed(2), { 'text-anchor': 'middle', 'font-size': 10.5 }),
      ];
    },
    groupMarks(gi, gx, groupW) {
      const vm = gVms[gi];
      const ph = policies.flatMap((p) => p.phases.flatMap((q) => q.gVms)).find((v) => v.vmIndex === vm?.index);
      const threads = params.vms?.find((v) => v.index === vm?.index)?.threads;
      return [
        text(gx + groupW / 2, y(0) + 74, `${vm?.label ?? gi}: guarantee ${ph ? gbit(ph.guarantee.paperBps) : '?'} Gbit/s`, { 'text-anchor': 'middle', 'font-size': 13.5, 'font-weight': 'bold' }),
        text(gx + groupW / 2, y(0) + 92, `${threads ?? '?'} thread${threads === 1 ? '' : 's'}, alone ${ph ? gbit(ph.gDemand.paperBps) : '?'} Gbit/s`, { 'text-anchor': 'middle', 'font-size': 12 }),
      ];
    },
  }));
  out.push(el('line', { x1: m.left, y1: y(1), x2: m.left + plotW, y2: y(1), stroke: COLORS.total, 'stroke-width': 1.2 }));
  out.push(el('line', { x1: m.left, y1: y(metFrac), x2: m.left + plotW, y2: y(metFrac), stroke: COLORS.guarantee, 'stroke-width': 1.5, 'stroke-dasharray': '2 3' }));
  return svgDocument(width, height, out);
}
