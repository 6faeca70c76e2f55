/**
 * Issue 6 end to end: `daqs run` on the emulated host (real qemu-ga, tc, iperf2 traffic)
 * serves /metrics, /api/status and the live view; the metrics follow real traffic, `daqs
 * status` reads the daemon, Chromium shows every VM updating, and SIGTERM stops it cleanly.
 * Needs root (network namespaces). Checks are relative (before/after traffic), never absolute.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runStatus } from '../../src/cli/commands/status.ts';
import type { StatusSnapshot } from '../../src/server/hub.ts';
import { fetchFromDaemon } from '../../src/server/status-client.ts';
import { testbedUp, type Testbed, type TrafficHandle } from '../../src/testbed/index.ts';
import { launchChromium } from './browser.ts';
import { parsePromText, sampleValue, type PromSample } from './helpers.ts';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.ts';
import { freePort } from '../support/free-port.ts';

const NAME = 'opsobs';
const CAPACITY_BPS = 2e9;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = join(ROOT, 'out', 'screenshots', 'web-view-daemon.png');

let tb: Testbed;
let dir: string;
let daemon: DaemonProcess | null = null;
let traffic: TrafficHandle[] = [];
let statusAddr = '';
let metricsAddr = '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


async function scrape(): Promise<PromSample[]> {
  return parsePromText(await fetchFromDaemon(metricsAddr, '/metrics'));
}

async function fetchStatus(): Promise<StatusSnapshot> {
  return JSON.parse(await fetchFromDaemon(statusAddr, '/api/status')) as StatusSnapshot;
}

/** Polls `check` until it holds; the message names what never happened, with the daemon's log tail. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon output:\n${(daemon?.output.join('') ?? '').slice(-3000)}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  tb = await testbedUp({ name: NAME, vms: 2, capacityBps: CAPACITY_BPS });
  dir = await mkdtemp(join(tmpdir(), 'daqs-obs-'));
  statusAddr = `127.0.0.1:${await freePort()}`;
  metricsAddr = `127.0.0.1:${await freePort()}`;
  const config = join(dir, 'daqs.yaml');
  await writeFile(config, [
    'port:',
    `  testbed: ${NAME}`,
    'policy: daqs',
    'vms:',
    `  ${tb.vms[0]!.id}:`,
    '    guarantee: 800mbit',
    'daemon:',
    `  status: ${statusAddr}`,
    '  metrics:',
    `    listen: ${metricsAddr}`,
    '  logLevel: info',
    '',
  ].join('\n'));
  daemon = startDaemonProcess(config);
  await eventually(async () => ((await scrape()).some((s) => s.name === 'daqs_vm_info') ? true : undefined), 'the daemon to serve metrics for its VMs');
});

afterAll(async () => {
  await Promise.all(traffic.map((t) => t.stop().catch(() => undefined)));
  await daemon?.kill();
  await tb?.down();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('daqs run serves metrics, status and the live view (emulated host)', () => {
  it('metrics follow real traffic: the VF byte counter of a VM that starts sending rises by what it sent', async () => {
    const be = tb.vms[1]!.id;
    const guar = tb.vms[0]!.id;
    const port = `testbed:${NAME}`;
    const idle = await scrape();
    expect(sampleValue(idle, 'daqs_vm_info', { vm: guar, port, role: 'guarantee', guarantee_source: 'config' })).toBe(1);
    expect(sampleValue(idle, 'daqs_vm_info', { vm: be, port, role: 'best-effort' })).toBe(1);
    expect(sampleValue(idle, 'daqs_vm_guarantee_bytes_per_second', { vm: guar })).toBe(800e6 / 8);
    expect(sampleValue(idle, 'daqs_port_nominal_capacity_bytes_per_second', { port })).toBe(CAPACITY_BPS / 8);
    expect(sampleValue(idle, 'daqs_inventory_vms', { port, status: 'ready' })).toBe(2);
    const idleTicks = sampleValue(idle, 'daqs_ticks_total')!;
    // Two scrapes a second apart while idle: what the VM sends without traffic.
    const idleA = sampleValue(idle, 'daqs_vm_tx_bytes_total', { vm: be })!;
    await sleep(1000);
    const idleB = sampleValue(await scrape(), 'daqs_vm_tx_bytes_total', { vm: be })!;

    traffic = [await tb.startTraffic(1, { threads: 5 })];
    // Wait until the loop sees the traffic, then count two seconds of it on the counter.
    await eventually(async () => {
      const r = (await fetchStatus()).latest?.vms.find((v) => v.id === be)?.rateBps;
      return r !== undefined && r !== null && r > 0.3 * CAPACITY_BPS ? r : undefined;
    }, `${be}'s measured rate to pass 30% of the port`);
    const busyA = sampleValue(await scrape(), 'daqs_vm_tx_bytes_total', { vm: be })!;
    const t0 = Date.now();
    await sleep(2000);
    const busy = await scrape();
    const busyB = sampleValue(busy, 'daqs_vm_tx_bytes_total', { vm: be })!;
    const busyRateBps = (8 * (busyB - busyA)) / ((Date.now() - t0) / 1000);
    // The counter is the guest's own (not an estimate): over 2 s it shows most of the traffic,
    // and more than ten times what the idle VM sent in a second.
    expect(busyRateBps).toBeGreaterThan(0.3 * CAPACITY_BPS);
    expect(busyB - busyA).toBeGreaterThan(10 * (idleB - idleA) + 1);
    expect(sampleValue(busy, 'daqs_ticks_total')!).toBeGreaterThan(idleTicks);
    expect(sampleValue(busy, 'daqs_tick_duration_seconds_count')!).toBeGreaterThan(0);
    expect(sampleValue(busy, 'daqs_agent_rtt_seconds_count')!).toBeGreaterThan(0);
    expect(sampleValue(busy, 'daqs_vm_agent_up', { vm: be })).toBe(1);
  });

  it('daqs status reads the running daemon', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await runStatus(['--address', statusAddr], io)).toBe(0);
    const text = out.join('\n');
    for (const vm of tb.vms) expect(text).toContain(vm.id);
    expect(text).toMatch(/guarantee\s+800mbit \(config\)/);
    out.length = 0;
    expect(await runStatus(['--json', '--address', statusAddr], io)).toBe(0);
    const json = JSON.parse(out.join('\n')) as { latest: { vms: { id: string }[] } };
    expect(json.latest.vms.map((v) => v.id).sort()).toEqual(tb.vms.map((v) => v.id).sort());
  });

  it('the live view in Chromium shows every VM and updates by itself', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://${metricsAddr}/`);
      await page.waitForFunction((n) => document.querySelectorAll('article[data-vm]').length === n, tb.vms.length, { timeout: 30_000 });
      const tick = await page.locator('#fact-tick').textContent();
      await page.waitForFunction((t) => document.querySelector('#fact-tick')?.textContent !== t, tick, { timeout: 30_000 });
      // Let the charts gather a few points of the traffic before the picture.
      await sleep(4000);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('SIGTERM stops the daemon cleanly and frees its addresses', async () => {
    await Promise.all(traffic.map((t) => t.stop()));
    traffic = [];
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited()).toBe(0);
    await expect(fetchFromDaemon(metricsAddr, '/metrics', 1000)).rejects.toMatchObject({ code: 'E_NO_DAEMON' });
  });
});
