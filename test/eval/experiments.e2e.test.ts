/**
 * Short runs of both experiments on a real emulated host (root: namespaces, qemu-ga, tc,
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
import { readResultFile } from '../../src/eval/write.ts';
import { runChecked } from '../../src/util/exec.ts';

// Short but measurable: 5 samples of steady state per phase, a 1 s hold fits in every window.
const SHORT = { phaseSeconds: 2, warmupSeconds: 0.6, leadSeconds: 0.4, reclaimSeconds: 1.2, policies: [...POLICY_NAMES] } as const;

async function runShort(o: ExperimentOptions): Promise<void> {
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
});
