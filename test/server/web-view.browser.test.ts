import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { launchChromium, type HeadlessBrowser } from './browser.ts';
import { feed } from './helpers.ts';
import { manyVms, paperLikeVms, SyntheticHost, type SyntheticVm } from './synthetic-host.ts';

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'screenshots');
const TICK_MS = 200;

interface SeriesView { label: string; stroke: string; last: number | null }
interface Perf { statusUpdates: number; cellWrites: number; points: number; sparklineDraws: number; cardChartDraws: number; busyMs: number; since: number }

/** A hub fed with `minutes` of history from `vms`, then live ticks every 200 ms, served over HTTP. */
async function liveHub(vms: SyntheticVm[], minutes: number, portName: string) {
  const hub = new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
  const historyTicks = (minutes * 60_000) / TICK_MS;
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.88e9, vms, tickMs: TICK_MS, startEpochMs: Date.now() - historyTicks * TICK_MS });
  hub.setInfo({ configPath: '/etc/daqs/daqs.yaml', portName, tickPeriodMs: TICK_MS, startedAtEpochMs: Date.now() - historyTicks * TICK_MS - 4000 });
  return { hub, host, historyTicks, start: async () => {
    const server = await startServer({ address: '127.0.0.1:0', hub });
    const ticker = setInterval(() => feed(hub, host, 1), TICK_MS);
    return { server, stop: async () => { clearInterval(ticker); await server.close(); } };
  } };
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

