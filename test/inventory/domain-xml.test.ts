import { describe, expect, it } from 'vitest';
import { parseDomainXml } from '../../src/inventory/domain-xml.ts';
import { InventoryError } from '../../src/inventory/errors.ts';
import { fixture } from './fake-virsh.ts';

describe('parseDomainXml on live domain XML', () => {
  it.each([
    [
      'web1-hostdev-interface.xml',
      {
        name: 'web1',
        running: true,
        uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0',
        // The virtio <interface type='network'> is not a VF and is left out.
        vfs: [{ element: 'interface', mac: '52:54:00:6d:90:01', pciAddress: '0000:41:00.2' }],
        channels: [{ name: 'org.qemu.guest_agent.0', path: '/run/libvirt/qemu/channel/3-web1/org.qemu.guest_agent.0', mode: 'bind', state: 'connected' }],
        slaMetadata: { guarantee: '10gbit', max: '20gbit', weight: '2' },
      },
    ],
    [
      'db1-hostdev-daqs-channel.xml',
      {
        name: 'db1',
        running: true,
        uuid: '0c1f3a5e-7b9d-4e2f-8a6c-1d3e5f7a9b0c',
        vfs: [{ element: 'hostdev', pciAddress: '0000:41:00.3' }],
        channels: [
          { name: 'org.qemu.guest_agent.0', path: '/run/libvirt/qemu/channel/4-db1/org.qemu.guest_agent.0', mode: 'bind', state: 'connected' },
          { name: 'org.daqs.agent.0', path: '/run/daqs/agents/db1.sock', mode: 'bind', state: 'connected' },
        ],
        // Written with prefix "sla" (virsh metadata --key sla): found by namespace URI.
        slaMetadata: { guarantee: '5gbit' },
      },
    ],
    [
      'batch1-no-agent.xml',
      {
        name: 'batch1',
        running: true,
        uuid: '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4',
        vfs: [
          { element: 'interface', mac: '52:54:00:6d:90:03', pciAddress: '0000:41:00.4' },
          { element: 'interface', mac: '52:54:00:6d:90:04', pciAddress: '0000:41:00.5' },
        ],
        channels: [],
        // <other:sla> is in another namespace: not ours.
        slaMetadata: null,
      },
    ],
    [
      'bad-metadata.xml',
      {
        name: 'oddvm',
        running: true,
        uuid: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        vfs: [{ element: 'interface', mac: '52:54:00:6d:90:05', pciAddress: '0000:41:01.0' }],
        channels: [{ name: 'org.qemu.guest_agent.0', path: '/run/libvirt/qemu/channel/6-oddvm/org.qemu.guest_agent.0', mode: 'bind', state: 'disconnected' }],
        slaMetadata: { guarantee: '10gbitt', weight: '-1', colour: 'blue' },
      },
    ],
  ])('%s', (file, expected) => {
    expect(parseDomainXml(fixture(file))).toEqual(expected);
  });

  it('finds our metadata when the namespace is declared on <metadata>', () => {
    const xml = `<domain type='kvm'><name>x</name><metadata xmlns:q="https://daqs.dev/xmlns/sla/1"><q:sla guarantee="1gbit"/></metadata><devices/></domain>`;
    expect(parseDomainXml(xml).slaMetadata).toEqual({ guarantee: '1gbit' });
  });

  it('ignores channels that are not unix sockets and hostdevs that are not PCI', () => {
    const xml = `<domain type='kvm'><name>x</name><devices>
      <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
      <hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x1234'/><product id='0xbeef'/></source></hostdev>
    </devices></domain>`;
    expect(parseDomainXml(xml)).toEqual({ name: 'x', running: false, vfs: [], channels: [], slaMetadata: null });
  });

  it.each([
    ['truncated', fixture('web1-hostdev-interface.xml').slice(0, 400), /not well-formed.*line \d+/],
    ['not a domain', '<network><name>default</name></network>', /is not a libvirt domain/],
    ['empty', '', /not well-formed|not a libvirt domain/],
  ])('refuses %s XML with E_DOMAIN_XML', (_name, xml, message) => {
    let err: unknown;
    try {
      parseDomainXml(xml, 'web1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).code).toBe('E_DOMAIN_XML');
    expect((err as Error).message).toMatch(message);
  });
});
