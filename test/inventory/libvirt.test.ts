import { describe, expect, it } from 'vitest';
import { parseDomainXml } from '../../src/inventory/domain-xml.ts';
import { chooseAgent, describeDomain } from '../../src/inventory/libvirt-describe.ts';
import { LibvirtSource } from '../../src/inventory/libvirt-source.ts';
import { FakeLibvirt, fixture } from './fake-virsh.ts';

const URI = 'qemu:///system';
const web1 = fixture('web1-hostdev-interface.xml');
const db1 = fixture('db1-hostdev-daqs-channel.xml');
const batch1 = fixture('batch1-no-agent.xml');
const oddvm = fixture('bad-metadata.xml');

describe('choosing the agent from the channels', () => {
  it.each([
    ['standard agent, connected', web1, { kind: 'libvirt', uri: URI, domain: 'web1' }, 'ready'],
    ['dedicated daqs channel preferred', db1, { kind: 'unix', socket: '/run/daqs/agents/db1.sock' }, 'ready'],
    ['dedicated channel not opened by the guest', db1.replace("name='org.daqs.agent.0' state='connected'", "name='org.daqs.agent.0' state='disconnected'"), { kind: 'unix', socket: '/run/daqs/agents/db1.sock' }, 'not-ready'],
    ['standard agent, qemu-ga not running', oddvm, { kind: 'libvirt', uri: URI, domain: 'oddvm' }, 'not-ready'],
    ['no agent channel', batch1, null, 'no-agent'],
    ['state unknown (inactive-style XML) counts as ready', web1.replace(" state='connected'", ''), { kind: 'libvirt', uri: URI, domain: 'web1' }, 'ready'],
  ])('%s', (_name, xml, agent, state) => {
    const chosen = chooseAgent(parseDomainXml(xml), URI);
    expect(chosen.agent).toEqual(agent);
    expect(chosen.status.state).toBe(state);
  });

  it('falls back to the standard agent when the daqs channel has mode connect, saying why', () => {
    const xml = db1.replace("<source mode='bind' path='/run/daqs/agents/db1.sock'/>", "<source mode='connect' path='/run/daqs/agents/db1.sock'/>");
    const chosen = chooseAgent(parseDomainXml(xml), URI);
    expect(chosen.agent).toEqual({ kind: 'libvirt', uri: URI, domain: 'db1' });
    expect(chosen.problems.join()).toContain("source mode='connect'");
  });

  it('tells how to add an agent channel', () => {
    const status = chooseAgent(parseDomainXml(batch1), URI).status;
    expect(status.state === 'no-agent' && status.reason).toContain("<target type='virtio' name='org.qemu.guest_agent.0'/>");
  });
});

describe('describeDomain', () => {
  it('reads valid metadata into settings', () => {
    expect(describeDomain(parseDomainXml(web1), URI)).toEqual({
      id: 'web1',
      origin: 'libvirt',
      agent: { kind: 'libvirt', uri: URI, domain: 'web1' },
      status: { state: 'ready' },
      vfCandidates: [{ mac: '52:54:00:6d:90:01', pciAddress: '0000:41:00.2' }],
      metadata: { guaranteeBps: 10e9, maxBps: 20e9, weight: 2 },
      problems: [],
    });
  });

  it('ignores malformed metadata with one problem per attribute, keeping the VM', () => {
    const vm = describeDomain(parseDomainXml(oddvm), URI);
    expect(vm.metadata).toBeNull();
    expect(vm.problems).toEqual([
      expect.stringMatching(/^libvirt metadata <daqs:sla> ignored: guarantee: "10gbitt" is not a rate: unknown unit "gbitt"/),
      expect.stringMatching(/^libvirt metadata <daqs:sla> ignored: weight: "-1" must be a number from 0.01 to 1000/),
      expect.stringMatching(/^libvirt metadata <daqs:sla> ignored: colour: unknown attribute; allowed here: guarantee, max, weight/),
    ]);
  });

  it.each([
    ['guarantee="1gbit" max="500mbit"', /guarantee: "1gbit" is above max 500mbit/],
    ['gaurantee="1gbit"', /gaurantee: unknown attribute \(did you mean 'guarantee'\?\)/],
    ['weight=""', /weight: "" must be a number from 0.01 to 1000/],
    ['weight="two"', /weight: "two" must be a number from 0.01 to 1000/],
  ])('refuses metadata %s', (attrs, problem) => {
    const xml = web1.replace('guarantee="10gbit" max="20gbit" weight="2"', attrs);
    const vm = describeDomain(parseDomainXml(xml), URI);
    expect(vm.metadata).toBeNull();
    expect(vm.problems.join('\n')).toMatch(problem);
  });
});

