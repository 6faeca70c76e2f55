/**
 * Short runs of the four experiments on a real emulated host (root: namespaces, qemu-ga, tc,
 * iperf2), all five policies. Checks the files are complete and consistent and the host is
 * gone afterwards; the performance targets are the benchmark's business, not CI's.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperimentToDir } from '../../src/eval/experiment.ts';
import { POLICY_NAMES } from '../../src/eval/policies.ts';
import { defaultOptions, type ExperimentOptions } from '../../src/eval/scenarios.ts';
import { planSessions } from '../../src/eval/plan.ts';
import type { ExperimentResult } from '../../src/eval/result.ts';
import { readResultFile } from '../../src/eval/write.ts';
import { runChecked } from '../../src/util/exec.ts';

// Short but measurable: 5 samples of steady state per phase, a 1 s hold fits in every window.
const SHORT = { phaseSeconds: 2, warmupSeconds: 0.6, leadSeconds: 0.4, reclaimSeconds: 1.2, policies: [...POLICY_NAMES] } as const;

async function runShort(o: ExperimentOptions): Promise<ExperimentResult> {
  const dir = await mkdtemp(join(tmpdir(), `daqs-e2e-${o.scenario}-`));
  try {
    // A short settle between runs keeps the whole file well under two minutes.
    const out = await runExperimentToDir(o, dir, { settleMs: 300 });
    // Validates schema and consistency; lists every problem (a policy that failed, a missing phase).
    const result = await readResultFile(out.json);
    expect(result.policies.map((p) => p.name)).toEqual([...POLICY_NAMES]);
    expect(out.problems).toEqual([]);
    const csv = await readFile(out.csv, 'utf8');
    for (const name of POLICY_NAMES) expect(csv).toContain(`\n${name},`);
    expect(out.figures.pngError).toBeNull();
    for (const f of [...out.figures.svg, ...out.figures.png]) expect((await stat(f)).size).toBeGreaterThan(1000);
    const left = await runChecked(['ip', 'netns', 'list']);
    expect(left.split('\n').filter((l) => l.startsWith(`${o.testbedName}-`))).toEqual([]);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('experiments end to end (short)', () => {
  it('contention: two guarantees, every policy, complete and consistent result', async () => {
    await runShort({ ...defaultOptions('contention'), ...SHORT, guaranteesPaperBps: [10e9, 25e9], testbedName: 'eve2ec' });
  }, 150_000);

  it('adaptability: a Best-Effort VM joining, every policy, complete and consistent result', async () => {
    await runShort({ ...defaultOptions('adaptability'), ...SHORT, beVms: 1, testbedName: 'eve2ea' });
  }, 150_000);

  it('multi: three Guarantee VMs judged each on its own, two Best-Effort VMs joining, every policy', async () => {
    const r = await runShort({ ...defaultOptions('multi'), ...SHORT, beVms: 2, testbedName: 'eve2em' });
    for (const p of r.policies.flatMap((q) => q.phases)) expect(p.gVms.map((v) => v.guarantee.paperBps)).toEqual([5e9, 10e9, 15e9]);
    // Each Guarantee VM's demand alone was measured on its own.
    expect(new Set(r.policies[0]?.phases[0]?.gVms.map((v) => v.gDemand.emulatedBps)).size).toBe(3);
  }, 150_000);

  it('churn: 24 VMs, a seeded schedule of starts and stops, every policy', async () => {
    // Gaps of 1.2-2.4 s still leave the one-second hold of a reaction room inside a phase.
    const o: ExperimentOptions = { ...defaultOptions('churn'), ...SHORT, phaseSeconds: 2.4, warmupSeconds: 0.4, beVms: 21, changes: 5, maxSenders: 6, testbedName: 'eve2eh' };
    const r = await runShort(o);
    const planned = (planSessions(o)[0]?.changes ?? []).filter((c) => c.phase);
    expect(r.phases.map((p) => p.label)).toEqual(planned.map((c) => c.phase?.label));
    for (const pol of r.policies) expect(pol.phases.map((p) => p.reclaim !== undefined)).toEqual(planned.map((c) => c.reclaim !== undefined));
  }, 150_000);
});
