/**
 * The paper's figures from a result, in paper units (Gbit/s at 40 Gbit/s): grouped, stacked
 * bars for `contention` (cf. Fig. 3) and throughput over time per policy for `adaptability`
 * (cf. Fig. 4). Pure string rendering; figure-files.ts writes them and converts to PNG.
 */
import type { ExperimentResult, PolicyResult } from './result.ts';
import { el, group, linearScale, niceTicks, polyline, svgDocument, text, tickLabel } from './svg.ts';

/** Colours shared by both figures (colour-blind safe Okabe–Ito hues). */
export const COLORS = { g: '#0072B2', be: '#E69F00', total: '#222222', guarantee: '#D55E00', demand: '#777777', grid: '#e4e4e4' } as const;

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

function yAxis(x0: number, x1: number, y: (v: number) => number, ticks: readonly number[], label: string, labelY: number): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    out.push(el('line', { x1: x0, y1: y(t), x2: x1, y2: y(t), stroke: COLORS.grid, 'stroke-width': 1 }));
    out.push(text(x0 - 6, y(t) + 4, tickLabel(t / GBIT), { 'text-anchor': 'end', 'font-size': 12 }));
  }
  out.push(text(18, labelY, label, { 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(-90 18 ${labelY})` }));
  return out;
}

function failedNote(p: PolicyResult): string {
  return p.error ? `${p.name}: failed (${p.error.code})` : `${p.name}: no data`;
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
  const groupW = plotW / phases.length;
  const barW = Math.min(46, (groupW * 0.84) / policies.length);
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
  phases.forEach((ph, gi) => {
    const gx = m.left + gi * groupW;
    const x0 = gx + (groupW - barW * policies.length) / 2;
    policies.forEach((pol, pi) => {
      const p = pol.phases.find((q) => q.index === ph.index);
      const bx = x0 + pi * barW + 2;
      const bw = barW - 4;
      const cx = bx + bw / 2;
      const marks: string[] = [];
      if (p) {
        marks.push(el('rect', { x: bx, y: y(p.g.paperBps), width: bw, height: y(0) - y(p.g.paperBps), fill: COLORS.g }));
        marks.push(el('rect', { x: bx, y: y(p.total.paperBps), width: bw, height: y(p.g.paperBps) - y(p.total.paperBps), fill: COLORS.be }));
        marks.push(text(cx, y(p.total.paperBps) - 4, gbit(p.total.paperBps), { 'text-anchor': 'middle', 'font-size': 10.5 }));
        // What the port delivered: below the bar top when the port's queue dropped some of it.
        marks.push(el('line', { x1: bx - 2, y1: y(p.delivered.paperBps), x2: bx + bw + 2, y2: y(p.delivered.paperBps), stroke: COLORS.total, 'stroke-width': 2.5 }));
        if (y(0) - y(p.g.paperBps) > 16) marks.push(text(cx, (y(0) + y(p.g.paperBps)) / 2 + 4, gbit(p.g.paperBps), { 'text-anchor': 'middle', 'font-size': 10, fill: '#fff' }));
      } else {
        marks.push(text(cx, y(0) - 6, '×', { 'text-anchor': 'middle', 'font-size': 14, fill: '#a00' }));
      }
      const ly = y(0) + 10;
      marks.push(text(cx, ly, pol.name, { 'text-anchor': 'end', 'font-size': 11.5, transform: `rotate(-40 ${cx} ${ly})` }));
      out.push(group(marks, { 'data-policy': pol.name, 'data-phase': ph.index }));
    });
    const guarantee = policies.flatMap((p) => p.phases).find((q) => q.index === ph.index)?.guarantee.paperBps;
    if (guarantee !== undefined) {
      out.push(el('line', { x1: gx + 6, y1: y(guarantee), x2: gx + groupW - 6, y2: y(guarantee), stroke: COLORS.guarantee, 'stroke-width': 2, 'stroke-dasharray': '7 4' }));
    }
    out.push(text(gx + groupW / 2, y(0) + 84, `guarantee ${ph.label}`, { 'text-anchor': 'middle', 'font-size': 13.5, 'font-weight': 'bold' }));
    if (gi > 0) out.push(el('line', { x1: gx, y1: m.top, x2: gx, y2: m.top + plotH, stroke: '#ccc', 'stroke-width': 1 }));
  });
  const demand = all[0]?.gDemand.paperBps;
  if (demand !== undefined) {
    out.push(el('line', { x1: m.left, y1: y(demand), x2: m.left + plotW, y2: y(demand), stroke: COLORS.demand, 'stroke-width': 1.5, 'stroke-dasharray': '2 3' }));
  }
  out.push(el('line', { x1: m.left, y1: y(0), x2: m.left + plotW, y2: y(0), stroke: '#000', 'stroke-width': 1 }));
  const failed = policies.filter((p) => p.phases.length === 0 || p.error);
  if (failed.length > 0) out.push(text(m.left, height - 14, `Not shown: ${failed.map(failedNote).join('; ')}`, { 'font-size': 12, fill: '#a00' }));
  return svgDocument(width, height, out);
}

/** Phase starts (seconds) and labels of one policy's series. */
function phaseMarks(r: ExperimentResult, name: string): { tS: number; label: string }[] {
  const s = r.series.policies[name];
  const pol = r.policies.find((p) => p.name === name);
  if (!s) return [];
  const marks: { tS: number; label: string }[] = [];
  let prev = -2;
  s.phase.forEach((ph, i) => {
    if (ph >= 0 && ph !== prev) {
      const p = pol?.phases.find((q) => q.index === ph);
      const label = r.scenario === 'adaptability' ? `${p?.activeBeVms ?? ph} BE` : (r.phases.find((q) => q.index === ph)?.label ?? String(ph));
      marks.push({ tS: (s.tS[i] ?? 0) - r.series.periodMs / 1000, label });
    }
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
  const title = r.scenario === 'adaptability'
    ? 'Adaptability: one more Best-Effort VM starts sending each phase (cf. paper Fig. 4)'
    : 'Contention over time: each phase is one guarantee (cf. paper Fig. 3)';
  out.push(text(m.left, 30, title, { 'font-size': 18, 'font-weight': 'bold' }));
  out.push(text(m.left, 50, `${scaleNote(r)} One sample every ${r.series.periodMs} ms.`, { 'font-size': 12, fill: '#444' }));
  let lx = m.left;
  for (const [kind, color, label] of [['line', COLORS.total, 'total (port delivered)'], ['line', COLORS.g, 'Guarantee VM (G)'], ['line', COLORS.be, 'Best-Effort VMs (BE, sum)'], ['dash', COLORS.guarantee, 'guarantee']] as const) {
    out.push(legendItem(lx, 78, kind, color, label));
    lx += label.length * 8.4 + 52;
  }
  names.forEach((name, pi) => {
    const top = m.top + pi * (panelH + gap);
    const y = linearScale(0, ticks[ticks.length - 1] ?? maxBps, top + panelH, top);
    const marks: string[] = [];
    const pol = r.policies.find((p) => p.name === name);
    const sum = pol?.summary;
    const caption = sum ? `${name} — min attainment ${sum.minAttainment.toFixed(2)}, mean utilization ${sum.meanUtilization.toFixed(2)}, G CoV ${sum.gCoV.toFixed(3)}` : `${name} — ${pol ? failedNote(pol) : 'no data'}`;
    marks.push(text(m.left, top - 8, caption, { 'font-size': 13.5, 'font-weight': 'bold' }));
    marks.push(...yAxis(m.left, m.left + plotW, y, ticks, 'Gbit/s', top + panelH / 2));
    for (const ph of phaseMarks(r, name)) {
      marks.push(el('line', { x1: x(ph.tS), y1: top, x2: x(ph.tS), y2: top + panelH, stroke: '#999', 'stroke-width': 1, 'stroke-dasharray': '3 3' }));
      marks.push(text(x(ph.tS) + 3, top + 12, ph.label, { 'font-size': 10.5, fill: '#555' }));
    }
    const s = r.series.policies[name];
    const clipId = `clip-${pi}`;
    marks.push(`<clipPath id="${clipId}">${el('rect', { x: m.left, y: top - 1, width: plotW, height: panelH + 2 })}</clipPath>`);
    const lines: string[] = [];
    if (s) {
      const g = s.tS.map((_, i) => gIdx.reduce((acc, k) => acc + (s.ratesBps[k]?.[i] ?? 0), 0) * scale);
      const be = s.tS.map((_, i) => s.ratesBps.reduce((acc, vm, k) => acc + (gIdx.includes(k) ? 0 : (vm[i] ?? 0)), 0) * scale);
      const delivered = s.portBps.map((v) => v * scale);
      const pts = (vals: number[]) => vals.map((v, i) => [x(s.tS[i] ?? 0), y(v)] as const);
      lines.push(polyline(pts(be), { stroke: COLORS.be, 'stroke-width': 1.2 }));
      lines.push(polyline(pts(delivered), { stroke: COLORS.total, 'stroke-width': 2 }));
      lines.push(polyline(pts(g), { stroke: COLORS.g, 'stroke-width': 2 }));
      // The guarantee of the phase each sample belongs to (contention changes it per phase).
      const gOf = new Map(pol?.phases.map((p) => [p.index, p.guarantee.paperBps]) ?? []);
      let seg: (readonly [number, number])[] = [];
      const segments: string[] = [];
      s.phase.forEach((ph, i) => {
        const gv = gOf.get(ph);
        if (gv === undefined) {
          if (seg.length > 1) segments.push(polyline(seg, { stroke: COLORS.guarantee, 'stroke-width': 2, 'stroke-dasharray': '7 4' }));
          seg = [];
          return;
        }
        seg.push([x(s.tS[i] ?? 0), y(gv)]);
      });
      if (seg.length > 1) segments.push(polyline(seg, { stroke: COLORS.guarantee, 'stroke-width': 2, 'stroke-dasharray': '7 4' }));
      lines.push(...segments);
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
