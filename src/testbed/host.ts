/** A running emulated host: the Testbed API over the namespaces, tc programs and processes of one instance. */
import { runChecked, runCommand } from '../util/exec.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { readFile, readlink } from 'node:fs/promises';
import { parseLinkBytes, parseProcNetDev, type LinkBytes } from './counters.ts';
import { TestbedError } from './errors.ts';
import { GuestControl, startGuestIperf } from './guest-traffic.ts';
import { IFACES, limiterIface, planGuestPaths, planNamespaces, planPaths, REMOTE_IP, switchVfIface, vmIp, vmMac } from './plan.ts';
import { killPids, netnsLink, pidsInNamespaces, processName } from './procs.ts';
import { portProgram, renderBatch, vfLimitChangeProgram, vfLimiterProgram, type PortClass } from './shaping.ts';
import type { TestbedState } from './state.ts';
import { teardownInstance } from './teardown.ts';
import { iperfClientArgv, startIperfClient, type IperfClient } from './traffic.ts';
import type { Testbed, TestbedVm, TrafficHandle, TrafficOptions } from './types.ts';

const TC_TIMEOUT_MS = 10_000;

/** The Testbed of one built (or attached) instance. */
export class TestbedHost implements Testbed {
  readonly name: string;
  readonly capacityBps: number;
  readonly vms: readonly TestbedVm[];
  readonly remote: { readonly netns: string; readonly ip: string };
  readonly libvirtUri: string | null;
  /** The switch namespace (bridge, uplink port, VF representors and limiters). */
  readonly switchNetns: string;
  private readonly clients = new Set<IperfClient>();
  private switchNsLink: string | null = null;
  // The testbed's control channel of each real guest (by VM index).
  private readonly controls = new Map<number, GuestControl>();

  constructor(readonly state: TestbedState, private readonly iperfBin: string, private readonly log: Logger = silentLogger) {
    this.name = state.name;
    this.capacityBps = state.capacityBps;
    const ns = planNamespaces(state.name, state.vms);
    const paths = planPaths(state.stateDir, state.name, state.vms);
    this.switchNetns = ns.switchNs;
    this.remote = { netns: ns.remoteNs, ip: REMOTE_IP };
    this.libvirtUri = state.libvirtUri;
    const realKind = state.libvirt ? 'libvirt' as const : 'qemu' as const;
    this.vms = ns.vmNs.map((netns, index) => ({
      index,
      id: `${state.name}-vm${index}`,
      kind: index < state.real ? realKind : 'namespace' as const,
      netns: index < state.real ? '' : netns,
      iface: IFACES.vmVf,
      mac: vmMac(state.name, index),
      ip: vmIp(index),
      agentSocket: paths.agentSockets[index] as string,
    }));
  }

  private vm(vmIndex: number): TestbedVm {
    const vm = Number.isInteger(vmIndex) ? this.vms[vmIndex] : undefined;
    if (!vm) throw new TestbedError('E_TESTBED_VM_INDEX', `VM index ${vmIndex} does not exist in testbed ${this.name}: it has VMs 0..${this.vms.length - 1}.`);
    return vm;
  }

  /** The testbed's own qemu-ga channel into real guest `index` (iperf start/stop; tests use it to look inside). */
  guestControl(vmIndex: number): GuestControl {
    const vm = this.vm(vmIndex);
    if (vm.kind === 'namespace') throw new TestbedError('E_TESTBED_VM_INDEX', `${vm.id} is a namespace VM, not a real guest: run commands in it with \`ip netns exec ${vm.netns}\`.`);
    let ctl = this.controls.get(vm.index);
    if (!ctl) {
      ctl = new GuestControl(planGuestPaths(planPaths(this.state.stateDir, this.name, this.state.vms).dir, vm.index).controlSocket);
      this.controls.set(vm.index, ctl);
    }
    return ctl;
  }

  async startTraffic(vmIndex: number, opts: TrafficOptions): Promise<TrafficHandle> {
    const vm = this.vm(vmIndex);
    const client = vm.kind === 'namespace'
      ? startIperfClient(vm.netns, iperfClientArgv(this.iperfBin, this.remote.ip, opts))
      // In the guest, iperf is found on its PATH; the argv travels through guest-exec as is.
      : await startGuestIperf(this.guestControl(vm.index), iperfClientArgv('iperf', this.remote.ip, opts));
    this.clients.add(client);
    void client.exited.then(() => this.clients.delete(client));
    this.log.debug({ vm: vm.id, op: 'traffic-start', threads: opts.threads, perThreadRateBps: opts.perThreadRateBps }, 'iperf started');
    return {
      exited: client.exited,
      stop: async () => {
        await client.stop();
        this.clients.delete(client);
      },
    } satisfies TrafficHandle & { exited: Promise<number | null> };
  }

