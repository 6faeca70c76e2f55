import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { launchChromium, type HeadlessBrowser } from './browser.ts';
import { feed } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'screenshots', 'web-view.png');
const TICK_MS = 200;

describe('the live web view in headless Chromium', () => {
  const hub = new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
  // Three minutes of history, then live ticks: Best-Effort VMs join every 30 s.
  const historyTicks = (3 * 60_000) / TICK_MS;
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.88e9, vms: paperLikeVms(4, 150), tickMs: TICK_MS, startEpochMs: Date.now() - historyTicks * TICK_MS });
  let server: RunningServer;
  let browser: HeadlessBrowser;
  let ticker: NodeJS.Timeout;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    hub.setInfo({ configPath: '/etc/daqs/daqs.yaml', portName: 'emulated (2 Gbit/s for 40)', tickPeriodMs: TICK_MS, startedAtEpochMs: Date.now() - historyTicks * TICK_MS - 4000 });
    feed(hub, host, 560);
    host.setAgentFailing('vm-be2', true);
    feed(hub, host, 12);
    host.setAgentFailing('vm-be2', false);
    feed(hub, host, historyTicks - 572);
    hub.publishEvent({ atEpochMs: host.nextEpochMs - 90_000, kind: 'config-reloaded', message: 'reloaded /etc/daqs/daqs.yaml (SIGHUP): 1 guarantee changed' });
    server = await startServer({ address: '127.0.0.1:0', hub });
    ticker = setInterval(() => feed(hub, host, 1), TICK_MS);
    browser = await launchChromium();
  });

  afterAll(async () => {
    clearInterval(ticker);
    await browser?.close();
    await server?.close();
  });

  it('shows every VM, updates by itself, and saves a screenshot', async () => {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(server.url);

    const ids = hub.latestTick()!.vms.map((v) => v.id);
    await page.waitForFunction((n) => document.querySelectorAll('[data-vm]').length === n, ids.length);
    for (const id of ids) {
      await expect(page.locator(`[data-vm="${id}"] [data-field="name"]`).textContent()).resolves.toBe(id);
      await expect(page.locator(`[data-vm="${id}"] canvas`).count()).resolves.toBeGreaterThan(0);
    }
    // Guarantee VM first, with its guarantee and where it came from.
    await expect(page.locator('[data-vm]').first().getAttribute('data-vm')).resolves.toBe('vm-guar');
    await expect(page.locator('[data-vm="vm-guar"] [data-field="guarantee"]').textContent()).resolves.toBe('800 Mbit/s');
    await expect(page.locator('[data-vm="vm-guar"] [data-field="guarantee-note"]').textContent()).resolves.toBe('from config');
    await expect(page.locator('#conn').getAttribute('data-state')).resolves.toBe('live');

    // The rate shown changes without a reload, driven by the stream.
    const rateCell = page.locator('[data-vm="vm-guar"] [data-field="rate"]');
    const tickCell = page.locator('#fact-tick');
    const firstRate = await rateCell.textContent();
    const firstTick = await tickCell.textContent();
    await page.waitForFunction(([r, t]) => document.querySelector('[data-vm="vm-guar"] [data-field="rate"]')?.textContent !== r && document.querySelector('#fact-tick')?.textContent !== t, [firstRate, firstTick] as const, { timeout: 30_000 });

    // A new event reaches the list by itself.
    hub.publishEvent({ atEpochMs: Date.now(), kind: 'drift-detected', vm: 'vm-be1', message: 'found htb rate 300Mbit, expected 416Mbit; re-applied' });
    await page.waitForFunction(() => document.querySelector('#events li')?.getAttribute('data-kind') === 'drift-detected', undefined, { timeout: 30_000 });
    const kinds = await page.locator('#events li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['vm-appeared', 'guarantee-violated', 'agent-unreachable', 'agent-recovered', 'config-reloaded']));

    // Charts hold history: the port chart's x range spans minutes, not seconds.
    const used = await page.locator('#port-used').textContent();
    expect(used).toMatch(/[0-9.]+ (Gbit|Mbit)\/s/);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
