/** Root tests of `daqs testbed up|status|down` and `daqs demo` as a user runs them (bin/daqs.js). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testbedDown } from '../../src/testbed/index.ts';
import { leftovers, NOTHING_LEFT } from './leaks.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'daqs.js');

interface Run { code: number | null; stdout: string; stderr: string; pid: number }

// Runs bin/daqs.js; `interruptWhen` sends SIGINT once stdout matches it (a user's Ctrl-C).
function daqs(args: string[], interruptWhen?: RegExp, watch: 'stdout' | 'stderr' = 'stdout'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (watch === 'stdout' && interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (watch === 'stderr' && interruptWhen && !interrupted && interruptWhen.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

const demoName = (pid: number): string => `demo${pid % 10000}`;
const demoPids: number[] = [];

afterAll(async () => {
  await testbedDown('tbk');
  for (const pid of demoPids) await testbedDown(demoName(pid));
});

describe('daqs testbed (CLI)', () => {
  it('up prints the agent sockets, status sees every agent answer, down removes everything', async () => {
    const up = await daqs(['testbed', 'up', '--name', 'tbk', '--vms', '2', '--capacity', '1gbit', '--json']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const shown = JSON.parse(up.stdout) as { capacityBps: number; vms: { agentSocket: string; id: string }[] };
    expect(shown.capacityBps).toBe(1e9);
    expect(shown.vms.map((v) => v.id)).toEqual(['tbk-vm0', 'tbk-vm1']);
    for (const vm of shown.vms) expect(existsSync(vm.agentSocket)).toBe(true);

    const status = await daqs(['testbed', 'status', '--name', 'tbk']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/tbk-vm0 +10\.77\.0\.1 .* ok +[0-9]+ .*\/run\/daqs\/testbed\/tbk\/vm0\.sock/);
    expect(status.stdout).toMatch(/tbk-vm1 +10\.77\.0\.2 .* ok +[0-9]+ .*\/run\/daqs\/testbed\/tbk\/vm1\.sock/);

    const down = await daqs(['testbed', 'down', '--name', 'tbk']);
    expect(down.code).toBe(0);
    expect(await leftovers('tbk', [])).toEqual(NOTHING_LEFT);

    const gone = await daqs(['testbed', 'status', '--name', 'tbk']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no testbed named tbk is up/);
  });

  it('demo runs daqs through the adaptability scenario, writes the report and leaves nothing behind', async () => {
    const out = await mkdtemp(join(tmpdir(), 'daqs-demo-'));
    try {
      const run = await daqs(['demo', '--phase-seconds', '1', '--policies', 'baseline,daqs', '--out', out]);
      demoPids.push(run.pid);
      expect(run.code, run.stderr).toBe(0);
      // The live view went to stderr; the summary names every policy run.
      expect(run.stderr).toMatch(/\[[0-9]\/[0-9] daqs\]/);
      expect(run.stdout).toMatch(/^daqs +[0-9.]+ +[0-9.]+/m);
      expect(run.stdout).toMatch(/^baseline +[0-9.]+/m);
      for (const f of ['result.json', 'timeseries.csv', 'adaptability.svg', 'adaptability.png']) expect(existsSync(join(out, f)), f).toBe(true);
      expect(await leftovers(demoName(run.pid), [])).toEqual(NOTHING_LEFT);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('demo interrupted by Ctrl-C takes the host down and exits non-zero', async () => {
    const run = await daqs(['demo', '--phase-seconds', '5', '--policies', 'baseline,daqs', '--out', join(tmpdir(), 'daqs-demo-int')], /\[[0-9]\/[0-9] baseline\]/, 'stderr');
    demoPids.push(run.pid);
    await rm(join(tmpdir(), 'daqs-demo-int'), { recursive: true, force: true });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/interrupted/);
    expect(await leftovers(demoName(run.pid), [])).toEqual(NOTHING_LEFT);
  });
});
