/**
 * A guest is root in its VM and may replace qemu-ga with anything. These scenarios run the
 * real control loop (Controller, daqs policy, AgentVmEndpoint, QgaClient) against scripted
 * agents on real unix sockets that misbehave on purpose, next to an honest VM, and print what
 * they measured. What must hold: the loop keeps its tick, the honest VM stays controlled,
 * whatever the hostile agent sends stays bounded and clean, and a VM whose agent returns is
 * controlled again within 2 ticks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent, type FakeHandler } from '../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../src/agent/fake-guest.ts';
import { QgaClient } from '../../src/agent/qga-client.ts';
import { Controller, type ControlledVm } from '../../src/controller/index.ts';
import type { TickReport } from '../../src/core/types.ts';
import { AgentVmEndpoint } from '../../src/endpoint/agent-endpoint.ts';
import { createPolicy } from '../../src/policy/index.ts';
import { systemClock } from '../../src/telemetry/clock.ts';
import { createLogger } from '../../src/util/log.ts';

const TICK_MS = 200;
const CAPACITY_BPS = 10e9;
// What must never reach a log, a status or a terminal from a guest.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let dir: string;
let seq = 0;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gdhostile-'));
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

interface Vm {
  readonly id: string;
  readonly guest: FakeGuest;
  agent: FakeAgent;
  readonly client: QgaClient;
  readonly socket: string;
  readonly handler: FakeHandler;
}

/** A VM: a fake guest whose TX grows at rateBps, served by `wrap(guest.handler)`. */
async function startVm(id: string, rateBps: number, wrap: (h: FakeHandler, guest: FakeGuest) => FakeHandler = (h) => h): Promise<Vm> {
  const mac = `52:54:00:00:10:${(seq++).toString(16).padStart(2, '0')}`;
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
  const socket = join(dir, `${id}.sock`);
  const agent = await startFakeAgent(socket, handler);
  const client = new QgaClient({ socketPath: socket, vm: id, defaultTimeoutMs: 150 });
  const vm: Vm = { id, guest, agent, client, socket, handler };
  cleanups.push(async () => {
    await client.close();
    await vm.agent.close();
  });
  return vm;
}

function controlled(vm: Vm, guaranteeBps = 0): ControlledVm {
  return {
    id: vm.id,
    sla: { guaranteeBps, maxBps: null, weight: 1 },
    slaSource: { guaranteeBps: 'config', maxBps: 'default', weight: 'default' },
    endpoint: new AgentVmEndpoint({ id: vm.id, agent: vm.client, iface: { mac: vm.guest.interfaces[0]?.mac }, statsTimeoutMs: 150, tc: { timeoutMs: 900 } }),
  };
}

interface Run {
  readonly reports: TickReport[];
  /** Monotonic start of each tick (ms). */
  readonly startsMs: number[];
  readonly logLines: string[];
}

/** Runs the real loop for durationMs over these VMs. */
async function runLoop(vms: readonly ControlledVm[], durationMs: number): Promise<Run> {
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', pretty: false, destination: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) });
  const controller = new Controller({ policy: createPolicy('daqs'), capacityBps: CAPACITY_BPS, tickMs: TICK_MS, clock: systemClock, logger, listVms: () => vms, perVmTimeoutMs: 150 });
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

function maxGapMs(startsMs: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < startsMs.length; i++) gap = Math.max(gap, (startsMs[i] ?? 0) - (startsMs[i - 1] ?? 0));
  return gap;
}

const observedShare = (run: Run, id: string): number => run.reports.filter((r) => r.vms.find((v) => v.id === id)?.error === null).length / Math.max(1, run.reports.length);

// 10 MB of "[": what the issue saw block the event loop for seconds.
const DEEP_LINE = Buffer.concat([Buffer.alloc(10 * 1024 * 1024, '['), Buffer.from('\n')]);

