/**
 * The emulated host's naming and address plan: pure functions, so names, addresses and MACs
 * are the same in the process that builds an instance and in the one that tears it down.
 */
import { join } from 'node:path';
import { TestbedError } from './errors.ts';

/** Where instance state (json, agent sockets, qemu-ga state dirs) lives by default. */
export const DEFAULT_STATE_DIR = '/run/daqs/testbed';

/**
 * RAM of a real guest, MiB. With 128 the guest has ~45 MiB available after boot (its
 * initramfs lives in RAM), plenty for qemu-ga, tc and iperf; QEMU's RSS is about RAM + 100 MiB.
 */
export const DEFAULT_GUEST_MEMORY_MIB = 128;

/** VMs per instance: the /24 plan gives VM i the address .(i+1) and the remote .254. */
export const MAX_VMS = 250;

/**
 * Instance names: lowercase letters and digits, starting with a letter, at most 8 chars.
 * No '-' so that `${name}-` is an unambiguous prefix (instance "tb" never owns "tb-x-vm0"),
 * and short enough that `${name}-vm249` still fits a 15-char interface name.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9]{0,7}$/;

/** Longest unix socket path the kernel accepts (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;

/** Interface names inside the namespaces; fixed, since every instance has its own namespaces. */
export const IFACES = {
  /** The VM's "VF" as the guest sees it. */
  vmVf: 'eth0',
  /** The remote host's interface. */
  remote: 'eth0',
  /** The switch's bridge. */
  bridge: 'br0',
  /** The switch's uplink port toward the remote host, where the port capacity is shaped. */
  uplink: 'up0',
} as const;

/** Switch-side end of VF `index` (its "representor"): the trusted counter lives here. */
export function switchVfIface(index: number): string {
  return `vf${index}`;
}

/** IFB device that carries VF `index`'s emulated hardware limiter. */
export function limiterIface(index: number): string {
  return `ifb${index}`;
}

/** Namespace names of one instance. */
export interface NamespacePlan {
  readonly switchNs: string;
  readonly remoteNs: string;
  readonly vmNs: readonly string[];
}

/** Namespace of VM `index` in instance `name`. */
export function vmNamespace(name: string, index: number): string {
  return `${name}-vm${index}`;
}

/** All namespaces instance `name` with `vms` VMs creates. */
export function planNamespaces(name: string, vms: number): NamespacePlan {
  return {
    switchNs: `${name}-sw`,
    remoteNs: `${name}-rem`,
    vmNs: Array.from({ length: vms }, (_, i) => vmNamespace(name, i)),
  };
}

/** Does namespace `ns` belong to instance `name`? Exact shape, so "tb" never matches "tb2-sw". */
export function isInstanceNamespace(name: string, ns: string): boolean {
  if (!ns.startsWith(`${name}-`)) return false;
  return /^(sw|rem|vm(0|[1-9][0-9]*))$/.test(ns.slice(name.length + 1));
}

/** Prefix length of the instance subnet. */
export const SUBNET_PREFIX = 24;

/** IPv4 address of VM `index`: 10.77.0.(index+1). The same in every instance: namespaces isolate them. */
export function vmIp(index: number): string {
  return `10.77.0.${index + 1}`;
}

/** IPv4 address of the remote host. */
export const REMOTE_IP = '10.77.0.254';

// FNV-1a: a stable 16-bit tag per instance name, so VF MACs differ between instances too.
function nameTag(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of name) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h ^ (h >>> 16)) & 0xffff;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** VF MAC of VM `index`: locally administered 02:da:<name tag>:<index>, unique per instance and VM. */
export function vmMac(name: string, index: number): string {
  const tag = nameTag(name);
  return ['02', 'da', hex2(tag >> 8), hex2(tag & 0xff), hex2((index >> 8) & 0xff), hex2(index & 0xff)].join(':');
}

/** Files of one instance under its state directory. */
export interface PathPlan {
  readonly dir: string;
  readonly stateFile: string;
  readonly agentSockets: readonly string[];
  readonly agentStateDirs: readonly string[];
}

/** Paths of instance `name` under `stateDir`. */
export function planPaths(stateDir: string, name: string, vms: number): PathPlan {
  const dir = join(stateDir, name);
  return {
    dir,
    stateFile: join(dir, 'state.json'),
    agentSockets: Array.from({ length: vms }, (_, i) => join(dir, `vm${i}.sock`)),
    agentStateDirs: Array.from({ length: vms }, (_, i) => join(dir, `vm${i}`)),
  };
}

