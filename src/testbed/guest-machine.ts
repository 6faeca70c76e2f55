/**
 * One real test guest as a machine: the same guest described as a QEMU command line (argv,
 * for starting QEMU directly) and as libvirt domain XML. Pure: spec in, argv or XML out.
 */
import { DAQS_AGENT_CHANNEL, DAQS_METADATA_ELEMENT, DAQS_METADATA_NS, GUEST_AGENT_CHANNEL } from '../core/libvirt-names.ts';
import { TestbedError } from './errors.ts';
import { GUEST_IP_PARAM, TESTBED_CHANNEL } from './guest-init.ts';

/** Everything that makes one real guest. */
export interface GuestSpec {
  /** Machine name (the VM id; the libvirt domain name). */
  readonly name: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly memoryMiB: number;
  readonly mac: string;
  /** Guest address with prefix, `10.77.0.1/24`. */
  readonly ipCidr: string;
  /** Tap device on the emulated switch that is this guest's "VF". */
  readonly tap: string;
  /** The socket daqs' agent client connects to. */
  readonly agentSocket: string;
  /** The testbed's own qemu-ga channel (traffic start/stop). */
  readonly controlSocket: string;
  readonly consoleLog: string;
}

/** The QEMU binary the guests run on (Debian's qemu-system-x86). */
export const QEMU_BINARY = '/usr/bin/qemu-system-x86_64';

/**
 * TCG translation cache per guest, MiB. QEMU's default (up to 1 GiB, used as the guest runs)
 * made a 192 MiB guest's QEMU reach ~280 MiB RSS; a small guest running busybox, qemu-ga,
 * tc and iperf needs far less.
 */
export const TCG_CACHE_MIB = 32;

// Values that go into QEMU's key=value option syntax or the kernel command line: no ',' '=' or spaces.
const PLAIN = /^[A-Za-z0-9/._:-]+$/;

function checkSpec(spec: GuestSpec): void {
  const fields: (keyof GuestSpec)[] = ['name', 'kernel', 'initrd', 'mac', 'ipCidr', 'tap', 'agentSocket', 'controlSocket', 'consoleLog'];
  for (const f of fields) {
    const v = spec[f];
    if (typeof v !== 'string' || !PLAIN.test(v)) {
      throw new TestbedError('E_TESTBED_STATE_DIR', `real guest ${spec.name}: ${f} ${JSON.stringify(v)} has characters QEMU options or libvirt XML would misread; use letters, digits and / . _ : - only.`);
    }
  }
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 96 || spec.memoryMiB > 4096) {
    throw new TestbedError('E_TESTBED_VMS', `real guest memory ${spec.memoryMiB} MiB: use 96 to 4096 (the guest's initramfs alone takes ~30 MiB).`);
  }
}

/** The guest kernel's command line: serial console, no reboot loop on panic, and the guest's address. */
export function guestCmdline(spec: Pick<GuestSpec, 'ipCidr'>): string {
  return `console=ttyS0 panic=-1 loglevel=4 ${GUEST_IP_PARAM}=${spec.ipCidr}`;
}

/**
 * argv of a direct QEMU guest: q35 under TCG, direct kernel boot, qemu-ga on the standard
 * channel (the VM's agent socket) and on the testbed's channel, virtio-net on the tap.
 */
export function qemuArgv(spec: GuestSpec, pidFile: string): string[] {
  checkSpec(spec);
  if (!PLAIN.test(pidFile)) throw new TestbedError('E_TESTBED_STATE_DIR', `real guest ${spec.name}: pid file ${JSON.stringify(pidFile)} has characters QEMU would misread.`);
  return [
    QEMU_BINARY,
    '-name', spec.name,
    '-machine', 'q35',
    '-accel', `tcg,tb-size=${TCG_CACHE_MIB}`,
    '-m', String(spec.memoryMiB),
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', guestCmdline(spec),
    '-serial', `file:${spec.consoleLog}`,
    '-device', 'virtio-serial-pci,id=vs0',
    '-chardev', `socket,id=agent0,path=${spec.agentSocket},server=on,wait=off`,
    '-device', `virtserialport,bus=vs0.0,nr=1,chardev=agent0,name=${GUEST_AGENT_CHANNEL}`,
    '-chardev', `socket,id=ctl0,path=${spec.controlSocket},server=on,wait=off`,
    '-device', `virtserialport,bus=vs0.0,nr=2,chardev=ctl0,name=${TESTBED_CHANNEL}`,
    '-netdev', `tap,id=net0,ifname=${spec.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=net0,mac=${spec.mac}`,
    '-pidfile', pidFile,
  ];
}

/** Escapes text for an XML attribute or element. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

const SLA_ATTR = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Domain XML of the same guest under libvirt: `<domain type='qemu'>` (TCG), direct kernel
 * boot, the standard agent channel (libvirt owns its socket), daqs' dedicated channel bound
 * at the VM's agent socket, the testbed's channel, the tap as an unmanaged ethernet
 * interface, and `<daqs:sla>` metadata when `sla` has attributes.
 */
export function domainXml(spec: GuestSpec, sla: Readonly<Record<string, string>> = {}): string {
  checkSpec(spec);
  for (const k of Object.keys(sla)) {
    if (!SLA_ATTR.test(k)) throw new TestbedError('E_TESTBED_RATE', `SLA metadata attribute ${JSON.stringify(k)} of ${spec.name} is not an XML name; use guarantee, max or weight.`);
  }
  const attrs = Object.entries(sla).map(([k, v]) => ` ${k}="${xmlEscape(v)}"`).join('');
  const metadata = Object.keys(sla).length > 0
    ? `  <metadata>\n    <daqs:${DAQS_METADATA_ELEMENT} xmlns:daqs="${DAQS_METADATA_NS}"${attrs}/>\n  </metadata>\n`
    : '';
  const e = xmlEscape;
  return `<domain type='qemu'>
  <name>${e(spec.name)}</name>
${metadata}  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${e(spec.kernel)}</kernel>
    <initrd>${e(spec.initrd)}</initrd>
    <cmdline>${e(guestCmdline(spec))}</cmdline>
  </os>
  <features>
    <acpi/>
    <tcg><tb-cache unit='MiB'>${TCG_CACHE_MIB}</tb-cache></tcg>
  </features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>${QEMU_BINARY}</emulator>
    <serial type='file'>
      <source path='${e(spec.consoleLog)}'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='${GUEST_AGENT_CHANNEL}'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='${e(spec.agentSocket)}'/>
      <target type='virtio' name='${DAQS_AGENT_CHANNEL}'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='${e(spec.controlSocket)}'/>
      <target type='virtio' name='${TESTBED_CHANNEL}'/>
    </channel>
    <interface type='ethernet'>
      <mac address='${e(spec.mac)}'/>
      <target dev='${e(spec.tap)}' managed='no'/>
      <model type='virtio'/>
    </interface>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