describe('a hostile agent cannot stall the loop', () => {
  it('keeps ticking and controlling an honest VM while another agent floods 10 MB deeply nested lines nobody asked for', async () => {
    const WINDOW_MS = 4000;
    const honest = await startVm('honest1', 2e9);
    const evil = await startVm('flood1', 1e9);
    const vms = [controlled(honest, 3e9), controlled(evil)];
    const calm = await runLoop(vms, WINDOW_MS);

    let flooding = true;
    let sentBytes = 0;
    const flood = (async () => {
      while (flooding) {
        await evil.agent.send(DEEP_LINE);
        sentBytes += DEEP_LINE.length;
      }
    })();
    const stormy = await runLoop(vms, WINDOW_MS);
    flooding = false;
    await flood;

    const ratio = stormy.reports.length / calm.reports.length;
    console.log(`[guard] deep-JSON flood: ${stormy.reports.length} ticks in ${WINDOW_MS / 1000} s under a flood of ${(sentBytes / 2 ** 20).toFixed(0)} MiB vs ${calm.reports.length} without (ratio ${ratio.toFixed(2)}); ` +
      `longest gap between tick starts ${maxGapMs(stormy.startsMs).toFixed(0)} ms flood vs ${maxGapMs(calm.startsMs).toFixed(0)} ms calm (period ${TICK_MS} ms); honest VM observed in ${(observedShare(stormy, 'honest1') * 100).toFixed(0)}% of flood ticks; ` +
      `bytes dropped unread by the client: ${(evil.client.ignored.unsolicitedBytes / 2 ** 20).toFixed(0)} MiB, parsed as garbage: ${evil.client.ignored.garbage} lines`);
    expect(sentBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(evil.client.ignored.unsolicitedBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(ratio).toBeGreaterThan(0.8);
    expect(observedShare(stormy, 'honest1')).toBeGreaterThan(0.9);
  });

  it('answers to every request with a 10 MB nested line cost the loop nothing: bounded, refused, reported clean', async () => {
    const honest = await startVm('honest2', 2e9);
    const evil = await startVm('flood2', 1e9, (h) => (req) => (req.execute === 'guest-sync-delimited' ? h(req) : { raw: DEEP_LINE }));
    const run = await runLoop([controlled(honest, 3e9), controlled(evil)], 2000);
    const evilErrors = run.reports.map((r) => r.vms.find((v) => v.id === 'flood2')?.error?.code);
    console.log(`[guard] 10 MB replies: ${run.reports.length} ticks in 2 s, honest VM observed in ${(observedShare(run, 'honest2') * 100).toFixed(0)}%, hostile VM errors: ${[...new Set(evilErrors)].join(', ')}`);
    expect(run.reports.length).toBeGreaterThanOrEqual(7);
    expect(observedShare(run, 'honest2')).toBeGreaterThan(0.9);
    expect(evilErrors.every((c) => c !== undefined)).toBe(true);
  });

  it('drops lines nobody asked for unparsed, even small valid ones that look like replies', async () => {
    const vm = await startVm('chatty', 1e9);
    await vm.client.execute('guest-info');
    for (let i = 0; i < 50; i++) await vm.agent.send(`{"return": "fake", "id": ${i}}\n[1,2,3]\nnot json\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(await vm.client.execute<{ version: string }>('guest-info')).toMatchObject({ version: '7.2.22' });
    expect(vm.client.ignored.unsolicitedBytes).toBeGreaterThan(50 * 40);
    // Nothing of it was parsed: no garbage lines, no stale replies counted.
    expect(vm.client.ignored).toMatchObject({ garbage: 0, stale: 0 });
  });
});

describe('guest text stays bounded and clean', () => {
  // Just under the 1 MiB reply bound once JSON-escaped: the description itself gets through.
  const NASTY_DESC = `\u001b[2J\u001b]0;owned\u0007${'\u001b[31mEVIL\u202e\r\n'.repeat(100)}${'E'.repeat(1_000_000)}`;

  it.each([
    ['a 1 MB error description with escape sequences', NASTY_DESC],
    ['an error reply over the 1 MiB bound', `\u001b[31m${'\u001b[31mEVIL\u202e\r\n'.repeat(80_000)}`],
  ])('%s reaches the tick report and the log as one short printable line', async (_name, desc) => {
    const evil = await startVm(`liar${seq}`, 1e9, (h) => (req) => (req.execute === 'guest-network-get-interfaces' ? { error: { class: `Generic\u001b[5mError${'x'.repeat(5000)}`, desc } } : h(req)));
    const run = await runLoop([controlled(evil)], 1200);
    const errors = run.reports.map((r) => r.vms[0]?.error).filter((e) => e !== null && e !== undefined);
    expect(errors.length).toBeGreaterThan(2);
    for (const e of errors) {
      expect(e.message).not.toMatch(UNSAFE);
      expect(e.message.length).toBeLessThan(600);
    }
    const logged = run.logLines.filter((l) => l.includes(evil.id));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      const parsed = JSON.stringify(JSON.parse(line));
      // JSON escapes control characters as \u00XX: none may be there to escape.
      expect(parsed).not.toMatch(/\\u00[01][0-9a-f]|\\u00[89][0-9a-f]|\u202e/);
      expect(line.length).toBeLessThan(4000);
    }
    console.log(`[guard] ${_name}: tick error message ${errors[0]?.message.length} characters: ${JSON.stringify(errors[0]?.message.slice(0, 160))}`);
  });

  it('a guest inflating its counter 1000x reads as the port rate at most', async () => {
    const liar = await startVm('liar2', 5e12);
    const run = await runLoop([controlled(liar)], 1200);
    const rates = run.reports.map((r) => r.vms[0]?.rateBps).filter((x): x is number => typeof x === 'number');
    expect(rates.length).toBeGreaterThan(2);
    expect(Math.max(...rates)).toBe(CAPACITY_BPS);
    expect(Math.max(...run.reports.map((r) => r.port.usedBps))).toBeLessThanOrEqual(CAPACITY_BPS);
  });
});

describe('renamed interfaces', () => {
  // Names the kernel accepts; the old tc plan refused them (E_TC_PLAN every tick), leaving the VM uncapped.
  it.each(['eth0+', 'e;id>x', 'x'.repeat(15), 'vé0', 'e#1', "q'\"z", '\u001b[31mred'])('a VF renamed to %j is capped again', async (name) => {
    const vm = await startVm(`ren${seq}`, 1e9);
    const ep = controlled(vm).endpoint;
    await ep.readTx();
    await ep.applyCap(300e6);
    vm.guest.renameInterface('eth0', name);
    // The first apply after a rename may fail (cached name); the next one finds the VF by MAC.
    await ep.applyCap(200e6).catch(() => undefined);
    await ep.readTx();
    await ep.applyCap(200e6);
    expect(vm.guest.capOf(name)).toBe(200e6);
    const reading = await ep.readCap();
    expect(reading.capBps).toBe(200e6);
    expect(reading.detail).not.toMatch(UNSAFE);
  });
});

describe('an agent that comes back', () => {
  it('is controlled again within 2 ticks of its return', async () => {
    const vm = await startVm('phoenix', 1e9);
    const logLines: string[] = [];
    const logger = createLogger({ level: 'warn', pretty: false, destination: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) });
    const vms = [controlled(vm)];
    const controller = new Controller({ policy: createPolicy('daqs'), capacityBps: CAPACITY_BPS, tickMs: TICK_MS, clock: systemClock, logger, listVms: () => vms, perVmTimeoutMs: 150 });
    const seen: { atMs: number; ok: boolean }[] = [];
    controller.on('tick', (r) => seen.push({ atMs: performance.now(), ok: r.vms[0]?.error === null }));
    controller.start();
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await vm.agent.close();
      // Down for 5 s, as in the issue: long enough for any backoff to grow.
      await new Promise((r) => setTimeout(r, 5000));
      const backAtMs = performance.now();
      vm.agent = await startFakeAgent(vm.socket, vm.handler);
      await new Promise((r) => setTimeout(r, 2000));
      const after = seen.filter((s) => s.atMs > backAtMs);
      const firstOk = after.findIndex((s) => s.ok);
      const downTicks = seen.filter((s) => !s.ok).length;
      console.log(`[guard] agent restart: ${downTicks} ticks without the agent; controlled again at tick ${firstOk + 1} after its return (${firstOk >= 0 ? ((after[firstOk]?.atMs ?? 0) - backAtMs).toFixed(0) : '-'} ms)`);
      expect(downTicks).toBeGreaterThan(15);
      expect(firstOk).toBeGreaterThanOrEqual(0);
      expect(firstOk + 1).toBeLessThanOrEqual(2);
    } finally {
      await controller.stop({ liftCaps: false });
    }
  });
});

describe('guest-exec bookkeeping', () => {
  it('a tc that never exits is asked about until it does, and no more than 2 are ever outstanding', async () => {
    let hang = true;
    const running = new Set<number>();
    let statusCalls = 0;
    let execs = 0;
    const vm = await startVm('stuck', 1e9, (h) => async (req) => {
      if (req.execute === 'guest-exec') {
        execs++;
        const r = await h(req);
        const pid = r && 'return' in r ? Number((r.return as { pid: number }).pid) : NaN;
        if (hang) running.add(pid);
        return r;
      }
      if (req.execute === 'guest-exec-status') {
        statusCalls++;
        if (running.has(Number(req.arguments.pid))) return hang ? { return: { exited: false } } : (running.delete(Number(req.arguments.pid)), h(req));
      }
      return h(req);
    });
    const ep = controlled(vm).endpoint;
    await ep.readTx();
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(await ep.applyCap(100e6 + i * 10e6).then(() => 'ok', (e: { code?: string }) => e.code ?? '?'));
    console.log(`[guard] hung tc: applies ${codes.join(', ')}; execs started ${execs}`);
    expect(codes.filter((c) => c === 'E_EXEC_TIMEOUT').length).toBeGreaterThanOrEqual(1);
    expect(codes).toContain('E_EXEC_BUSY');
    expect(execs).toBeLessThanOrEqual(2);
    // The programs exit: the background poll collects them and applies work again.
    hang = false;
    const before = statusCalls;
    await new Promise((r) => setTimeout(r, 2500));
    expect(statusCalls).toBeGreaterThan(before);
    expect(running.size).toBe(0);
    await ep.applyCap(500e6);
    expect(vm.guest.capOf('eth0')).toBe(500e6);
  });
});
