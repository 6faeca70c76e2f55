import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createInventorySource } from '../../src/inventory/create-source.ts';
import { InventoryPoller } from '../../src/inventory/poller.ts';
import { FakeLibvirt, fixture } from './fake-virsh.ts';

let dir: string;
let server: Server | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daqs-fromcfg-'));
});
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const noCapacityLookup = { linkSpeedBps: () => Promise.reject(new Error('unused')), testbedCapacityBps: () => Promise.reject(new Error('unused')) };

describe('inventory built from a loaded config file', () => {
  it('static source: SLA from the file, agent sockets checked', async () => {
    const sock = join(dir, 'web1.sock');
    server = createServer();
    await new Promise<void>((r) => server?.listen(sock, r));
    const path = join(dir, 'daqs.yaml');
    await writeFile(path, stringify({
      port: { interface: 'eth0', capacity: '40gbit' },
      vms: { web1: { guarantee: '10gbit', interface: 'eth1' } },
      inventory: { source: 'static', static: [{ name: 'web1', socket: sock }, { name: 'be1', socket: join(dir, 'be1.sock'), mac: '52:54:00:00:00:02' }] },
    }));
    const { config, capacity } = await loadConfig(path, noCapacityLookup);
    const poller = new InventoryPoller({ source: createInventorySource(config), settings: () => ({ vms: config.vms, capacityBps: capacity.capacityBps }), intervalMs: 5000 });
    const vms = await poller.refresh();
    expect(vms.map((v) => [v.id, v.sla.guaranteeBps, v.slaSource.guaranteeBps, v.status.state, v.vf])).toEqual([
      ['be1', 0, 'default', 'not-ready', { mac: '52:54:00:00:00:02' }],
      ['web1', 10e9, 'config', 'ready', { iface: 'eth1' }],
    ]);
  });

  it('libvirt source: the file wins over metadata, sources recorded', async () => {
    const path = join(dir, 'daqs.yaml');
    await writeFile(path, stringify({ port: { interface: 'eth0', capacity: '40gbit' }, vms: { web1: { guarantee: '12gbit' } } }));
    const { config, capacity } = await loadConfig(path, noCapacityLookup);
    const lv = new FakeLibvirt().start(fixture('web1-hostdev-interface.xml')).start(fixture('db1-hostdev-daqs-channel.xml'));
    const poller = new InventoryPoller({ source: createInventorySource(config, { virsh: lv.run }), settings: () => ({ vms: config.vms, capacityBps: capacity.capacityBps }), intervalMs: 5000 });
    const vms = await poller.refresh();
    expect(vms.map((v) => [v.id, v.sla, v.slaSource])).toEqual([
      ['db1', { guaranteeBps: 5e9, maxBps: null, weight: 1 }, { guaranteeBps: 'libvirt-metadata', maxBps: 'default', weight: 'default' }],
      ['web1', { guaranteeBps: 12e9, maxBps: 20e9, weight: 2 }, { guaranteeBps: 'config', maxBps: 'libvirt-metadata', weight: 'libvirt-metadata' }],
    ]);
    expect(vms.map((v) => v.agent)).toEqual([
      { kind: 'unix', socket: '/run/daqs/agents/db1.sock' },
      { kind: 'libvirt', uri: 'qemu:///system', domain: 'web1' },
    ]);
  });
});
