import { describe, expect, it } from 'vitest';
import type { VmSettings } from '../../src/config/schema.ts';
import type { InventoryHealth } from '../../src/core/types.ts';
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

  it('reports its health: VMs per status, the last successful refresh, and failed ones', async () => {
    const source = new MemorySource();
    const health: InventoryHealth[] = [];
    let now = 1000;
    const poller = new InventoryPoller({ source, settings: () => settings(), intervalMs: 20, onHealth: (h) => health.push(h), nowEpochMs: () => now });
    expect(poller.health()).toEqual({ vms: { 'ready': 0, 'not-ready': 0, 'no-agent': 0, 'lookup-failed': 0, 'ignored': 0 }, lastRefreshEpochMs: null, refreshFailures: 0 });
    source.add('r1');
    source.add('r2');
    source.add('nr', { status: { state: 'not-ready', reason: 'socket missing' } });
    source.add('na', { agent: null, status: { state: 'no-agent', reason: 'no channel' } });
    source.add('ig', { agent: null });
    source.add('lf');
    source.failing.add('lf');
    await poller.refresh();
    expect(health.at(-1)).toEqual({ vms: { 'ready': 2, 'not-ready': 1, 'no-agent': 1, 'lookup-failed': 1, 'ignored': 1 }, lastRefreshEpochMs: 1000, refreshFailures: 0 });
    now = 6000;
    source.down = new Error('libvirt down');
    await poller.refresh();
    // The previous list stays, so do its counts; the last success is still the first poll.
    expect(health.at(-1)).toMatchObject({ vms: { ready: 2 }, lastRefreshEpochMs: 1000, refreshFailures: 1 });
    source.down = null;
    now = 11000;
    await poller.refresh();
    expect(health.at(-1)).toMatchObject({ lastRefreshEpochMs: 11000, refreshFailures: 1 });
  });

  it('a new interval takes effect on the wait in progress', async () => {
    const source = new MemorySource();
    const poller = new InventoryPoller({ source, settings: () => settings(), intervalMs: 60_000 });
    poller.start();
    await poller.refresh();
    source.add('late');
    poller.setIntervalMs(20);
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
