/**
 * Starting the real guests of an instance: QEMU processes in the switch namespace (directly,
 * or through the instance's own libvirtd), each with its tap as the VF and its agent sockets
 * under the instance directory.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../util/log.ts';
import type { GuestImage } from './guest-image.ts';
import { domainXml, qemuArgv, type GuestSpec } from './guest-machine.ts';
import { defineAndStart, startOwnLibvirtd } from './libvirtd.ts';
import { planGuestPaths, planNamespaces, planPaths, SUBNET_PREFIX, switchVfIface, vmIp, vmMac } from './plan.ts';
import { spawnInNetns } from './procs.ts';
import type { TestbedState } from './state.ts';

/** The machine spec of real guest `index` of `state`'s instance. */
export function guestSpec(state: TestbedState, image: Pick<GuestImage, 'kernel' | 'initrd'>, index: number): GuestSpec {
  const paths = planPaths(state.stateDir, state.name, state.vms);
  const g = planGuestPaths(paths.dir, index);
  return {
    name: `${state.name}-vm${index}`,
    kernel: image.kernel,
    initrd: image.initrd,
    memoryMiB: state.guestMemoryMiB,
    mac: vmMac(state.name, index),
    ipCidr: `${vmIp(index)}/${SUBNET_PREFIX}`,
    tap: switchVfIface(index),
    agentSocket: paths.agentSockets[index] as string,
    controlSocket: g.controlSocket,
    consoleLog: g.consoleLog,
  };
}

/** What starting the real guests recorded. */
export interface RealGuestsStarted {
  readonly qemuPids: readonly number[];
  readonly libvirtdPid: number | null;
  readonly libvirtUri: string | null;
}

/**
 * Starts real guests 0..state.real-1 (their taps exist on the switch already). `record` is
 * called with every pid as soon as it is known, so a crash from here on leaves it in state.json.
 */
export async function startRealGuests(
  state: TestbedState,
  image: GuestImage,
  sla: Readonly<Record<number, Readonly<Record<string, string>>>>,
  record: (patch: Partial<TestbedState>) => Promise<void>,
  log: Logger = silentLogger,
): Promise<RealGuestsStarted> {
  const ns = planNamespaces(state.name, state.vms);
  const dir = planPaths(state.stateDir, state.name, state.vms).dir;
  const specs = Array.from({ length: state.real }, (_, i) => guestSpec(state, image, i));
  for (const s of specs) await Promise.all([rm(s.agentSocket, { force: true }), rm(s.controlSocket, { force: true })]);
  const qemuPids: number[] = [];
  if (!state.libvirt) {
    for (const [i, spec] of specs.entries()) {
      // `ip netns exec` execs QEMU, so this pid is QEMU's own; QEMU creates its sockets at once.
      qemuPids.push(spawnInNetns(ns.switchNs, qemuArgv(spec, planGuestPaths(dir, i).pidFile), join(dir, `vm${i}.qemu.log`)));
      await record({ qemuPids: [...qemuPids] });
    }
    log.debug({ op: 'testbed-up', name: state.name, real: state.real }, 'QEMU guests started');
    return { qemuPids, libvirtdPid: null, libvirtUri: null };
  }
  const lv = await startOwnLibvirtd(dir, ns.switchNs, log, (pid) => record({ libvirtdPid: pid }));
  await record({ libvirtdPid: lv.pid, libvirtUri: lv.uri });
  for (const [i, spec] of specs.entries()) {
    qemuPids.push(await defineAndStart(lv.uri, dir, spec.name, domainXml(spec, sla[i] ?? {})));
    await record({ qemuPids: [...qemuPids] });
  }
  log.debug({ op: 'testbed-up', name: state.name, real: state.real, uri: lv.uri }, 'libvirt guests started');
  return { qemuPids, libvirtdPid: lv.pid, libvirtUri: lv.uri };
}
