/**
 * The agent path against a real qemu-ga 7.2 and real tc in a namespace: a VF renamed to any
 * name the kernel accepts is capped again; daqs closing its connections, replies pending or
 * not, never makes qemu-ga exit (an abrupt close does: the bug this client works around); an
 * agent that is killed and comes back is controlled again within 2 ticks.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QgaClient } from '../../src/agent/qga-client.ts';
import { Controller } from '../../src/controller/index.ts';
import { AgentVmEndpoint } from '../../src/endpoint/agent-endpoint.ts';
import { createPolicy } from '../../src/policy/index.ts';
import { systemClock } from '../../src/telemetry/clock.ts';
import { runChecked } from '../../src/util/exec.ts';
import { createLogger } from '../../src/util/log.ts';
import { startNetnsAgent, type NetnsAgent } from './helpers/netns-agent.ts';

let vm: NetnsAgent;
let victim: NetnsAgent;

beforeAll(async () => {
  vm = await startNetnsAgent('gdr');
  victim = await startNetnsAgent('gdv');
});

afterAll(async () => {
  await vm?.cleanup();
  await victim?.cleanup();
});

describe('a VF renamed in the guest', () => {
  // Each of these is a name Linux accepts; the old tc plan refused them all (E_TC_PLAN every tick).
  const NAMES = ['eth0+', 'e;id>x', '123456789abcdef', 'vé0', 'e#1', "q'z"];

  it(`is capped again under each of ${NAMES.join(' ')}`, async () => {
    const agent = new QgaClient({ socketPath: vm.socketPath, vm: 'ren', defaultTimeoutMs: 3000 });
    const ep = new AgentVmEndpoint({ id: 'ren', agent, iface: { mac: vm.mac }, tc: { timeoutMs: 5000 } });
    let current = vm.iface;
    try {
      await ep.applyCap(300e6);
      for (const [i, name] of NAMES.entries()) {
        await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', current, 'down']);
        await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', current, 'name', name]);
        await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', name, 'up']);
        current = name;
        const capBps = 100e6 + i * 10e6;
        // The first apply may still use the old name (cached); the VF is then found again by MAC.
        await ep.applyCap(capBps).catch(() => undefined);
        await ep.applyCap(capBps);
        const reading = await ep.readCap();
        expect(reading.capBps, name).toBe(capBps);
        const shown = await runChecked(['ip', 'netns', 'exec', vm.netns, 'tc', 'class', 'show', 'dev', name]);
        expect(shown).toMatch(/class htb dac5:1/);
      }
      await ep.applyCap(null);
    } finally {
      await ep.close();
      await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', current, 'down']).catch(() => undefined);
      await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', current, 'name', vm.iface]).catch(() => undefined);
      await runChecked(['ip', '-n', vm.netns, 'link', 'set', 'dev', vm.iface, 'up']).catch(() => undefined);
    }
  });
});

describe('closing connections to qemu-ga', () => {
  it('an abrupt close with a reply unread makes qemu-ga 7.2 exit (the bug daqs must not trigger)', async () => {
    expect(victim.agentRunning()).toBe(true);
    await new Promise<void>((resolve) => {
      const s = connect(victim.socketPath, () => {
        s.write('{"execute":"guest-ping"}\n');
        s.pause();
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 300);
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    console.log(`[guard] qemu-ga after an abrupt close with its reply unread: ${victim.agentRunning() ? 'still running' : 'EXITED'}`);
    expect(victim.agentRunning()).toBe(false);
  });

  it('daqs closing 300 connections mid-call, with replies on their way, leaves qemu-ga running', async () => {
    for (let i = 0; i < 300; i++) {
      const client = new QgaClient({ socketPath: vm.socketPath, vm: 'churn', defaultTimeoutMs: 2 + (i % 7) });
      const calls = [client.execute('guest-network-get-interfaces'), client.execute('guest-info'), client.execute('guest-get-time', undefined, { timeoutMs: 1 })].map((p) => p.catch(() => undefined));
      if (i % 2 === 0) await new Promise((r) => setTimeout(r, i % 5));
      await client.close();
      await Promise.all(calls);
    }
    expect(vm.agentRunning()).toBe(true);
    const client = new QgaClient({ socketPath: vm.socketPath, vm: 'after', defaultTimeoutMs: 3000 });
    try {
      expect(await client.execute('guest-info')).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+/) });
    } finally {
      await client.close();
    }
  });
});

describe('an agent killed and started again', () => {
  it('is controlled again within 2 ticks of its return', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', pretty: false, destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const agent = new QgaClient({ socketPath: vm.socketPath, vm: 'phoenix', defaultTimeoutMs: 150 });
    const ep = new AgentVmEndpoint({ id: 'phoenix', agent, iface: { mac: vm.mac }, statsTimeoutMs: 150 });
    const vms = [{ id: 'phoenix', sla: { guaranteeBps: 0, maxBps: null, weight: 1 }, slaSource: { guaranteeBps: 'default', maxBps: 'default', weight: 'default' } as const, endpoint: ep }];
    const controller = new Controller({ policy: createPolicy('daqs'), capacityBps: 1e9, tickMs: 200, clock: systemClock, logger, listVms: () => vms, perVmTimeoutMs: 150 });
    const seen: { atMs: number; ok: boolean }[] = [];
    controller.on('tick', (r) => seen.push({ atMs: performance.now(), ok: r.vms[0]?.error === null }));
    controller.start();
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen.some((s) => s.ok)).toBe(true);
      await vm.killAgent();
      await new Promise((r) => setTimeout(r, 5000));
      await vm.startAgent();
      const backAtMs = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const after = seen.filter((s) => s.atMs > backAtMs);
      const firstOk = after.findIndex((s) => s.ok);
      console.log(`[guard] real qemu-ga killed for 5 s: ${seen.filter((s) => !s.ok).length} ticks without it; controlled again at tick ${firstOk + 1} after it was back (${firstOk >= 0 ? ((after[firstOk]?.atMs ?? 0) - backAtMs).toFixed(0) : '-'} ms)`);
      expect(firstOk).toBeGreaterThanOrEqual(0);
      expect(firstOk + 1).toBeLessThanOrEqual(2);
    } finally {
      await controller.stop({ liftCaps: true });
      await ep.close();
    }
  });
});