  async stopAllTraffic(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.stop()));
    this.clients.clear();
    // Senders started by another process attached to this instance (the CLI, a crashed test).
    const nsVms = this.vms.filter((v) => v.kind === 'namespace');
    const byNs = await pidsInNamespaces(nsVms.map((v) => v.netns));
    const iperfs: number[] = [];
    for (const pid of [...byNs.values()].flat()) if ((await processName(pid)) === 'iperf') iperfs.push(pid);
    if (iperfs.length > 0) await killPids(iperfs);
    // In real guests: every iperf there is a sender (the server runs in the remote namespace).
    await Promise.all(this.vms.filter((v) => v.kind !== 'namespace').map((v) => this.guestControl(v.index).run(['killall', 'iperf']).catch((e: unknown) => {
      this.log.warn({ vm: v.id, op: 'traffic-stop', err: e }, 'could not stop iperf in the guest');
    })));
  }

  // Switch-side counters: a file read through the process parked in the switch namespace when
  // it is still there (and still in that namespace: pids get reused), else `ip -s -j link`.
  private async linkBytes(): Promise<Map<string, LinkBytes>> {
    const pid = this.state.switchPid;
    if (pid !== null) {
      this.switchNsLink ??= await netnsLink(this.switchNetns);
      // Namespace checked before and after the read, so a pid reused in between is caught.
      const before = await readlink(`/proc/${pid}/ns/net`).catch(() => null);
      const dev = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => null);
      const after = await readlink(`/proc/${pid}/ns/net`).catch(() => null);
      if (dev !== null && before !== null && before === this.switchNsLink && after === before) return parseProcNetDev(dev);
    }
    return parseLinkBytes(await runChecked(['ip', '-n', this.switchNetns, '-s', '-j', 'link', 'show'], { timeoutMs: TC_TIMEOUT_MS }));
  }

  async readHostTxBytes(vmIndex: number): Promise<bigint> {
    const dev = switchVfIface(this.vm(vmIndex).index);
    const bytes = (await this.linkBytes()).get(dev);
    if (!bytes) throw new TestbedError('E_TESTBED_NOT_FOUND', `switch port ${dev} of testbed ${this.name} is missing; bring the testbed up again.`);
    // What the VF sent is what its switch-side end received.
    return bytes.rxBytes;
  }

  async readAllHostTxBytes(): Promise<bigint[]> {
    const links = await this.linkBytes();
    return this.vms.map((vm) => {
      const bytes = links.get(switchVfIface(vm.index));
      if (!bytes) throw new TestbedError('E_TESTBED_NOT_FOUND', `switch port ${switchVfIface(vm.index)} of testbed ${this.name} is missing; bring the testbed up again.`);
      return bytes.rxBytes;
    });
  }

  /** Bytes that left the port toward the remote host: what the port really delivered. */
  async readPortTxBytes(): Promise<bigint> {
    const bytes = (await this.linkBytes()).get(IFACES.uplink);
    if (!bytes) throw new TestbedError('E_TESTBED_NOT_FOUND', `uplink ${IFACES.uplink} of testbed ${this.name} is missing; bring the testbed up again.`);
    return bytes.txBytes;
  }

  private async tcBatch(batch: string): Promise<void> {
    await runChecked(['tc', '-n', this.switchNetns, '-batch', '-'], { input: batch, timeoutMs: TC_TIMEOUT_MS });
  }

  // Removal that treats "not there" as done, so limits and schedulers are safe to repeat.
  private async tryRun(argv: readonly string[]): Promise<void> {
    await runCommand(argv, { timeoutMs: TC_TIMEOUT_MS });
  }

  async setVfLimit(vmIndex: number, capBps: number | null): Promise<void> {
    const vm = this.vm(vmIndex);
    if (capBps !== null && (!Number.isFinite(capBps) || capBps < 1000)) {
      throw new TestbedError('E_TESTBED_RATE', `VF limit ${capBps} bit/s for ${vm.id}: use at least 1000 bit/s, or null to lift it.`);
    }
    const ns = this.switchNetns;
    const ifb = limiterIface(vm.index);
    if (capBps !== null && (await this.hasLimiter(vm.index))) {
      // Already limited: change the cap in place, as `ip link set vf N max_tx_rate` would.
      const changed = await runCommand(['tc', '-n', ns, '-batch', '-'], { input: renderBatch(vfLimitChangeProgram(vm.index, capBps)), timeoutMs: TC_TIMEOUT_MS });
      if (changed.code === 0) {
        this.log.info({ vm: vm.id, op: 'vf-limit', capBps }, 'VF limit changed');
        return;
      }
    }
    // First limit, lift, or a limiter found broken: rebuild from scratch, which leaves no
    // half-old state behind whatever was there.
    await this.tryRun(['tc', '-n', ns, 'qdisc', 'del', 'dev', switchVfIface(vm.index), 'ingress']);
    await this.tryRun(['ip', '-n', ns, 'link', 'del', ifb]);
    if (capBps !== null) {
      await runChecked(['ip', '-n', ns, 'link', 'add', ifb, 'type', 'ifb'], { timeoutMs: TC_TIMEOUT_MS });
      await runChecked(['ip', '-n', ns, 'link', 'set', ifb, 'up'], { timeoutMs: TC_TIMEOUT_MS });
      await this.tcBatch(renderBatch(vfLimiterProgram(vm.index, capBps)));
    }
    this.log.info({ vm: vm.id, op: 'vf-limit', capBps }, 'VF limit set');
  }

  // Is VF `index` redirected to its IFB? (The ingress filter is what makes the limit bite.)
  private async hasLimiter(index: number): Promise<boolean> {
    const r = await runCommand(['tc', '-n', this.switchNetns, 'filter', 'show', 'dev', switchVfIface(index), 'parent', 'ffff:'], { timeoutMs: TC_TIMEOUT_MS });
    return r.code === 0 && r.stdout.includes(`to device ${limiterIface(index)})`);
  }

  async setPortScheduler(classes: readonly PortClass[] | null): Promise<void> {
    const prog = portProgram(this.capacityBps, this.vms.length, classes); // validates before touching the port
    await this.tryRun(['tc', '-n', this.switchNetns, 'qdisc', 'del', 'dev', IFACES.uplink, 'root']);
    await this.tcBatch(renderBatch(prog));
    this.log.info({ op: 'port-scheduler', classes: classes?.length ?? null }, 'port scheduler set');
  }

  async down(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.stop()));
    this.clients.clear();
    await teardownInstance(this.name, this.state.stateDir, this.log);
  }
}
