/** Root tests of `daqs testbed up|status|down` and `daqs demo` as a user runs them (bin/daqs.js). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testbedDown } from '../../src/testbed/index.ts';
import { leftovers, NOTHING_LEFT } from './leaks.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'daqs.js');

interface Run { code: number | null; stdout: string; stderr: string; pid: number }

// Runs bin/daqs.js; `interruptWhen` sends SIGINT once stdout matches it (a user's Ctrl-C).
function daqs(args: string[], interruptWhen?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
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

  it('demo shows per-VM rates and leaves nothing behind', async () => {
    const run = await daqs(['demo', '--phase-seconds', '1']);
    demoPids.push(run.pid);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/VF limit on vm1/);
    expect(run.stdout).toMatch(/vm0 +[0-9.]+[mg]bit .* vm1 +[0-9.]+[mg]bit .* port +[0-9.]+[mg]bit/);
    expect(run.stdout).toMatch(/is down/);
    expect(await leftovers(demoName(run.pid), [])).toEqual(NOTHING_LEFT);
  });

  it('demo interrupted by Ctrl-C takes the host down and exits 130', async () => {
    const run = await daqs(['demo', '--phase-seconds', '5'], /port +[0-9.]+[mg]bit/);
    demoPids.push(run.pid);
    expect(run.code).toBe(130);
    expect(run.stdout).toMatch(/SIGINT: stopping/);
    expect(await leftovers(demoName(run.pid), [])).toEqual(NOTHING_LEFT);
  });
});
