/** Building one instance of the emulated host, all or nothing. */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { runChecked } from '../util/exec.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { waitForAgent } from './agent-probe.ts';
import { TestbedError } from './errors.ts';
import type { GuestImage } from './guest-image.ts';
import { IFACES, planGuestPaths, planNamespaces, planPaths, REMOTE_IP, SUBNET_PREFIX, switchVfIface, vmIp, vmMac } from './plan.ts';
import type { BinaryPaths } from './preflight.ts';
import { isAlive, spawnInNetns } from './procs.ts';
import { startRealGuests } from './real-guests.ts';
import { portProgram, renderBatch } from './shaping.ts';
import { type TestbedState, writeState } from './state.ts';
import { IPERF_PORT } from './traffic.ts';

const CMD_TIMEOUT_MS = 30_000;

/** Longest a real guest may take from QEMU start to its agents answering (TCG boot on a loaded 2-core host). */
export const GUEST_BOOT_TIMEOUT_MS = 180_000;

/** What a build needs besides the state: the real guests' image and their libvirt metadata. */
export interface BuildExtras {
  readonly image?: GuestImage;
  readonly domainSla?: Readonly<Record<number, Readonly<Record<string, string>>>>;
}

// Runs `fn` over `items` with at most `limit` at a time: 2 cores, and each step spawns `ip`.
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const ipBatch = (lines: readonly string[], netns?: string): Promise<string> =>
  runChecked(netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-'], { input: lines.map((l) => `${l}\n`).join(''), timeoutMs: CMD_TIMEOUT_MS });

/** Is something listening on TCP `port` in the namespace of `pid`? (/proc/PID/net/tcp is that namespace's table.) */
async function isListening(pid: number, port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    // Columns: sl local_address rem_address st ...; st 0A is LISTEN.
    if (text.split('\n').some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(`:${hexPort}`) === true && cols[3] === '0A';
    })) return true;
  }
  return false;
}

async function waitForListener(pid: number, port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await isListening(pid, port)) return;
    if (!(await isAlive(pid))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new TestbedError('E_TESTBED_BUILD', `iperf server (pid ${pid}) is not listening on port ${port}; see its log in the testbed state directory.`);
}

/**
 * Builds the namespaces, links, port shaper and processes of `state`'s instance, recording
 * pids in state.json as they start. The caller validated everything and tears down on failure.
 */
