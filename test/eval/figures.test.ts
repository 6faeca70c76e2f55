import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderAttainmentSvg, renderContentionSvg, renderTimeseriesSvg } from '../../src/eval/figures.ts';
import { svgToPng, writeFigures } from '../../src/eval/figure-files.ts';
import { escapeXml, niceTicks } from '../../src/eval/svg.ts';
import { POLICIES, syntheticResult } from './fixture.ts';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', preserveOrder: false });

/** Every text node and every data-policy attribute in the document, found by walking it. */
function collect(node: unknown, texts: string[], policies: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collect(n, texts, policies);
    return;
  }
  if (node === null || typeof node !== 'object') {
    if (typeof node === 'string' || typeof node === 'number') texts.push(String(node));
    return;
  }
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === '@data-policy') policies.add(String(v));
    else if (k === '#text') texts.push(String(v));
    else if (!k.startsWith('@')) collect(v, texts, policies);
  }
}

function parseSvg(svg: string): { texts: string[]; policies: Set<string>; root: Record<string, unknown> } {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = parser.parse(svg) as { svg?: Record<string, unknown> };
  expect(doc.svg).toBeDefined();
  const texts: string[] = [];
  const policies = new Set<string>();
  collect(doc.svg, texts, policies);
  return { texts, policies, root: doc.svg ?? {} };
}

describe('contention figure', () => {
  const r = syntheticResult('contention');
  const { texts, policies } = parseSvg(renderContentionSvg(r));

  it('has a bar group for every policy', () => {
    expect([...policies].sort()).toEqual([...POLICIES].sort());
  });
  it('labels axes with units, a legend and a title', () => {
    expect(texts).toContain('Throughput (Gbit/s, paper units)');
    expect(texts).toEqual(expect.arrayContaining(['Guarantee VM (G)', 'guarantee']));
    expect(texts.some((t) => t.includes('Fig. 3'))).toBe(true);
  });
  it('shows every guarantee and the totals in paper units', () => {
    for (const ph of r.phases) expect(texts).toContain(`guarantee ${ph.label}`);
    const daqs10 = r.policies.find((p) => p.name === 'daqs')?.phases[0];
    expect(texts).toContain(((daqs10?.total.paperBps ?? 0) / 1e9).toFixed(1));
  });
  it('names a failed policy instead of dropping it silently', () => {
    const failed = structuredClone(r);
    const p = failed.policies.find((q) => q.name === 'paper');
    if (p) Object.assign(p, { phases: [], summary: null, error: { code: 'E_NOT_WIRED', message: 'x' } });
    const { texts: t2 } = parseSvg(renderContentionSvg(failed));
    expect(t2.some((t) => t.includes('paper: failed (E_NOT_WIRED)'))).toBe(true);
  });
});

describe('time series figure', () => {
  const r = syntheticResult('adaptability');
  const { texts, policies } = parseSvg(renderTimeseriesSvg(r));

  it('has a panel for every policy with its summary', () => {
    expect([...policies].sort()).toEqual([...POLICIES].sort());
    for (const name of POLICIES) expect(texts.some((t) => t.startsWith(`${name} — min attainment`))).toBe(true);
  });
  it('labels time and rate axes and marks each phase', () => {
    expect(texts).toContain("Time since this policy's run began (s), policy set-up included");
    expect(texts).toContain('Gbit/s');
    expect(texts).toEqual(expect.arrayContaining(['0 BE', '1 BE', '2 BE', '3 BE']));
  });
});

