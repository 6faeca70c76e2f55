/**
 * `daqs run` as an operator runs it (a child process): one daemon per port, a SIGKILLed daemon
 * leaves nothing that stops the next one, and a second SIGTERM does not cut short the lift of
 * the caps. The VM is a scripted agent on a unix socket in this process (static inventory), so
 * no root is needed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../src/agent/fake-guest.ts';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.ts';

const IFACE = `gd${process.pid % 100000}`;
let dir: string;
let config: string;
let agent: FakeAgent;
let slow = false;
const guest = new FakeGuest([{ name: 'eth0', mac: '52:54:00:00:20:01', txBytes: 0n }]);
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gdrun-'));
  const socket = join(dir, 'vm1.sock');
  // While `slow`, every reply takes 120 ms: the lift at stop takes several of them.
  agent = await startFakeAgent(socket, (req) => (slow ? { delayMs: 120, then: guest.handler(req) as never } : guest.handler(req)));
  config = join(dir, 'daqs.yaml');
  await writeFile(config, [
    'port:', `  interface: ${IFACE}`, '  capacity: 1gbit', '  tickMs: 200',
    'policy: static',
    'inventory:', '  source: static', '  static:', `    - name: vm1`, `      socket: ${socket}`, '      mac: "52:54:00:00:20:01"',
    'daemon:', "  status: '127.0.0.1:0'", '  metrics:', "    listen: '127.0.0.1:0'", '  onStop: lift',
    'agent:', '  timeoutMs: 999', '',
  ].join('\n'));
});

afterAll(async () => {
  for (const d of daemons) await d.kill();
  await agent?.close();
  await rm(dir, { recursive: true, force: true });
});

function start(): DaemonProcess {
  const d = startDaemonProcess(config);
  daemons.push(d);
  return d;
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const running = (d: DaemonProcess) => () => d.output.join('').includes('daqs running');

describe('one daemon per port', () => {
  it('refuses a second daemon on the same port, naming the first one\'s pid', async () => {
    const first = start();
    await until('the first daemon', running(first));
    const second = start();
    expect(await second.exited()).toBe(1);
    expect(second.output.join('')).toMatch(new RegExp(`port if/${IFACE} is already controlled by daqs pid ${first.child.pid} \\(config ${config.replace(/[.]/g, '\\.')}\\)`));
    expect(first.child.exitCode).toBeNull();

    // SIGKILL leaves no stale lock: the next daemon starts at once.
    await first.kill();
    const third = start();
    await until('a daemon after the SIGKILL', running(third));
    await third.kill();
  });

  it('a second SIGTERM does not abort the lift of the caps; the daemon lifts them and exits 0', async () => {
    const d = start();
    await until('the daemon', running(d));
    await until('the static cap in the guest', () => guest.capOf('eth0') === 1e9);
    // A few ticks, so the cap is known to be in force (adopted or applied).
    await new Promise((r) => setTimeout(r, 600));
    slow = true;
    try {
      d.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 60));
      d.child.kill('SIGTERM');
      expect(await d.exited()).toBe(0);
      expect(guest.capOf('eth0')).toBeNull();
      expect(d.output.join('')).toMatch(/already stopping/);
    } finally {
      slow = false;
    }
  });
});
