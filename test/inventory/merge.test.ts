import { describe, expect, it } from 'vitest';
import type { VmSettings } from '../../src/config/schema.ts';
import { buildInventory, carryOver, chooseVf, resolveSla } from '../../src/inventory/merge.ts';
import type { DiscoveredVm, SlaSettings, VfRef } from '../../src/inventory/types.ts';

const file = (s: Partial<VmSettings>): VmSettings => ({ guaranteeBps: undefined, maxBps: undefined, weight: undefined, iface: undefined, mac: undefined, ...s });

describe('resolveSla: the file wins, each setting records its source', () => {
  it.each<[string, VmSettings | undefined, SlaSettings | null, object, object]>([
    ['nothing anywhere', undefined, null, { guaranteeBps: 0, maxBps: null, weight: 1 }, { guaranteeBps: 'default', maxBps: 'default', weight: 'default' }],
    ['file only', file({ guaranteeBps: 10e9 }), null, { guaranteeBps: 10e9, maxBps: null, weight: 1 }, { guaranteeBps: 'config', maxBps: 'default', weight: 'default' }],
    ['metadata only', undefined, { guaranteeBps: 5e9, weight: 3 }, { guaranteeBps: 5e9, maxBps: null, weight: 3 }, { guaranteeBps: 'libvirt-metadata', maxBps: 'default', weight: 'libvirt-metadata' }],
    ['both: file wins per setting', file({ guaranteeBps: 10e9 }), { guaranteeBps: 5e9, maxBps: 20e9 }, { guaranteeBps: 10e9, maxBps: 20e9, weight: 1 }, { guaranteeBps: 'config', maxBps: 'libvirt-metadata', weight: 'default' }],
    ['explicit zero in the file beats metadata', file({ guaranteeBps: 0 }), { guaranteeBps: 5e9 }, { guaranteeBps: 0, maxBps: null, weight: 1 }, { guaranteeBps: 'config', maxBps: 'default', weight: 'default' }],
  ])('%s', (_name, f, m, sla, sources) => {
    const r = resolveSla(f, m);
    expect(r.sla).toEqual(sla);
    expect(r.slaSource).toEqual(sources);
    expect(r.problems).toEqual([]);
  });

  it.each<[string, VmSettings, SlaSettings, object, RegExp]>([
    ['metadata guarantee above file max', file({ maxBps: 5e9 }), { guaranteeBps: 8e9 }, { guaranteeBps: 0, maxBps: 5e9, weight: 1 }, /metadata guarantee 8gbit is above max 5gbit from the config file: metadata guarantee ignored/],
    ['metadata max below file guarantee', file({ guaranteeBps: 8e9 }), { maxBps: 5e9 }, { guaranteeBps: 8e9, maxBps: null, weight: 1 }, /metadata max 5gbit is below guarantee 8gbit from the config file: metadata max ignored/],
  ])('conflict across sources drops the metadata value: %s', (_name, f, m, sla, problem) => {
    const r = resolveSla(f, m);
    expect(r.sla).toEqual(sla);
    expect(r.problems.join()).toMatch(problem);
  });
});

describe('chooseVf', () => {
  const a = { mac: '52:54:00:00:00:0a', pciAddress: '0000:41:00.2' };
  const b = { mac: '52:54:00:00:00:0b', pciAddress: '0000:41:00.3' };
  it.each<[string, VfRef[], VmSettings | undefined, object, number]>([
    ['the only VF', [a], undefined, a, 0],
    ['by configured MAC', [a, b], file({ mac: b.mac }), b, 0],
    ['first of several, with a hint', [a, b], undefined, a, 1],
    ['configured MAC not found: kept for matching in the guest', [a], file({ mac: '52:54:00:00:00:0c' }), { mac: '52:54:00:00:00:0c' }, 1],
    ['no VF, interface from the file', [], file({ iface: 'eth1' }), { iface: 'eth1' }, 0],
    ['file interface name added to the VF', [a], file({ iface: 'ens5' }), { ...a, iface: 'ens5' }, 0],
    ['plain hostdev without MAC: asks for mac or interface', [{ pciAddress: '0000:41:00.3' }], undefined, { pciAddress: '0000:41:00.3' }, 1],
    ['plain hostdev with interface from the file', [{ pciAddress: '0000:41:00.3' }], file({ iface: 'eth1' }), { pciAddress: '0000:41:00.3', iface: 'eth1' }, 0],
  ])('%s', (_name, candidates, f, vf, problems) => {
    const r = chooseVf(candidates, f);
    expect(r.vf).toEqual(vf);
    expect(r.problems).toHaveLength(problems);
  });
});