describe('multi figures', () => {
  const r = syntheticResult('multi');

  it('attainment bars: a group per Guarantee VM with its guarantee, a bar per policy at its worst phase', () => {
    const svg = renderAttainmentSvg(r);
    const { texts, policies } = parseSvg(svg);
    expect([...policies].sort()).toEqual([...POLICIES].sort());
    for (const label of ['g1: guarantee 5.0 Gbit/s', 'g2: guarantee 10.0 Gbit/s', 'g3: guarantee 15.0 Gbit/s']) expect(texts).toContain(label);
    // daqs's worst phase for G VM 2 is its own number, from the phases.
    const worst = Math.min(...(r.policies.find((p) => p.name === 'daqs')?.phases.flatMap((ph) => ph.gVms.filter((v) => v.vmIndex === 2).map((v) => v.attainment)) ?? []));
    expect(svg).toMatch(new RegExp(`data-policy="daqs" data-vm="2">.*?>${worst.toFixed(2)}</text>`));
    expect(texts).toContain('Attainment');
  });

  it('time series: one line and one guarantee per Guarantee VM, named in the legend', () => {
    const { texts } = parseSvg(renderTimeseriesSvg(r));
    expect(texts).toEqual(expect.arrayContaining(['g1', 'g2', 'g3', 'guarantee (dashed, in its colour)']));
    expect(texts.some((t) => t.startsWith('Multi:'))).toBe(true);
  });
});

describe('churn figure', () => {
  it('marks every change with its label, and sums the Guarantee VMs', () => {
    const r = syntheticResult('churn');
    const { texts } = parseSvg(renderTimeseriesSvg(r));
    for (const ph of r.phases) expect(texts).toContain(ph.label);
    expect(texts).toEqual(expect.arrayContaining(['Guarantee VMs (G, sum)', 'guarantees of the sending G VMs (sum)']));
  });
});

describe('svg helpers', () => {
  it.each([
    { max: 40e9, count: 8, want: [0, 5e9, 10e9, 15e9, 20e9, 25e9, 30e9, 35e9, 40e9] },
    { max: 41e9, count: 4, want: [0, 20e9, 40e9, 60e9] },
    { max: 7, count: 5, want: [0, 2, 4, 6, 8] },
    { max: 0, count: 5, want: [0, 1] },
  ])('niceTicks($max, $count)', ({ max, count, want }) => {
    expect(niceTicks(max, count)).toEqual(want);
  });
  it('escapes text so a policy name cannot break the document', () => {
    expect(escapeXml('a<b & "c"')).toBe('a&lt;b &amp; &quot;c&quot;');
    const r = syntheticResult('adaptability');
    const p = r.policies[0];
    if (p) p.name = 'x<y&z';
    r.series.policies['x<y&z'] = r.series.policies.baseline ?? { tS: [], phase: [], ratesBps: [], portBps: [] };
    expect(parseSvg(renderTimeseriesSvg(r)).policies.has('x<y&z')).toBe(true);
  });
});

describe('PNG', () => {
  it('renders with the PNG signature and the SVG size × zoom', async () => {
    const png = await svgToPng(renderContentionSvg(syntheticResult('contention')), 2);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: width and height are big-endian at bytes 16 and 20.
    expect(png.readUInt32BE(16)).toBe(1180 * 2);
    expect(png.readUInt32BE(20)).toBe(600 * 2);
    expect(png.length).toBeGreaterThan(20_000); // a blank image compresses to far less
  });

  it('writeFigures writes SVG and PNG for each figure of the scenario', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daqs-fig-'));
    try {
      const files = await writeFigures(dir, syntheticResult('contention'));
      expect(files.pngError).toBeNull();
      expect(files.svg.map((f) => f.slice(dir.length + 1))).toEqual(['contention.svg', 'contention-timeseries.svg']);
      expect(files.png.map((f) => f.slice(dir.length + 1))).toEqual(['contention.png', 'contention-timeseries.png']);
      expect((await readFile(files.svg[0] ?? '', 'utf8')).startsWith('<svg')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    { scenario: 'multi' as const, want: ['multi.svg', 'multi-timeseries.svg'] },
    { scenario: 'churn' as const, want: ['churn.svg'] },
  ])('$scenario has its figures', async ({ scenario, want }) => {
    const dir = await mkdtemp(join(tmpdir(), 'daqs-fig-'));
    try {
      const files = await writeFigures(dir, syntheticResult(scenario));
      expect(files.svg.map((f) => f.slice(dir.length + 1))).toEqual(want);
      expect(files.png).toHaveLength(want.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
