/**
 * The real control loop (Controller, daqs policy, AgentVmEndpoint, QgaClient) over scripted
 * agents on real unix sockets, for the hostile-agent scenarios: honest or misbehaving VMs,
 * a loop run for a while, and what it reported and logged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startFakeAgent, type FakeAgent, type FakeHandler } from '../../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../../src/agent/fake-guest.ts';
import { QgaClient } from '../../../src/agent/qga-client.ts';
import { Controller, type ControlledVm } from '../../../src/controller/index.ts';
import type { TickReport } from '../../../src/core/types.ts';
import { AgentVmEndpoint } from '../../../src/endpoint/agent-endpoint.ts';
import { createPolicy } from '../../../src/policy/index.ts';
import { systemClock } from '../../../src/telemetry/clock.ts';
import { createLogger } from '../../../src/util/log.ts';

/** The loop's period and the port's capacity in every scenario. */
export const TICK_MS = 200;
export const CAPACITY_BPS = 10e9;
/** What must never reach a log, a status or a terminal from a guest. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** One scripted VM. */
export interface RigVm {
  readonly id: string;
  readonly guest: FakeGuest;
  agent: FakeAgent;
  readonly client: QgaClient;
  readonly socket: string;
  readonly handler: FakeHandler;
}

/** What one loop run saw. */
export interface Run {
  readonly reports: TickReport[];
  /** Monotonic start of each tick (ms). */
  readonly startsMs: number[];
  readonly logLines: string[];
}

/** VMs on scripted agents in a private directory; close() removes them all. */
export class HostileRig {
  private seq = 0;
  private readonly cleanups: (() => Promise<void>)[] = [];

  private constructor(private readonly dir: string) {}

  /** A rig in a fresh temporary directory. */
  static async open(): Promise<HostileRig> {
    return new HostileRig(await mkdtemp(join(tmpdir(), 'gdhostile-')));
  }

  /** A VM whose TX grows at rateBps, served by `wrap(handler)`. */
  async startVm(id: string, rateBps: number, wrap: (h: FakeHandler, guest: FakeGuest) => FakeHandler = (h) => h): Promise<RigVm> {
    const mac = `52:54:00:00:10:${(this.seq++ % 256).toString(16).padStart(2, '0')}`;
    const guest = new FakeGuest([{ name: 'eth0', mac, txBytes: 0n }]);
    const startedAt = performance.now();
    const base = guest.handler;
    // The counter follows wall time, as a real interface sending at rateBps would.
    const counting: FakeHandler = (req) => {
      const vf = guest.interfaces[0];
      if (vf) vf.txBytes = BigInt(Math.round(((performance.now() - startedAt) / 1000) * (rateBps / 8)));
      return base(req);
    };
    const handler = wrap(counting, guest);
    const socket = join(this.dir, `${id}.sock`);
    const agent = await startFakeAgent(socket, handler);
    const client = new QgaClient({ socketPath: socket, vm: id, defaultTimeoutMs: 150 });
    const vm: RigVm = { id, guest, agent, client, socket, handler };
    this.cleanups.push(async () => {
      await client.close();
      await vm.agent.close();
    });
    return vm;
  }

  /** Removes every VM and the directory. */
  async close(): Promise<void> {
    for (const c of this.cleanups.reverse()) await c().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The VM as the loop controls it (Best-Effort unless guaranteeBps). */
export function controlled(vm: RigVm, guaranteeBps = 0): ControlledVm {
  return {
    id: vm.id,
    sla: { guaranteeBps, maxBps: null, weight: 1 },
    slaSource: { guaranteeBps: 'config', maxBps: 'default', weight: 'default' },
    endpoint: new AgentVmEndpoint({ id: vm.id, agent: vm.client, iface: { mac: vm.guest.interfaces[0]?.mac }, statsTimeoutMs: 150, tc: { timeoutMs: 900 } }),
  };
}

/** A controller over these VMs, as the daemon builds it (agent timeout 150 ms). */
export function loopOver(vms: readonly ControlledVm[], logLines: string[] = [], level = 'debug'): Controller {
  const logger = createLogger({ level: level as 'debug', pretty: false, destination: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) });
  return new Controller({ policy: createPolicy('daqs'), capacityBps: CAPACITY_BPS, tickMs: TICK_MS, clock: systemClock, logger, listVms: () => vms, perVmTimeoutMs: 150 });
}

/** Runs the real loop for durationMs over these VMs. */
export async function runLoop(vms: readonly ControlledVm[], durationMs: number): Promise<Run> {
  const logLines: string[] = [];
  const controller = loopOver(vms, logLines);
  const reports: TickReport[] = [];
  const startsMs: number[] = [];
  controller.on('tick', (r) => {
    reports.push(r);
    startsMs.push(performance.now() - r.durationMs);
  });
  controller.start();
  await new Promise((r) => setTimeout(r, durationMs));
  await controller.stop({ liftCaps: false });
  return { reports, startsMs, logLines };
}

/** Longest time between two tick starts. */
export function maxGapMs(startsMs: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < startsMs.length; i++) gap = Math.max(gap, (startsMs[i] ?? 0) - (startsMs[i - 1] ?? 0));
  return gap;
}

/** Share of the run's ticks in which the VM was observed without error. */
export const observedShare = (run: Run, id: string): number => run.reports.filter((r) => r.vms.find((v) => v.id === id)?.error === null).length / Math.max(1, run.reports.length);
