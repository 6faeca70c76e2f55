/**
 * Root tests of the emulated host's life cycle: validation before building, idempotent up,
 * attach, rollback of a failed build, down after a crash, and instances that leave each other alone.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { agentCall, testbedAttach, testbedDown, testbedUp, TestbedError } from '../../src/testbed/index.ts';
import { readState } from '../../src/testbed/state.ts';
import { planPaths, DEFAULT_STATE_DIR } from '../../src/testbed/plan.ts';
import { pidsInNamespaces, processName } from '../../src/testbed/procs.ts';
import { okReturn } from './helpers.ts';
import { leftovers, NOTHING_LEFT } from './leaks.ts';

// Each test uses its own instance names; afterAll removes them whatever happened.
const NAMES = ['tbv', 'tbi', 'tbj', 'tbr', 'tbc', 'tbb'];
afterAll(async () => {
  for (const name of NAMES) await testbedDown(name);
});

async function recordedPids(name: string): Promise<number[]> {
  const state = await readState(planPaths(DEFAULT_STATE_DIR, name, 0).stateFile);
  return [...(state?.agentPids ?? []), ...(state?.iperfServerPid ? [state.iperfServerPid] : []), ...(state?.switchPid ? [state.switchPid] : [])];
}

describe('testbed life cycle', () => {
  it.each([
    [{ name: 'tbv', vms: 0, capacityBps: 2e9 }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 251, capacityBps: 2e9 }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 2, capacityBps: Number.NaN }, 'E_TESTBED_CAPACITY'],
    [{ name: 'tbvtoolong', vms: 2, capacityBps: 2e9 }, 'E_TESTBED_NAME'],
  ] as const)('refuses %j before building anything', async (opts, code) => {
    await expect(testbedUp(opts)).rejects.toMatchObject({ code });
    expect(await leftovers(opts.name, [])).toEqual(NOTHING_LEFT);
  });

  it('up is idempotent, attach sees the same host, a different shape is refused, down removes it', async () => {
    const tb = await testbedUp({ name: 'tbi', vms: 2, capacityBps: 1e9 });
    const pids = await recordedPids('tbi');
    expect(pids).toHaveLength(4); // 2 agents, the iperf server, the switch's parked process
    const again = await testbedUp({ name: 'tbi', vms: 2, capacityBps: 1e9 });
    expect(await recordedPids('tbi')).toEqual(pids); // nothing rebuilt
    expect(again.vms).toEqual(tb.vms);
    const attached = await testbedAttach('tbi');
    expect(attached.vms).toEqual(tb.vms);
    expect(attached.capacityBps).toBe(1e9);
    expect(okReturn(await agentCall(attached.vms[1]!.agentSocket))).toEqual(expect.any(Number));
    await expect(testbedUp({ name: 'tbi', vms: 3, capacityBps: 1e9 })).rejects.toMatchObject({ code: 'E_TESTBED_MISMATCH', message: expect.stringMatching(/down --name tbi/) });
    await attached.down();
    expect(await leftovers('tbi', pids)).toEqual(NOTHING_LEFT);
    await expect(testbedAttach('tbi')).rejects.toMatchObject({ code: 'E_TESTBED_NOT_FOUND' });
  });

  it('down of one instance leaves another instance whole', async () => {
    const keep = await testbedUp({ name: 'tbj', vms: 1, capacityBps: 1e9 });
    const drop = await testbedUp({ name: 'tbi', vms: 1, capacityBps: 1e9 });
    const keepPids = await recordedPids('tbj');
    await drop.down();
    expect((await leftovers('tbj', keepPids)).namespaces).toHaveLength(3);
    expect((await leftovers('tbj', keepPids)).livePids).toEqual(keepPids);
    expect(okReturn(await agentCall(keep.vms[0]!.agentSocket))).toEqual(expect.any(Number));
    await keep.down();
    expect(await leftovers('tbj', keepPids)).toEqual(NOTHING_LEFT);
  });

  it('a build that fails half-way (an agent that dies) is rolled back', async () => {
    const fakeBin = mkdtempSync(join(tmpdir(), 'tb-fake-'));
    const savedPath = process.env.PATH;
    try {
      // A qemu-ga that exits at once, found before the real one.
      writeFileSync(join(fakeBin, 'qemu-ga'), '#!/bin/sh\nexit 3\n');
      chmodSync(join(fakeBin, 'qemu-ga'), 0o755);
      process.env.PATH = `${fakeBin}:${savedPath ?? ''}`;
      const err: unknown = await testbedUp({ name: 'tbr', vms: 2, capacityBps: 1e9 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestbedError);
      expect(err).toMatchObject({ code: 'E_TESTBED_AGENT', message: expect.stringMatching(/exited before answering/) });
    } finally {
      process.env.PATH = savedPath;
      rmSync(fakeBin, { recursive: true, force: true });
    }
    expect(await leftovers('tbr', [])).toEqual(NOTHING_LEFT);
  });

  it('down removes every namespace, link and process after the creating process crashed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-child.ts'), 'tbc'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) resolve(); });
        child.on('exit', (code) => reject(new Error(`crash child exited early with ${code}`)));
      });
    } finally {
      child.kill('SIGKILL'); // the crash: no clean-up code of the creator runs
    }
    await new Promise((r) => child.once('exit', r));
    const pids = await recordedPids('tbc');
    const inNs = [...(await pidsInNamespaces(['tbc-vm0', 'tbc-vm1', 'tbc-rem'])).values()].flat();
    expect(pids).toHaveLength(4);
    // Still running without their creator: both agents, the iperf server and the orphaned sender.
    const names = await Promise.all(inNs.map(processName));
    expect(names.filter((n) => n === 'qemu-ga')).toHaveLength(2);
    expect(names.filter((n) => n === 'iperf')).toHaveLength(2);
    await testbedDown('tbc');
    expect(await leftovers('tbc', [...pids, ...inNs])).toEqual(NOTHING_LEFT);
  });

  it('brings up 64 VMs whose agents all answer, and takes them all down', async () => {
    const tb = await testbedUp({ name: 'tbb', vms: 64, capacityBps: 2e9 });
    const pids = await recordedPids('tbb');
    try {
      expect(new Set(tb.vms.map((v) => v.ip)).size).toBe(64);
      expect(new Set(tb.vms.map((v) => v.mac)).size).toBe(64);
      for (const vm of tb.vms) expect(okReturn(await agentCall(vm.agentSocket))).toEqual(expect.any(Number));
      expect((await tb.readAllHostTxBytes()).length).toBe(64);
    } finally {
      await tb.down();
    }
    expect(await leftovers('tbb', pids)).toEqual(NOTHING_LEFT);
  });
});