const vm = (id: string, metadata: SlaSettings | null = null, extra: Partial<DiscoveredVm> = {}): DiscoveredVm => ({
  id,
  origin: 'libvirt',
  agent: { kind: 'libvirt', uri: 'qemu:///system', domain: id },
  status: { state: 'ready' },
  vfCandidates: [],
  metadata,
  problems: [],
  ...extra,
});

describe('buildInventory', () => {
  it('gives unlisted VMs Best-Effort defaults and sorts by id', () => {
    const inv = buildInventory([vm('z'), vm('a')], { vms: { a: file({ guaranteeBps: 1e9 }) }, capacityBps: 10e9 });
    expect(inv.map((v) => [v.id, v.sla.guaranteeBps, v.slaSource.guaranteeBps])).toEqual([
      ['a', 1e9, 'config'],
      ['z', 0, 'default'],
    ]);
  });

  it('refuses a metadata guarantee that does not fit beside the admitted ones, with the numbers', () => {
    const inv = buildInventory([vm('a', { guaranteeBps: 4e9 }), vm('b', { guaranteeBps: 4e9 })], { vms: { c: file({ guaranteeBps: 5e9 }) }, capacityBps: 10e9 });
    expect(inv.map((v) => [v.id, v.sla.guaranteeBps, v.slaSource.guaranteeBps])).toEqual([
      ['a', 4e9, 'libvirt-metadata'],
      ['b', 0, 'default'],
    ]);
    expect(inv[1]?.problems).toEqual([
      "libvirt metadata guarantee 4gbit refused by admission control: guarantees already admitted add up to 9gbit of the port's 10gbit; the VM runs Best-Effort",
    ]);
  });

  it('keeps a guarantee admitted earlier ahead of a newcomer', () => {
    const first = buildInventory([vm('b', { guaranteeBps: 6e9 })], { vms: {}, capacityBps: 10e9 });
    const next = buildInventory([vm('a', { guaranteeBps: 6e9 }), vm('b', { guaranteeBps: 6e9 })], { vms: {}, capacityBps: 10e9, previous: first });
    expect(next.map((v) => [v.id, v.sla.guaranteeBps])).toEqual([
      ['a', 0],
      ['b', 6e9],
    ]);
  });
});

describe('buildInventory with two VMs on one agent socket', () => {
  it('gives the socket to the first VM only and tells the operator about the second', () => {
    const shared = { agent: { kind: 'unix' as const, socket: '/run/daqs/agents/x.sock' } };
    const inv = buildInventory([vm('b', null, shared), vm('a', null, shared), vm('c', null, { agent: { kind: 'unix', socket: '/run/daqs/agents/c.sock' } })], { vms: {}, capacityBps: 10e9 });
    expect(inv.map((v) => [v.id, v.agent?.kind ?? null, v.status.state])).toEqual([
      ['a', 'unix', 'ready'],
      ['b', null, 'no-agent'],
      ['c', 'unix', 'ready'],
    ]);
    expect(inv[1]?.problems).toEqual([expect.stringMatching(/agent socket \/run\/daqs\/agents\/x.sock is also the agent socket of VM a/)]);
  });
});

describe('carryOver', () => {
  it('keeps the last good lookup of a VM whose lookup failed, with the failure as status', () => {
    const good = vm('a', { guaranteeBps: 1e9 }, { vfCandidates: [{ mac: '52:54:00:00:00:01' }] });
    const failed = vm('a', null, { agent: null, status: { state: 'lookup-failed', code: 'E_VIRSH_DUMPXML', reason: 'timeout' } });
    const [kept] = carryOver([failed], [good]);
    expect(kept).toEqual({ ...good, status: failed.status });
  });

  it('reports a failed VM never seen before as it is', () => {
    const failed = vm('n', null, { agent: null, status: { state: 'lookup-failed', code: 'E', reason: 'x' } });
    expect(carryOver([failed], [])).toEqual([failed]);
  });
});
