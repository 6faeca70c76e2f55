/**
 * Pure parts of the real guests: module load order, ldd parsing, the QEMU command line and
 * the domain XML (read back with daqs' own parser), and the options refused before building.
 */
import { describe, expect, it } from 'vitest';
import { parseSlaFlags } from '../../src/cli/commands/testbed.ts';
import { DAQS_AGENT_CHANNEL, GUEST_AGENT_CHANNEL } from '../../src/core/libvirt-names.ts';
import { parseDomainXml } from '../../src/inventory/domain-xml.ts';
import { describeDomain } from '../../src/inventory/libvirt-describe.ts';
import { moduleLoadOrder, parseLdd, parseModuleDepends } from '../../src/testbed/guest-image.ts';
import { GUEST_INIT, TESTBED_CHANNEL } from '../../src/testbed/guest-init.ts';
import { domainXml, qemuArgv, type GuestSpec } from '../../src/testbed/guest-machine.ts';
import { testbedUp } from '../../src/testbed/index.ts';
import { planLibvirt, validateStateDir } from '../../src/testbed/plan.ts';

const SPEC: GuestSpec = {
  name: 'tb-vm0',
  kernel: '/var/cache/daqs/guest/0123456789abcdef/vmlinuz',
  initrd: '/var/cache/daqs/guest/0123456789abcdef/initrd.cpio',
  memoryMiB: 128,
  mac: '02:da:12:34:00:00',
  ipCidr: '10.77.0.1/24',
  tap: 'vf0',
  agentSocket: '/run/daqs/testbed/tb/vm0.sock',
  controlSocket: '/run/daqs/testbed/tb/vm0.ctl',
  consoleLog: '/run/daqs/testbed/tb/vm0.console.log',
};

describe('guest image inputs', () => {
  it('orders modules after what they depend on, each once, roots in the order given', () => {
    // The dependencies of Debian 6.1's virtio modules, as modinfo reports them.
    const deps: Record<string, string[]> = {
      virtio_pci: ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio'],
      virtio_console: ['virtio', 'virtio_ring'],
      virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
      net_failover: ['failover'],
      virtio: ['virtio_ring'],
    };
    const order = moduleLoadOrder(['virtio_pci', 'virtio_console', 'virtio_net', 'sch_htb'], (n) => deps[n] ?? []);
    expect(order).toEqual(['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio', 'virtio_pci', 'virtio_console', 'failover', 'net_failover', 'virtio_net', 'sch_htb']);
    for (const [mod, ds] of Object.entries(deps)) for (const d of ds) expect(order.indexOf(d)).toBeLessThan(order.indexOf(mod));
  });

  it('refuses a dependency cycle instead of looping', () => {
    expect(() => moduleLoadOrder(['a'], (n) => (n === 'a' ? ['b'] : ['a']))).toThrow(/cycle a -> b -> a/);
  });

  it('reads libraries from ldd output, including the loader, and modinfo depends', () => {
    const ldd = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibglib-2.0.so.0 => /lib/x86_64-linux-gnu/libglib-2.0.so.0 (0x00007f)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    ].join('\n');
    expect(parseLdd(ldd)).toEqual(['/lib/x86_64-linux-gnu/libglib-2.0.so.0', '/lib64/ld-linux-x86-64.so.2']);
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseModuleDepends('virtio_ring,virtio\n')).toEqual(['virtio_ring', 'virtio']);
    expect(parseModuleDepends('\n')).toEqual([]);
  });

  it("the guest's /init is constant: per-VM data comes from the kernel command line only", () => {
    expect(GUEST_INIT).not.toMatch(/10\.77\.|02:da:|\/run\/daqs/);
    for (const ch of [GUEST_AGENT_CHANNEL, DAQS_AGENT_CHANNEL, TESTBED_CHANNEL]) expect(GUEST_INIT).toContain(ch);
  });
});

