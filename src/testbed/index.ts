/**
 * The emulated SR-IOV host (public API): VMs as namespaces with a real qemu-ga and a veth
 * "VF", the NIC's switch as a bridge namespace with a shaped uplink port, a remote namespace
 * with iperf2 servers, per-VF hardware limiters and switch-side counters.
 */
import { type Logger, silentLogger } from '../util/log.ts';
import { buildInstance } from './build.ts';
import { DEFAULT_GUEST_CACHE_DIR, ensureGuestImage } from './guest-image.ts';
import { TestbedError } from './errors.ts';
import { TestbedHost } from './host.ts';
import { DEFAULT_GUEST_MEMORY_MIB, DEFAULT_STATE_DIR, planNamespaces, planPaths, validateCapacity, validateName, validateRealCount, validateStateDir, validateVmCount } from './plan.ts';
import { checkRoot, findBinaries } from './preflight.ts';
import { isAlive, listNamespaces } from './procs.ts';
import { readState, type TestbedState } from './state.ts';
import { teardownInstance } from './teardown.ts';
import type { Testbed, TestbedOptions } from './types.ts';

export type { Testbed, TestbedOptions, TestbedVm, TestbedVmKind, TrafficHandle, TrafficOptions } from './types.ts';
export { ensureGuestImage, DEFAULT_GUEST_CACHE_DIR, type GuestImage } from './guest-image.ts';
export { GuestControl } from './guest-traffic.ts';
export { TestbedError, type TestbedErrorCode } from './errors.ts';
export { agentCall, waitForAgent, type AgentReply } from './agent-probe.ts';
export { DEFAULT_GUEST_MEMORY_MIB, DEFAULT_STATE_DIR, MAX_VMS } from './plan.ts';
export { TestbedHost } from './host.ts';

/** Extra, non-agreed knobs: a logger, and where the real guests' image is cached. */
export interface TestbedRuntimeOptions {
  readonly log?: Logger;
  readonly stateDir?: string;
  readonly guestCacheDir?: string;
}


/** Checks everything that can be checked before building; throws a TestbedError naming the problem. */
export function validateTestbedOptions(opts: TestbedOptions): void {
  validateName(opts.name);
  validateVmCount(opts.vms);
  validateCapacity(opts.capacityBps);
  validateStateDir(opts.stateDir ?? DEFAULT_STATE_DIR, opts.name, opts.vms);
  validateRealCount(opts.real ?? 0, opts.vms);
  if (opts.libvirt && !(opts.real ?? 0)) {
    throw new TestbedError('E_TESTBED_VMS', 'libvirt starts real guests: with --libvirt, also pass --real K (K >= 1) to say how many VMs are QEMU guests.');
  }
  const mem = opts.guestMemoryMiB ?? DEFAULT_GUEST_MEMORY_MIB;
  if (!Number.isInteger(mem) || mem < 96 || mem > 4096) {
    throw new TestbedError('E_TESTBED_VMS', `invalid guest memory ${String(mem)} MiB: use 96 to 4096.`);
  }
}

// Healthy = built to the end, every namespace present and every agent process alive.
async function isHealthy(state: TestbedState): Promise<boolean> {
  if (!state.complete) return false;
  const present = new Set(await listNamespaces());
  if (!state.namespaces.every((ns) => present.has(ns))) return false;
  if (state.iperfServerPid === null || !(await isAlive(state.iperfServerPid))) return false;
  if (state.libvirt && (state.libvirtdPid === null || !(await isAlive(state.libvirtdPid)))) return false;
  const guests = state.qemuPids.filter((p): p is number => p !== null);
  if (guests.length !== state.real || !(await Promise.all(guests.map(isAlive))).every(Boolean)) return false;
  return (await Promise.all(state.agentPids.map(isAlive))).every(Boolean) && state.agentPids.length === state.vms - state.real;
}

/**
 * Brings instance `opts.name` up, or returns it as it is when a healthy instance with the same
 * VM count and capacity exists (idempotent). A broken leftover is torn down and rebuilt; a
 * half-built host is rolled back before the error is thrown.
 */