describe('LibvirtSource against a fake libvirt speaking virsh formats', () => {
  it('lists running domains with agent, VFs and metadata', async () => {
    const lv = new FakeLibvirt().start(web1).start(db1).start(batch1);
    const vms = await new LibvirtSource({ uri: URI, run: lv.run }).discover();
    expect(vms.map((v) => [v.id, v.agent?.kind ?? null, v.status.state, v.metadata?.guaranteeBps ?? null])).toEqual([
      ['web1', 'libvirt', 'ready', 10e9],
      ['db1', 'unix', 'ready', 5e9],
      ['batch1', null, 'no-agent', null],
    ]);
  });

  it('leaves out stopped domains and domains that stop during the poll', async () => {
    const lv = new FakeLibvirt().start(web1).start(db1).start(batch1);
    const stopped = lv.domains.get('batch1');
    if (stopped) stopped.running = false;
    lv.vanishAfterList.add('db1');
    const vms = await new LibvirtSource({ uri: URI, run: lv.run }).discover();
    expect(vms.map((v) => v.id)).toEqual(['web1']);
  });

  it('reports a domain whose lookup fails, and keeps the others', async () => {
    const lv = new FakeLibvirt().start(web1).start(db1);
    const d = lv.domains.get('web1');
    if (d) d.broken = 'internal error: client socket is closed';
    const vms = await new LibvirtSource({ uri: URI, run: lv.run }).discover();
    expect(vms.map((v) => [v.id, v.status])).toEqual([
      ['web1', { state: 'lookup-failed', code: 'E_VIRSH_DUMPXML', reason: 'virsh dumpxml web1: internal error: client socket is closed' }],
      ['db1', { state: 'ready' }],
    ]);
  });

  it('reports a domain with malformed XML as lookup-failed', async () => {
    const lv = new FakeLibvirt().start(web1);
    const d = lv.domains.get('web1');
    if (d) d.xml = d.xml.slice(0, 300);
    const [vm] = await new LibvirtSource({ uri: URI, run: lv.run }).discover();
    expect(vm?.status.state === 'lookup-failed' && vm.status.code).toBe('E_DOMAIN_XML');
  });

  it('throws E_VIRSH_LIST when libvirt cannot be reached', async () => {
    const lv = new FakeLibvirt().start(web1);
    lv.listError = "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory";
    await expect(new LibvirtSource({ uri: URI, run: lv.run }).discover()).rejects.toMatchObject({
      code: 'E_VIRSH_LIST',
      message: expect.stringContaining('No such file or directory (is libvirtd running'),
    });
  });

  it('looks many domains up with bounded concurrency, in list order', async () => {
    const lv = new FakeLibvirt();
    for (let i = 0; i < 20; i++) lv.start(web1.replace('<name>web1</name>', `<name>vm${i}</name>`));
    const vms = await new LibvirtSource({ uri: URI, run: lv.run, concurrency: 3 }).discover();
    expect(vms.map((v) => v.id)).toEqual(Array.from({ length: 20 }, (_, i) => `vm${i}`));
  });
});