describe('the same guest as a QEMU command line and as libvirt domain XML', () => {
  it('QEMU: TCG q35, direct kernel boot, agent on the VM socket, the testbed channel, the tap with the VF MAC', () => {
    const argv = qemuArgv(SPEC, '/run/daqs/testbed/tb/vm0.qemu.pid');
    const after = (flag: string): string[] => argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));
    expect(after('-accel')[0]).toMatch(/^tcg/);
    expect(after('-kernel')).toEqual([SPEC.kernel]);
    expect(after('-append')[0]).toContain('daqs.ip=10.77.0.1/24');
    expect(after('-chardev').join(' ')).toContain(`path=${SPEC.agentSocket},server=on`);
    expect(after('-device').join(' ')).toContain(`name=${GUEST_AGENT_CHANNEL}`);
    expect(after('-device').join(' ')).toContain(`name=${TESTBED_CHANNEL}`);
    expect(after('-netdev')).toEqual(['tap,id=net0,ifname=vf0,script=no,downscript=no']);
    expect(after('-device').join(' ')).toContain(`mac=${SPEC.mac}`);
  });

  it('refuses values QEMU would split (a comma in a path) instead of passing them', () => {
    expect(() => qemuArgv({ ...SPEC, consoleLog: '/tmp/a,b' }, '/tmp/p')).toThrow(/consoleLog/);
    expect(() => domainXml({ ...SPEC, agentSocket: "/tmp/x'/><y" })).toThrow(/agentSocket/);
    expect(() => domainXml(SPEC, { 'bad attr': '1' })).toThrow(/not an XML name/);
  });

  it("libvirt: daqs' own parser finds the dedicated channel at the VM socket, the standard one, and the <daqs:sla> metadata", () => {
    // A live domain has an id; the definition the testbed writes is what libvirt echoes back.
    const live = domainXml(SPEC, { guarantee: '500mbit', weight: '2' }).replace("<domain type='qemu'>", "<domain type='qemu' id='1'>");
    const info = parseDomainXml(live, SPEC.name);
    expect(info.name).toBe(SPEC.name);
    expect(info.slaMetadata).toEqual({ guarantee: '500mbit', weight: '2' });
    const vm = describeDomain(info, 'qemu+unix:///system?socket=/x');
    expect(vm.agent).toEqual({ kind: 'unix', socket: SPEC.agentSocket });
    expect(vm.metadata).toEqual({ guaranteeBps: 500e6, maxBps: undefined, weight: 2 });
    expect(info.channels.map((c) => c.name)).toEqual([GUEST_AGENT_CHANNEL, DAQS_AGENT_CHANNEL, TESTBED_CHANNEL]);
    // A value with XML specials stays one attribute value (daqs then refuses it as a rate).
    const odd = parseDomainXml(domainXml(SPEC, { guarantee: '1<2&"3"' }).replace("<domain type='qemu'>", "<domain type='qemu' id='1'>"));
    expect(odd.slaMetadata).toEqual({ guarantee: '1<2&"3"' });
    // Without SLA attributes there is no metadata element at all.
    expect(parseDomainXml(domainXml(SPEC)).slaMetadata).toBeNull();
  });
});

describe('options of real guests', () => {
  it.each([
    [{ name: 'tbv', vms: 2, capacityBps: 2e9, real: 3 }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 2, capacityBps: 2e9, real: -1 }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 2, capacityBps: 2e9, libvirt: true }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 2, capacityBps: 2e9, real: 1, guestMemoryMiB: 32 }, 'E_TESTBED_VMS'],
    [{ name: 'tbv', vms: 2, capacityBps: 2e9, real: 1, stateDir: '/tmp/a,b' }, 'E_TESTBED_STATE_DIR'],
  ] as const)('refuses %j before anything else', async (opts, code) => {
    await expect(testbedUp(opts)).rejects.toMatchObject({ code });
  });

  it('keeps the libvirt socket under the unix socket path limit for the longest name', () => {
    expect(() => validateStateDir('/run/daqs/testbed', 'abcdefgh', 250)).not.toThrow();
    expect(planLibvirt('/run/daqs/testbed/abcdefgh').uri).toBe('qemu+unix:///system?socket=/run/daqs/testbed/abcdefgh/libvirt/run/libvirt/libvirt-sock');
  });

  it('parses --sla flags per VM, merging repeats, and refuses malformed ones', () => {
    expect(parseSlaFlags(['0:guarantee=500mbit,max=1gbit', '1:weight=2', '0:weight=3'])).toEqual({ 0: { guarantee: '500mbit', max: '1gbit', weight: '3' }, 1: { weight: '2' } });
    expect(() => parseSlaFlags(['guarantee=1'])).toThrow(/VM:KEY=VALUE/);
    expect(() => parseSlaFlags(['0:guarantee'])).toThrow(/not KEY=VALUE/);
  });
});
