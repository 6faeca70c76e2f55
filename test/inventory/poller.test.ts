import { describe, expect, it } from 'vitest';
import type { VmSettings } from '../../src/config/schema.ts';
import { InventoryPoller, type InventoryChange, type InventorySettings } from '../../src/inventory/poller.ts';
import type { DiscoveredVm, InventorySource } from '../../src/inventory/types.ts';

/** A source over an in-memory set of VMs that tests change between polls; it can fail as a whole or per VM. */
class MemorySource implements InventorySource {
  readonly name = 'static' as const;
  readonly vms = new Map<string, DiscoveredVm>();
  down: Error | null = null;
  failing = new Set<string>();

  add(id: string, extra: Partial<DiscoveredVm> = {}): void {
    this.vms.set(id, { id, origin: 'static', agent: { kind: 'unix', socket: `/run/${id}.sock` }, status: { state: 'ready' }, vfCandidates: [], metadata: null, problems: [], ...extra });
  }

  discover(): Promise<DiscoveredVm[]> {
    if (this.down) return Promise.reject(this.down);
    return Promise.resolve(
      [...this.vms.values()].map((vm) =>
        this.failing.has(vm.id) ? { ...vm, agent: null, status: { state: 'lookup-failed' as const, code: 'E_X', reason: 'lookup timed out' } } : vm,
      ),
    );
  }
}

const settings = (vms: Record<string, Partial<VmSettings>> = {}): InventorySettings => ({ vms, capacityBps: 10e9 });

function setup(initial: InventorySettings = settings()) {
  const source = new MemorySource();
  let current = initial;
  const changes: InventoryChange[] = [];
  const errors: Error[] = [];
  const poller = new InventoryPoller({ source, settings: () => current, intervalMs: 20, onChange: (c) => changes.push(c), onError: (e) => errors.push(e) });
  return { source, poller, changes, errors, setSettings: (s: InventorySettings) => (current = s) };
}

describe('InventoryPoller', () => {
  it('reports VMs that appear, change and disappear', async () => {
    const { source, poller, changes } = setup();
    source.add('a');
    source.add('b');
    await poller.refresh();
    source.vms.delete('a');
    source.add('b', { status: { state: 'not-ready', reason: 'socket missing' } });
    source.add('c');
    await poller.refresh();
    await poller.refresh(); // nothing changed: no event
    expect(changes.map((c) => ({ appeared: c.appeared.map((v) => v.id), disappeared: c.disappeared, changed: c.changed.map((v) => v.id) }))).toEqual([
      { appeared: ['a', 'b'], disappeared: [], changed: [] },
      { appeared: ['c'], disappeared: ['a'], changed: ['b'] },
    ]);
    expect(poller.vms.map((v) => [v.id, v.status.state])).toEqual([
      ['b', 'not-ready'],
      ['c', 'ready'],
    ]);
  });

  it('keeps the previous inventory when the source fails as a whole', async () => {
    const { source, poller, errors } = setup();
    source.add('a');
    await poller.refresh();
    source.down = Object.assign(new Error('libvirt down'), { code: 'E_VIRSH_LIST' });
    const vms = await poller.refresh();
    expect(vms.map((v) => v.id)).toEqual(['a']);
    expect(errors.map((e) => e.message)).toEqual(['libvirt down']);
  });

  it('keeps the last known agent of a VM whose lookup fails, and the other VMs', async () => {
    const { source, poller } = setup(settings({ a: { guaranteeBps: 1e9 } }));
    source.add('a');
    source.add('b');
    await poller.refresh();
    source.failing.add('a');
    await poller.refresh();
    const a = poller.vms.find((v) => v.id === 'a');
    expect(a?.agent).toEqual({ kind: 'unix', socket: '/run/a.sock' });
    expect(a?.status).toEqual({ state: 'lookup-failed', code: 'E_X', reason: 'lookup timed out' });
    expect(a?.sla.guaranteeBps).toBe(1e9);
    expect(poller.vms.map((v) => v.id)).toEqual(['a', 'b']);
  });

  it('applies reloaded settings without polling', async () => {
    const { source, poller, setSettings, changes } = setup();
    source.add('a');
    await poller.refresh();
    setSettings(settings({ a: { guaranteeBps: 2e9, weight: 3 } }));
    source.vms.clear(); // not polled: the VM stays
    const vms = poller.remerge();
    expect(vms.map((v) => [v.id, v.sla, v.slaSource])).toEqual([['a', { guaranteeBps: 2e9, maxBps: null, weight: 3 }, { guaranteeBps: 'config', maxBps: 'default', weight: 'config' }]]);
    expect(changes.at(-1)?.changed.map((v) => v.id)).toEqual(['a']);
  });

  it('polls on its own once started, and stops', async () => {
    const { source, poller } = setup();
    poller.start();
    source.add('late');
    const end = Date.now() + 2000;
    while (!poller.vms.some((v) => v.id === 'late') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    poller.stop();
    expect(poller.vms.map((v) => v.id)).toEqual(['late']);
  });

  it('shares one poll between concurrent refreshes', async () => {
    const { source, poller } = setup();
    source.add('a');
    const [x, y] = await Promise.all([poller.refresh(), poller.refresh()]);
    expect(x).toBe(y);
  });
});