export async function buildInstance(state: TestbedState, bins: BinaryPaths, log: Logger = silentLogger, extras: BuildExtras = {}): Promise<TestbedState> {
  const ns = planNamespaces(state.name, state.vms);
  const paths = planPaths(state.stateDir, state.name, state.vms);
  // VMs 0..real-1 are QEMU guests: no namespace, their VF is a tap on the switch.
  const isReal = (i: number): boolean => i < state.real;
  const nsVms = ns.vmNs.map((vmNs, i) => ({ vmNs, i })).filter(({ i }) => !isReal(i));
  let current: TestbedState = { ...state, namespaces: [ns.switchNs, ns.remoteNs, ...nsVms.map((v) => v.vmNs)] };
  // State first: if we die from here on, `down` knows what to look for.
  await writeState(paths.stateFile, paths.dir, current);

  // Every namespace and veth in one `ip` run; each veth is created directly in its
  // namespaces, so nothing ever appears in the root namespace.
  await ipBatch([
    ...current.namespaces.map((n) => `netns add ${n}`),
    `link add ${IFACES.uplink} netns ${ns.switchNs} type veth peer name ${IFACES.remote} netns ${ns.remoteNs}`,
    ...nsVms.map(({ vmNs, i }) => `link add ${switchVfIface(i)} netns ${ns.switchNs} type veth peer name ${IFACES.vmVf} address ${vmMac(state.name, i)} netns ${vmNs}`),
  ]);
  log.debug({ op: 'testbed-up', name: state.name }, 'namespaces and veths created');

  await ipBatch([
    'link set lo up',
    // No STP and no forward delay: a VF forwards as soon as it is up, like a NIC's switch.
    `link add ${IFACES.bridge} type bridge stp_state 0 forward_delay 0`,
    `link set ${IFACES.bridge} up`,
    `link set ${IFACES.uplink} master ${IFACES.bridge} up`,
    // A persistent tap per real guest; QEMU (or libvirt, managed='no') attaches to it by name.
    ...Array.from({ length: state.real }, (_, i) => `tuntap add dev ${switchVfIface(i)} mode tap`),
    ...ns.vmNs.map((_, i) => `link set ${switchVfIface(i)} master ${IFACES.bridge} up`),
  ], ns.switchNs);
  await ipBatch(['link set lo up', `addr add ${REMOTE_IP}/${SUBNET_PREFIX} dev ${IFACES.remote}`, `link set ${IFACES.remote} up`], ns.remoteNs);
  await forEachLimited(nsVms, 4, async ({ vmNs, i }) => {
    await ipBatch(['link set lo up', `addr add ${vmIp(i)}/${SUBNET_PREFIX} dev ${IFACES.vmVf}`, `link set ${IFACES.vmVf} up`], vmNs);
  });
  await runChecked(['tc', '-n', ns.switchNs, '-batch', '-'], { input: renderBatch(portProgram(state.capacityBps, state.vms, null)), timeoutMs: CMD_TIMEOUT_MS });
  log.debug({ op: 'testbed-up', name: state.name }, 'switch, port and VMs configured');

  const iperfServerPid = spawnInNetns(ns.remoteNs, [bins.iperf, '-s', '-p', String(IPERF_PORT)], `${paths.dir}/iperf-server.log`);
  const switchPid = spawnInNetns(ns.switchNs, ['sleep', 'infinity'], '/dev/null');
  current = { ...current, iperfServerPid, switchPid };
  await writeState(paths.stateFile, paths.dir, current);

  const agentPids: number[] = [];
  for (const { vmNs, i } of nsVms) {
    const stateDirOfAgent = paths.agentStateDirs[i] as string;
    await mkdir(stateDirOfAgent, { recursive: true });
    await rm(paths.agentSockets[i] as string, { force: true });
    agentPids.push(spawnInNetns(vmNs, [bins['qemu-ga'], '-m', 'unix-listen', '-p', paths.agentSockets[i] as string, '-t', stateDirOfAgent], `${stateDirOfAgent}/qemu-ga.log`));
  }
  current = { ...current, agentPids };
  await writeState(paths.stateFile, paths.dir, current);

  if (state.real > 0) {
    if (!extras.image) throw new TestbedError('E_TESTBED_BUILD', 'real guests asked for without a guest image');
    const started = Date.now();
    const record = async (patch: Partial<TestbedState>): Promise<void> => {
      current = { ...current, ...patch };
      await writeState(paths.stateFile, paths.dir, current);
    };
    await record({ guestImageHash: extras.image.hash });
    const guests = await startRealGuests(current, extras.image, extras.domainSla ?? {}, record, log);
    // Each guest answers on the VM's agent socket and on the testbed's channel once booted.
    await forEachLimited(guests.qemuPids, 4, async (pid, i) => {
      const gone = async (): Promise<boolean> => !(await isAlive(pid));
      for (const sock of [paths.agentSockets[i] as string, planGuestPaths(paths.dir, i).controlSocket]) {
        await waitForAgent(sock, GUEST_BOOT_TIMEOUT_MS, gone).catch((e: unknown) => {
          throw new TestbedError('E_TESTBED_AGENT', `real guest ${state.name}-vm${i} did not boot to its agent (console: ${planGuestPaths(paths.dir, i).consoleLog}): ${(e as Error).message}`, { cause: e });
        });
      }
    });
    log.info({ op: 'testbed-up', name: state.name, real: state.real, libvirt: state.libvirt, bootMs: Date.now() - started }, 'real guests answer');
  }
  await waitForListener(iperfServerPid, IPERF_PORT, 10_000);
  await forEachLimited(nsVms, 8, async ({ i }, k) => {
    const pid = agentPids[k] as number;
    await waitForAgent(paths.agentSockets[i] as string, 15_000, async () => !(await isAlive(pid)));
  });
  current = { ...current, complete: true };
  await writeState(paths.stateFile, paths.dir, current);
  log.info({ op: 'testbed-up', name: state.name, vms: state.vms, capacityBps: state.capacityBps }, 'testbed up');
  return current;
}
