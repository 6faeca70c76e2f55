/**
 * Root tests of real guests under the testbed's own libvirtd: the domain is listed and its
 * agent answers through libvirt, its live XML carries what daqs reads (daqs' channel at the
 * VM's agent socket, <daqs:sla> metadata), and `down` leaves no libvirtd, QEMU, namespace or
 * bind mount behind, also after the process that built it was killed half-way.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DAQS_AGENT_CHANNEL, GUEST_AGENT_CHANNEL } from '../../src/core/libvirt-names.ts';
import { parseDomainXml } from '../../src/inventory/domain-xml.ts';
import { agentCall, testbedDown, testbedUp, type TestbedHost } from '../../src/testbed/index.ts';
import { virsh, virshChecked } from '../../src/testbed/libvirtd.ts';
import { DEFAULT_STATE_DIR, planPaths } from '../../src/testbed/plan.ts';
import { processName } from '../../src/testbed/procs.ts';
import { readState } from '../../src/testbed/state.ts';
import { okReturn, sleep } from './helpers.ts';
import { leftovers, NOTHING_LEFT } from './leaks.ts';

const NAMES = ['rvl', 'rvk'];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

afterAll(async () => {
  for (const name of NAMES) await testbedDown(name);
});

async function recordedPids(name: string): Promise<number[]> {
  const s = await readState(planPaths(DEFAULT_STATE_DIR, name, 0).stateFile);
  return [...(s?.qemuPids ?? []), s?.libvirtdPid ?? null, ...(s?.agentPids ?? [])].filter((p): p is number => p !== null);
}

/** Processes on this host whose mount table holds a bind mount of instance `name`'s libvirt root. */
async function processesMountingInstance(name: string): Promise<number[]> {
  const marker = `/${name}/libvirt/`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const mounts = await readFile(`/proc/${entry}/mountinfo`, 'utf8').catch(() => '');
    if (mounts.includes(marker)) found.push(Number(entry));
  }
  return found;
}

describe('real guests under the testbed\'s own libvirtd', () => {
  it('defines the domain from XML, libvirt lists it and reaches its agent, and daqs can read what it needs', async () => {
    const tb = (await testbedUp({ name: 'rvl', vms: 1, capacityBps: 1e9, real: 1, libvirt: true, domainSla: { 0: { guarantee: '100mbit', weight: '2' } } })) as TestbedHost;
    const pids = await recordedPids('rvl');
    try {
      const uri = tb.libvirtUri;
      expect(uri).toMatch(/^qemu\+unix:\/\/\/system\?socket=\/run\/daqs\/testbed\/rvl\//);
      const vm = tb.vms[0]!;
      expect(vm.kind).toBe('libvirt');
      expect((await virshChecked(uri!, ['list', '--name'])).split('\n').map((l) => l.trim()).filter(Boolean)).toEqual([vm.id]);
      // The standard channel, through libvirt (which owns its socket).
      const viaLibvirt = JSON.parse(await virshChecked(uri!, ['qemu-agent-command', vm.id, '{"execute":"guest-network-get-interfaces"}'])) as { return: { 'hardware-address'?: string }[] };
      expect(viaLibvirt.return.map((i) => i['hardware-address'])).toContain(vm.mac);
      // daqs' dedicated channel, at the VM's agent socket: the same guest answers there.
      expect(okReturn<{ 'host-name'?: string }>(await agentCall(vm.agentSocket, 'guest-get-host-name'))).toEqual(expect.objectContaining({ 'host-name': expect.any(String) }));
      const info = parseDomainXml(await virshChecked(uri!, ['dumpxml', vm.id]), vm.id);
      expect(info.running).toBe(true);
      expect(info.slaMetadata).toEqual({ guarantee: '100mbit', weight: '2' });
      expect(info.channels.find((c) => c.name === DAQS_AGENT_CHANNEL)).toMatchObject({ path: vm.agentSocket, mode: 'bind', state: 'connected' });
      expect(info.channels.find((c) => c.name === GUEST_AGENT_CHANNEL)?.state).toBe('connected');
      expect(pids).toHaveLength(2); // libvirtd and its QEMU
      expect(await Promise.all(pids.map(processName))).toEqual(['qemu-system-x86', 'libvirtd']);
      // The host's libvirt (if any) knows nothing of it: the default system URI is another daemon or none.
      const host = await virsh('qemu:///system', ['list', '--all', '--name'], 10_000).catch(() => null);
      expect(host?.stdout ?? '').not.toContain(vm.id);
    } finally {
      await tb.down();
    }
    expect(await leftovers('rvl', pids)).toEqual(NOTHING_LEFT);
    expect(await processesMountingInstance('rvl')).toEqual([]);
  });

  it('down removes libvirtd and its guest after the building process was killed mid-boot', async () => {
    const script = [
      "import { testbedUp } from './src/testbed/index.ts';",
      "await testbedUp({ name: 'rvk', vms: 2, capacityBps: 1e9, real: 1, libvirt: true });",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' });
    try {
      // Wait until its QEMU is recorded (libvirt started the guest), then kill the builder.
      const guestStarted = async (): Promise<boolean> => ((await readState(planPaths(DEFAULT_STATE_DIR, 'rvk', 0).stateFile).catch(() => null))?.qemuPids.length ?? 0) > 0;
      for (let i = 0; i < 240 && !(await guestStarted()); i++) await sleep(250);
      expect(await guestStarted()).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    const pids = await recordedPids('rvk');
    await testbedDown('rvk');
    expect(await leftovers('rvk', pids)).toEqual(NOTHING_LEFT);
    expect(await processesMountingInstance('rvk')).toEqual([]);
  });
});