describe('the live web view in headless Chromium', () => {
  let browser: HeadlessBrowser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('a few VMs: one card each, the port stacked by VM', () => {
    // The paper's scenario plus a Guarantee VM that sends almost nothing.
    const idleVm: SyntheticVm = { id: 'vm-idle', guaranteeBps: 400e6, demandBps: () => 1e6 };
    let live: Awaited<ReturnType<typeof liveHub>>;
    let running: { server: RunningServer; stop: () => Promise<void> };

    beforeAll(async () => {
      live = await liveHub([...paperLikeVms(4, 150), idleVm], 3, 'testbed:opsweb');
      const { hub, host, historyTicks } = live;
      feed(hub, host, 560);
      host.setAgentFailing('vm-be2', true);
      feed(hub, host, 12);
      host.setAgentFailing('vm-be2', false);
      feed(hub, host, historyTicks - 572);
      hub.publishEvent({ atEpochMs: host.nextEpochMs - 90_000, kind: 'config-reloaded', message: 'sighup: applied vms, port.capacity' });
      running = await live.start();
    });
    afterAll(async () => {
      await running?.stop();
    });

    it('shows every VM, updates by itself, and saves a screenshot', async () => {
      const page = await browser.context.newPage();
      const pageErrors = watchErrors(page);
      await page.goto(running.server.url);
      const hub = live.hub;

      const ids = hub.latestTick()!.vms.map((v) => v.id);
      await page.waitForFunction((n) => document.querySelectorAll('article[data-vm]').length === n, ids.length);
      await expect(page.evaluate(() => (window as unknown as { daqsView: { view(): string } }).daqsView.view())).resolves.toBe('cards');
      for (const id of ids) {
        await expect(page.locator(`[data-vm="${id}"] [data-field="name"]`).textContent()).resolves.toBe(id);
        await expect(page.locator(`[data-vm="${id}"] canvas`).count()).resolves.toBeGreaterThan(0);
      }
      // Guarantee VMs first, with the guarantee and where it came from.
      await expect(page.locator('article[data-vm]').first().getAttribute('data-vm')).resolves.toBe('vm-guar');
      await expect(page.locator('[data-vm="vm-guar"] [data-field="guarantee"]').textContent()).resolves.toBe('800 Mbit/s');
      await expect(page.locator('[data-vm="vm-guar"] [data-field="guarantee-note"]').textContent()).resolves.toBe('from config');
      await expect(page.locator('#conn').getAttribute('data-state')).resolves.toBe('live');
      // An idle Guarantee VM is shown as idle, not as "guarantee met".
      await expect(page.locator('[data-vm="vm-idle"] [data-field="guarantee-met"]').textContent()).resolves.toBe('idle');
      await expect(page.locator('[data-vm="vm-guar"] [data-field="guarantee-met"]').textContent()).resolves.toMatch(/guarantee met|below guarantee/);

      // The rate shown changes without a reload, driven by the stream.
      const firstRate = await page.locator('[data-vm="vm-guar"] [data-field="rate"]').textContent();
      const firstTick = await page.locator('#fact-tick').textContent();
      await page.waitForFunction(([r, t]) => document.querySelector('[data-vm="vm-guar"] [data-field="rate"]')?.textContent !== r && document.querySelector('#fact-tick')?.textContent !== t, [firstRate, firstTick] as const, { timeout: 30_000 });

      // A new event reaches the list by itself.
      hub.publishEvent({ atEpochMs: Date.now(), kind: 'drift-detected', vm: 'vm-be1', message: 'found htb rate 300Mbit, expected 416Mbit; re-applied' });
      await page.waitForFunction(() => document.querySelector('#events li')?.getAttribute('data-kind') === 'drift-detected', undefined, { timeout: 10_000 }).catch(async (e) => {
        console.log(await page.locator('#events li').evaluateAll((lis) => lis.slice(0, 5).map((li) => li.textContent)), pageErrors);
        throw e;
      });
      const kinds = await page.locator('#events li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')));
      expect(kinds).toEqual(expect.arrayContaining(['vm-appeared', 'guarantee-violated', 'agent-unreachable', 'agent-recovered', 'config-reloaded']));
      await expect(page.locator('#port-used').textContent()).resolves.toMatch(/[0-9.]+ (Gbit|Mbit)\/s/);

      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'web-view.png'), fullPage: true });
      await page.locator('section.port').screenshot({ path: join(SHOTS, 'web-view-port.png') });
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it('stacks the port chart by VM in the colours of its legend; the learned capacity is its own line', async () => {
      const page = await browser.context.newPage();
      await page.goto(running.server.url);
      await page.waitForFunction(() => document.querySelectorAll('#port-legend .item').length > 0);
      const series = await page.evaluate(() => (window as unknown as { daqsView: { portSeries(): SeriesView[] } }).daqsView.portSeries());
      const legend = await page.locator('#port-legend .item[data-vm]').evaluateAll((items) => items.map((i) => ({ vm: i.getAttribute('data-vm'), color: i.getAttribute('data-color') })));
      const vmIds = live.hub.latestTick()!.vms.map((v) => v.id).sort();
      // One stacked series per VM (five VMs: no "others"), then the two capacity lines.
      const stacked = series.slice(0, -2);
      expect(stacked.map((s) => s.label).sort()).toEqual(vmIds);
      expect(series.slice(-2).map((s) => s.label)).toEqual(['learned capacity', 'nominal capacity']);
      // The legend lists the same VMs in the same colours, each colour once.
      expect(legend).toEqual(stacked.map((s) => ({ vm: s.label, color: s.stroke })));
      expect(new Set(stacked.map((s) => s.stroke)).size).toBe(stacked.length);
      // The learned capacity is drawn in none of the VM colours and not as a guarantee line.
      const guaranteeColor = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--guarantee').trim());
      const learned = series.at(-2)!;
      expect([guaranteeColor, ...stacked.map((s) => s.stroke)]).not.toContain(learned.stroke);
      // Stacked: each layer's top is the sum so far, and the idle VM adds (almost) nothing.
      const tops = stacked.map((s) => s.last ?? 0);
      tops.slice(1).forEach((t, i) => expect(t).toBeGreaterThanOrEqual(tops[i]!));
      const idleAt = stacked.findIndex((s) => s.label === 'vm-idle');
      const idleThickness = tops[idleAt]! - (idleAt > 0 ? tops[idleAt - 1]! : 0);
      expect(idleThickness).toBeLessThan(0.01 * tops.at(-1)!);
      await page.close();
    });

    it('switches to the table and back, and remembers the choice', async () => {
      const page = await browser.context.newPage();
      await page.goto(running.server.url);
      await page.waitForFunction(() => document.querySelectorAll('article[data-vm]').length > 0);
      await page.click('[data-view="table"]');
      await page.waitForFunction(() => document.querySelectorAll('#vm-rows tr[data-vm]').length === 5 && document.querySelectorAll('article[data-vm]').length === 0);
      await expect(page.locator('#vm-rows [data-vm="vm-idle"] [data-field="guarantee-met"]').textContent()).resolves.toBe('idle');
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('#vm-rows tr[data-vm]').length === 5);
      await page.click('[data-view="cards"]');
      await page.waitForFunction(() => document.querySelectorAll('article[data-vm]').length === 5);
      await page.close();
    });
  });

  describe('256 VMs: the compact table', () => {
    const COUNT = 256;
    let live: Awaited<ReturnType<typeof liveHub>>;
    let running: { server: RunningServer; stop: () => Promise<void> };

    beforeAll(async () => {
      // 16 Guarantee VMs (a quarter of them idle) and 240 Best-Effort VMs joining over time.
      live = await liveHub(manyVms(COUNT), 2, 'enp65s0f0');
      feed(live.hub, live.host, live.historyTicks);
      running = await live.start();
    });
    afterAll(async () => {
      await running?.stop();
    });

    it('renders every VM as a row, by default, and keeps its work bounded by what is on screen', async () => {
      const page = await browser.context.newPage();
      const pageErrors = watchErrors(page);
      await page.goto(running.server.url);
      await page.waitForFunction((n) => document.querySelectorAll('#vm-rows tr[data-vm]').length === n, COUNT, { timeout: 30_000 });
      type View = { daqsView: { view(): string; perf: Perf; visibleRows(): number; portSeries(): SeriesView[] } };
      await expect(page.evaluate(() => (window as unknown as View).daqsView.view())).resolves.toBe('table');
      await expect(page.locator('article[data-vm]').count()).resolves.toBe(0);
      await expect(page.locator('#vm-rows [data-vm="guar-000"] [data-field="guarantee-met"]').textContent()).resolves.toBe('idle');
      // The port chart stacks the busiest VMs and the rest as one "others" band.
      const series = await page.evaluate(() => (window as unknown as View).daqsView.portSeries());
      expect(series.length).toBe(8 + 1 + 2);
      expect(series[8]!.label).toBe(`others (${COUNT - 8} VMs)`);

      // Live for a few seconds: measure the work done per status message and per history point.
      const before = await page.evaluate(() => ({ ...(window as unknown as View).daqsView.perf, now: performance.now() }));
      await page.waitForFunction((p) => (window as unknown as View).daqsView.perf.points >= p + 4, before.points, { timeout: 30_000 });
      const after = await page.evaluate(() => ({ ...(window as unknown as View).daqsView.perf, now: performance.now(), visible: (window as unknown as View).daqsView.visibleRows() }));
      const points = after.points - before.points;
      const statuses = after.statusUpdates - before.statusUpdates;
      const drawsPerPoint = (after.sparklineDraws - before.sparklineDraws) / points;
      const writesPerStatus = (after.cellWrites - before.cellWrites) / statuses;
      const busyFrac = (after.busyMs - before.busyMs) / (after.now - before.now);
      console.log(`web view, ${COUNT} VMs: ${after.visible} rows on screen, ${drawsPerPoint.toFixed(1)} sparkline draws per history point, ${writesPerStatus.toFixed(0)} cell writes per status, main thread busy ${(100 * busyFrac).toFixed(1)}% of the time in daqs' updates`);
      // Sparklines redrawn per point: the rows on screen (plus the 200 px margin), not all 256.
      expect(after.visible).toBeLessThan(COUNT / 4);
      expect(drawsPerPoint).toBeLessThanOrEqual(after.visible + 16);
      // Cells written per status: only those whose text changed (rate, demand, agent time), never all nine per row.
      expect(writesPerStatus).toBeLessThan(COUNT * 4);
      // Updating 256 rows leaves the page free most of the time.
      expect(busyFrac).toBeLessThan(0.25);
      expect(after.cardChartDraws).toBe(0);

      // Rows scrolled into view get their sparkline drawn then.
      const last = page.locator('#vm-rows tr[data-vm]').last();
      await last.scrollIntoViewIfNeeded();
      await page.waitForFunction(() => {
        const c = [...document.querySelectorAll<HTMLCanvasElement>('#vm-rows tr[data-vm]')].at(-1)!.querySelector('canvas')!;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) return true;
        return false;
      }, undefined, { timeout: 10_000 });

      // The filter narrows the table at once.
      await page.locator('html').evaluate(() => window.scrollTo(0, 0));
      await page.fill('#vm-filter', 'guar-');
      await expect(page.locator('#vm-rows tr[data-vm]:not([hidden])').count()).resolves.toBe(16);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'web-view-table-filtered.png') });
      await page.fill('#vm-filter', '');
      await page.waitForFunction(() => document.querySelectorAll('#vm-rows tr[data-vm]:not([hidden])').length === 256);
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(SHOTS, 'web-view-table.png') });
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });
});