/** Files of real guest `index` (a QEMU process) under the instance directory. */
export interface GuestPaths {
  /** The testbed's own qemu-ga channel into the guest (iperf start/stop). */
  readonly controlSocket: string;
  /** The guest's serial console, appended to by QEMU. */
  readonly consoleLog: string;
  /** QEMU's pid file (direct QEMU only). */
  readonly pidFile: string;
}

/** Paths of real guest `index` of an instance whose directory is `dir`. */
export function planGuestPaths(dir: string, index: number): GuestPaths {
  return {
    controlSocket: join(dir, `vm${index}.ctl`),
    consoleLog: join(dir, `vm${index}.console.log`),
    pidFile: join(dir, `vm${index}.qemu.pid`),
  };
}

/** Root of the instance's own libvirt (its etc, run, lib, log directories) and the socket its libvirtd listens on. */
export function planLibvirt(dir: string): { readonly root: string; readonly socket: string; readonly uri: string } {
  const root = join(dir, 'libvirt');
  const socket = join(root, 'run/libvirt/libvirt-sock');
  return { root, socket, uri: `qemu+unix:///system?socket=${socket}` };
}

/** Refuses a real-guest count outside 0..vms (the first `real` VMs are QEMU guests). */
export function validateRealCount(real: number, vms: number): void {
  if (!Number.isInteger(real) || real < 0 || real > vms) {
    throw new TestbedError('E_TESTBED_VMS', `invalid number of real guests ${String(real)}: use 0 to ${vms} (VMs 0..K-1 become QEMU guests). Pass --real between 0 and --vms.`);
  }
}

/** Refuses an instance name that is not a short lowercase identifier. */
export function validateName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    const why = name.length === 0 ? 'it is empty'
      : name.length > 8 ? `it is ${name.length} chars long; namespace and interface names allow at most 8 for the instance`
        : 'it may only hold lowercase letters and digits and must start with a letter (no "-")';
    throw new TestbedError('E_TESTBED_NAME', `invalid testbed name ${JSON.stringify(name)}: ${why}. Use a short name such as "tb" or "daqs".`);
  }
}

/** Refuses a VM count outside 1..MAX_VMS. */
export function validateVmCount(vms: number): void {
  if (!Number.isInteger(vms) || vms < 1 || vms > MAX_VMS) {
    throw new TestbedError('E_TESTBED_VMS', `invalid number of VMs ${String(vms)}: the address plan (10.77.0.0/24) allows 1 to ${MAX_VMS} VMs per testbed. Pass --vms between 1 and ${MAX_VMS}.`);
  }
}

/** Refuses a port capacity that is not a positive, finite rate tc can shape. */
export function validateCapacity(capacityBps: number): void {
  if (!Number.isFinite(capacityBps) || capacityBps < 1e6 || capacityBps > 100e9) {
    throw new TestbedError('E_TESTBED_CAPACITY', `invalid port capacity ${String(capacityBps)} bit/s: use a rate between 1mbit and 100gbit, for example --capacity 2gbit.`);
  }
}

/** Refuses a state directory whose agent socket paths would not fit a unix socket address. */
export function validateStateDir(stateDir: string, name: string, vms: number): void {
  if (!stateDir.startsWith('/')) {
    throw new TestbedError('E_TESTBED_STATE_DIR', `invalid state directory ${JSON.stringify(stateDir)}: it must be an absolute path (default ${DEFAULT_STATE_DIR}).`);
  }
  const paths = planPaths(stateDir, name, vms);
  const longest = [paths.agentSockets.at(-1) ?? '', planGuestPaths(paths.dir, vms - 1).controlSocket, planLibvirt(paths.dir).socket]
    .reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a));
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH) {
    throw new TestbedError('E_TESTBED_STATE_DIR', `state directory ${JSON.stringify(stateDir)} is too long: socket path ${longest} exceeds ${MAX_SOCKET_PATH} bytes. Use a shorter directory.`);
  }
  // QEMU's option syntax splits on ',' and libvirt's URI on '?' and '&': keep paths plain.
  if (!/^[A-Za-z0-9/._-]+$/.test(stateDir)) {
    throw new TestbedError('E_TESTBED_STATE_DIR', `invalid state directory ${JSON.stringify(stateDir)}: use only letters, digits and / . _ - (its paths go into QEMU options and a libvirt URI).`);
  }
}