export async function testbedUp(opts: TestbedOptions, runtime: TestbedRuntimeOptions = {}): Promise<Testbed> {
  const log = runtime.log ?? silentLogger;
  validateTestbedOptions(opts);
  checkRoot();
  const bins = findBinaries();
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const paths = planPaths(stateDir, opts.name, opts.vms);
  const existing = await readState(paths.stateFile).catch(() => null);
  const real = opts.real ?? 0;
  const libvirt = opts.libvirt ?? false;
  const guestMemoryMiB = opts.guestMemoryMiB ?? DEFAULT_GUEST_MEMORY_MIB;
  if (existing && (await isHealthy(existing))) {
    const shape = (s: { vms: number; capacityBps: number; real: number; libvirt: boolean }): string => `${s.vms} VMs (${s.real} real${s.libvirt ? ', under libvirt' : ''}) at ${s.capacityBps} bit/s`;
    if (existing.vms !== opts.vms || existing.capacityBps !== opts.capacityBps || existing.real !== real || existing.libvirt !== libvirt) {
      throw new TestbedError('E_TESTBED_MISMATCH', `testbed ${opts.name} is already up with ${shape(existing)} (asked: ${shape({ ...opts, real, libvirt })}). Take it down first (\`daqs testbed down --name ${opts.name}\`) or use another --name.`);
    }
    return new TestbedHost(existing, bins.iperf, log);
  }
  // Before anything is built: a missing package or apt list fails here, with nothing to roll back.
  const image = real > 0 ? await ensureGuestImage({ cacheDir: runtime.guestCacheDir ?? DEFAULT_GUEST_CACHE_DIR, log }) : undefined;
  // Leftovers of a crash (with or without state): clear them so the build starts clean.
  await teardownInstance(opts.name, stateDir, log);
  const state: TestbedState = {
    version: 1,
    name: opts.name,
    vms: opts.vms,
    capacityBps: opts.capacityBps,
    stateDir,
    complete: false,
    creatorPid: process.pid,
    createdAtEpochMs: Date.now(),
    namespaces: [],
    agentPids: [],
    iperfServerPid: null,
    switchPid: null,
    real,
    libvirt,
    guestMemoryMiB,
    qemuPids: [],
    libvirtdPid: null,
    libvirtUri: null,
    guestImageHash: null,
  };
  try {
    return new TestbedHost(await buildInstance(state, bins, log, { ...(image ? { image } : {}), ...(opts.domainSla ? { domainSla: opts.domainSla } : {}) }), bins.iperf, log);
  } catch (e) {
    log.error({ op: 'testbed-up', name: opts.name, err: e }, 'build failed; rolling back');
    await teardownInstance(opts.name, stateDir, log).catch((te: unknown) => log.error({ op: 'testbed-up', err: te }, 'rollback failed'));
    if (e instanceof TestbedError) throw e;
    throw new TestbedError('E_TESTBED_BUILD', `building testbed ${opts.name} failed and was rolled back: ${(e as Error).message}`, { cause: e });
  }
}

/** Attaches to a running instance from its on-disk state (another process may have built it). */
export async function testbedAttach(name: string, runtime: TestbedRuntimeOptions = {}): Promise<Testbed> {
  validateName(name);
  const stateDir = runtime.stateDir ?? DEFAULT_STATE_DIR;
  const state = await readState(planPaths(stateDir, name, 0).stateFile);
  if (!state || !state.complete) {
    throw new TestbedError('E_TESTBED_NOT_FOUND', `no testbed named ${name} is up (no complete state in ${planPaths(stateDir, name, 0).dir}). Start it with \`daqs testbed up --name ${name}\`.`);
  }
  return new TestbedHost(state, findBinaries().iperf, runtime.log ?? silentLogger);
}

/** Removes every namespace, link, process and file of instance `name`, also after a crash; nothing of other instances. */
export async function testbedDown(name: string, runtime: TestbedRuntimeOptions = {}): Promise<void> {
  validateName(name);
  checkRoot();
  await teardownInstance(name, runtime.stateDir ?? DEFAULT_STATE_DIR, runtime.log ?? silentLogger);
}

/** Namespaces instance `name` would own with `vms` VMs (for status and leak checks). */
export function testbedNamespaces(name: string, vms: number): string[] {
  const ns = planNamespaces(name, vms);
  return [ns.switchNs, ns.remoteNs, ...ns.vmNs];
}
export { measureRates, type RateWindow } from './rates.ts';
