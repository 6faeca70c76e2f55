import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StaticSource } from '../../src/inventory/static-source.ts';
import { TestbedAttachError, type TestbedAttach, type TestbedView } from '../../src/testbed/attach-view.ts';
import { TestbedSource } from '../../src/inventory/testbed-source.ts';

let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daqs-inv-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

function listen(path: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) => server.listen(path, resolve));
}

describe('StaticSource', () => {
  it('reports each listed socket: ready when listening, not ready when missing or not a socket', async () => {
    await listen(join(dir, 'web1.sock'));
    await writeFile(join(dir, 'plain.sock'), '');
    const src = new StaticSource(() => [
      { name: 'web1', socket: join(dir, 'web1.sock'), mac: '52:54:00:00:00:01' },
      { name: 'db1', socket: join(dir, 'db1.sock') },
      { name: 'odd', socket: join(dir, 'plain.sock') },
    ]);
    const vms = await src.discover();
    expect(vms.map((v) => [v.id, v.agent, v.status.state, v.vfCandidates])).toEqual([
      ['web1', { kind: 'unix', socket: join(dir, 'web1.sock') }, 'ready', [{ mac: '52:54:00:00:00:01' }]],
      ['db1', { kind: 'unix', socket: join(dir, 'db1.sock') }, 'not-ready', []],
      ['odd', { kind: 'unix', socket: join(dir, 'plain.sock') }, 'not-ready', []],
    ]);
    expect(vms[1]?.status).toEqual({ state: 'not-ready', reason: `agent socket ${join(dir, 'db1.sock')} does not exist (yet): is the VM's agent started?` });
  });

  it('reads the list anew on each poll, so a reload applies', async () => {
    let entries = [{ name: 'a', socket: join(dir, 'a.sock') }];
    const src = new StaticSource(() => entries);
    expect((await src.discover()).map((v) => v.id)).toEqual(['a']);
    entries = [{ name: 'b', socket: join(dir, 'b.sock') }];
    expect((await src.discover()).map((v) => v.id)).toEqual(['b']);
  });
});

describe('TestbedSource', () => {
  // A stand-in for src/testbed's testbedAttach: reads an instance description from disk.
  const attachFromDisk: TestbedAttach = async (name) => {
    try {
      return JSON.parse(await readFile(join(dir, name, 'state.json'), 'utf8')) as TestbedView;
    } catch (e) {
      throw new TestbedAttachError(name, `no testbed named ${name} is up`, { cause: e });
    }
  };

  async function writeState(name: string, state: unknown): Promise<void> {
    await rm(join(dir, name), { recursive: true, force: true });
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'state.json'), JSON.stringify(state));
  }

  it('maps the testbed VMs to unix agents and VFs', async () => {
    await listen(join(dir, 'vm0.sock'));
    await writeState('tb', {
      capacityBps: 2e9,
      vms: [
        { index: 0, id: 'vm0', netns: 'tb-vm0', iface: 'eth0', mac: '02:DA:12:34:00:00', ip: '10.77.0.1', agentSocket: join(dir, 'vm0.sock') },
        { index: 1, id: 'vm1', netns: 'tb-vm1', iface: 'eth0', mac: '02:da:12:34:00:01', ip: '10.77.0.2', agentSocket: join(dir, 'vm1.sock') },
      ],
    });
    const vms = await new TestbedSource('tb', attachFromDisk).discover();
    expect(vms.map((v) => [v.id, v.origin, v.agent, v.status.state, v.vfCandidates])).toEqual([
      ['vm0', 'testbed', { kind: 'unix', socket: join(dir, 'vm0.sock') }, 'ready', [{ mac: '02:da:12:34:00:00', iface: 'eth0' }]],
      ['vm1', 'testbed', { kind: 'unix', socket: join(dir, 'vm1.sock') }, 'not-ready', [{ mac: '02:da:12:34:00:01', iface: 'eth0' }]],
    ]);
  });

  it('fails as a whole when the testbed is not up (the poller keeps the previous inventory)', async () => {
    const err = await new TestbedSource('nope', attachFromDisk).discover().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestbedAttachError);
    expect((err as TestbedAttachError).code).toBe('E_TESTBED_ATTACH');
    expect((err as Error).message).toBe('cannot attach to testbed "nope": no testbed named nope is up');
  });
});
