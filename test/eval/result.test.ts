import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultInvalidError, validateResult, type ExperimentResult } from '../../src/eval/result.ts';
import { readResultFile, renderTimeseriesCsv, writeResultFiles } from '../../src/eval/write.ts';
import { syntheticResult } from './fixture.ts';

function problemsOf(r: unknown): string[] {
  try {
    validateResult(r);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ResultInvalidError);
    expect((e as ResultInvalidError).code).toBe('E_RESULT_INVALID');
    return [...(e as ResultInvalidError).problems];
  }
}

function mutate(f: (r: ExperimentResult) => void): ExperimentResult {
  const r = structuredClone(syntheticResult('contention'));
  f(r);
  return r;
}

describe('validateResult', () => {
  it.each(['contention', 'adaptability', 'multi', 'churn'] as const)('accepts a complete, consistent %s result', (scenario) => {
    expect(problemsOf(syntheticResult(scenario))).toEqual([]);
  });

  it.each<{ name: string; change: (r: ExperimentResult) => void; want: RegExp }>([
    { name: 'a phase guarantee that is not the sum of its Guarantee VMs', change: (r) => { const p = r.policies[3]?.phases[1]; if (p) { p.guarantee.emulatedBps = 0.5e9; p.guarantee.paperBps = 10e9; } }, want: /guarantee 500000000 is not the sum over its Guarantee VMs/ },
    { name: 'Guarantee VMs that sent more than G', change: (r) => { const p = r.policies[3]?.phases[1]; if (p) { p.g.emulatedBps /= 2; p.g.paperBps /= 2; } }, want: /Guarantee VMs sent .* together, more than G/ },
    { name: 'an attainment where no Guarantee VM sends', change: (r) => { const p = r.policies[3]?.phases[3]; if (p) p.attainment = 1; }, want: /attainment 1 is not the worst of its Guarantee VMs \(null\)/ },
  ])('multi and churn: rejects $name', ({ change, want }) => {
    const r = structuredClone(syntheticResult(want.source.includes('null') ? 'churn' : 'multi'));
    change(r);
    expect(problemsOf(r).join('\n')).toMatch(want);
  });

  it('survives a JSON round trip', () => {
    expect(problemsOf(JSON.parse(JSON.stringify(syntheticResult('adaptability'))))).toEqual([]);
  });

  it.each<{ name: string; change: (r: ExperimentResult) => void; want: RegExp }>([
    { name: 'a policy missing a phase', change: (r) => { r.policies[2]?.phases.pop(); }, want: /policy paper: phases \[0,1\], expected \[0,1,2\]/ },
    { name: 'paper units not emulated × scale', change: (r) => { const p = r.policies[0]?.phases[0]; if (p) p.g.paperBps *= 2; }, want: /g\.paperBps .* is not emulatedBps .* × scale 20/ },
    { name: 'a NaN', change: (r) => { const p = r.policies[1]?.phases[1]; if (p) p.utilization = Number.NaN; }, want: /policies\.1\.phases\.1\.utilization/ },
    { name: 'a policy that failed', change: (r) => { const p = r.policies[3]; if (p) p.error = { code: 'E_NOT_WIRED', message: 'not wired' }; }, want: /policy daqs failed: E_NOT_WIRED/ },
    { name: 'total that is not G + BE', change: (r) => { const p = r.policies[4]?.phases[0]; if (p) { p.total.emulatedBps += 1e8; p.total.paperBps = p.total.emulatedBps * 20; } }, want: /total .* is not G .* \+ BE/ },
    { name: 'attainment that does not follow', change: (r) => { const v = r.policies[0]?.phases[0]?.gVms[0]; if (v) v.attainment = 1; }, want: /G VM 0: attainment 1 is not G \/ min/ },
    { name: 'a phase attainment that is not its worst Guarantee VM', change: (r) => { const p = r.policies[0]?.phases[0]; if (p) p.attainment = 1; }, want: /attainment 1 is not the worst of its Guarantee VMs/ },
    { name: 'utilization not from what the port delivered', change: (r) => { const p = r.policies[1]?.phases[2]; if (p) p.utilization = p.utilizationVfSide + 0.1; }, want: /utilization .* is not delivered \/ baseline delivered/ },
    { name: 'a missing time series', change: (r) => { delete r.series.policies.oracle; }, want: /policy oracle: no time series/ },
    { name: 'a VM series of the wrong length', change: (r) => { r.series.policies.static?.ratesBps[1]?.pop(); }, want: /policy static: VM 1 has 29 samples, expected 30/ },
    { name: 'a reaction marked reached without ticks', change: (r) => { const p = r.policies[3]?.phases[0]; if (p) p.reaction = { reached: true, ticks: null, seconds: null, windowS: 2 }; }, want: /reaction says reached=true/ },
  ])('rejects $name', ({ change, want }) => {
    const problems = problemsOf(mutate(change));
    expect(problems.join('\n')).toMatch(want);
  });
});

describe('renderTimeseriesCsv', () => {
  it('has a header and one row per policy and sample, with G, BE and total in both units', () => {
    const r = syntheticResult('adaptability');
    const lines = renderTimeseriesCsv(r).trimEnd().split('\n');
    expect(lines[0]).toBe('policy,phase,t_s,vm0_bps,vm1_bps,vm2_bps,vm3_bps,g_bps,be_bps,total_bps,port_bps,g_paper_bps,be_paper_bps,total_paper_bps,port_paper_bps');
    const samples = Object.values(r.series.policies).reduce((n, s) => n + s.tS.length, 0);
    expect(lines).toHaveLength(1 + samples);
    const row = lines.find((l) => l.startsWith('daqs,3,'))?.split(',').map(Number) ?? [];
    const [g, be, total, , gPaper, , totalPaper] = row.slice(7);
    expect(total).toBeCloseTo((g ?? 0) + (be ?? 0), -1);
    expect(gPaper).toBeCloseTo((g ?? 0) * 20, -2);
    expect(totalPaper).toBeCloseTo((total ?? 0) * 20, -2);
  });
});

describe('writeResultFiles', () => {
  it('writes result.json that reads back valid and a CSV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daqs-eval-'));
    try {
      const paths = await writeResultFiles(join(dir, 'nested'), syntheticResult('contention'));
      const back = await readResultFile(paths.json);
      expect(back.policies.map((p) => p.name)).toEqual(['baseline', 'static', 'paper', 'daqs', 'oracle']);
      expect((await readFile(paths.csv, 'utf8')).startsWith('policy,phase,t_s,')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
