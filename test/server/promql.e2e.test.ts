/**
 * The PromQL daqs ships, evaluated by Prometheus itself (2.42, unpacked from Debian's package
 * by scripts/setup.mjs into out/tools): every Grafana dashboard query against a real Prometheus
 * scraping a live hub, and the alert rules of deploy/prometheus-alerts.yaml through
 * `promtool test rules` on series that should and should not fire.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/server/grafana-dashboard.ts';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { feed } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';
import { freePort } from '../support/free-port.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOOLS = join(ROOT, 'out', 'tools', 'prometheus', 'usr', 'bin');
const PROMETHEUS = join(TOOLS, 'prometheus');
const PROMTOOL = join(TOOLS, 'promtool');
const ALERTS = join(ROOT, 'deploy', 'prometheus-alerts.yaml');
const PORT_NAME = 'enp65s0f0';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


interface PromVector { metric: Record<string, string>; value: [number, string] }

if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} not found: run \`node scripts/setup.mjs\` (it unpacks Debian's prometheus package into out/tools)`);

const dir = mkdtempSync(join(tmpdir(), 'daqs-promql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Grafana dashboard against a real Prometheus scraping daqs', () => {
  const hub = new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.9e9, vms: paperLikeVms(4, 5), tickMs: 200 });
  let server: RunningServer;
  let prom: ChildProcess;
  let promUrl = '';
  let ticker: NodeJS.Timeout;
  const promLog: string[] = [];

  async function query(expr: string): Promise<PromVector[]> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: PromVector[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    // A scalar (time() - ...) comes back as one [time, value] pair.
    return body.data!.resultType === 'scalar' ? [{ metric: {}, value: body.data!.result as [number, string] }] : (body.data!.result as PromVector[]);
  }

  beforeAll(async () => {
    hub.setInfo({ portName: PORT_NAME, policy: 'daqs' });
    hub.setInventory({ vms: { 'ready': 4, 'not-ready': 0, 'no-agent': 0, 'lookup-failed': 0, 'ignored': 0 }, lastRefreshEpochMs: Date.now(), refreshFailures: 0 });
    feed(hub, host, 40);
    server = await startServer({ address: '127.0.0.1:0', hub });
    ticker = setInterval(() => {
      feed(hub, host, 1);
      hub.publishEvent({ atEpochMs: Date.now(), kind: 'drift-detected', vm: 'vm-be1', message: 'test drift' });
    }, 200);
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: daqs\n    static_configs:\n      - targets: ['127.0.0.1:${server.port}']\n`);
    prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout?.on('data', (b: Buffer) => promLog.push(b.toString()));
    prom.stderr?.on('data', (b: Buffer) => promLog.push(b.toString()));
    // An agent that fails for a while, so the error panels have something to show.
    host.setAgentFailing('vm-be2', true);
    setTimeout(() => host.setAgentFailing('vm-be2', false), 3000);
    // rate()[1m] and the histograms need a few scrapes.
    const deadline = Date.now() + 40_000;
    for (;;) {
      const up = await query('count(up == 1)').catch(() => []);
      const samples = await query('count_over_time(daqs_ticks_total[1m])').catch(() => []);
      if (up.length > 0 && Number(samples[0]?.value[1] ?? 0) >= 6) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape daqs: ${promLog.join('').slice(-2000)}`);
      await sleep(500);
    }
  }, 60_000);

  afterAll(async () => {
    clearInterval(ticker);
    prom?.kill('SIGTERM');
    await new Promise((r) => (prom?.exitCode !== null ? r(null) : prom.once('exit', r)));
    await server?.close();
  });

  it('every panel query returns data', async () => {
    const dashboard = buildDashboard() as { panels: { title: string; targets?: { expr: string }[] }[] };
    const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$instance', '.*').replaceAll('$port', '.*').replaceAll('$vm', '.*') })));
    expect(targets.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const t of targets) {
      const result = await query(t.expr);
      if (result.length === 0) empty.push(`${t.panel}: ${t.expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('reads the rates from the byte counters, in bits per second, per VM and port', async () => {
    // A 5 s window: the series are a few seconds old, and rate() divides by the whole window.
    const rates = await query('8 * rate(daqs_vm_tx_bytes_total[5s])');
    expect(rates.map((r) => r.metric.vm).sort()).toEqual(['vm-be1', 'vm-be2', 'vm-be3', 'vm-guar']);
    expect(new Set(rates.map((r) => r.metric.port))).toEqual(new Set([PORT_NAME]));
    // vm-guar sends about 0.8-1 Gbit/s in the model: the counter's rate says so.
    const guar = Number(rates.find((r) => r.metric.vm === 'vm-guar')!.value[1]);
    const recent = hub.latestTick()!.vms.find((v) => v.id === 'vm-guar')!.rateBps!;
    expect(guar).toBeGreaterThan(0.8 * recent);
    expect(guar).toBeLessThan(1.2 * recent);
    const ports = await fetch(`${promUrl}/api/v1/label/port/values?match[]=daqs_build_info`).then((r) => r.json()) as { data: string[] };
    expect(ports.data).toEqual([PORT_NAME]);
  });
});

describe('the documented alert rules (deploy/prometheus-alerts.yaml) under promtool', () => {
  it('are valid rules', () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('fire when they should, and only then', () => {
    // Series are sampled every 15 s; time() is seconds since the start of the test.
    const L = 'instance="h1:9311",job="daqs",port="p1"';
    const tests = `rule_files: ['${ALERTS}']
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      # web1: below its guarantee 1.5 s in every 15 s (10%); web2: 0.3 s (2%).
      - series: 'daqs_vm_guarantee_unmet_seconds_total{${L},vm="web1"}'
        values: '0+1.5x60'
      - series: 'daqs_vm_guarantee_unmet_seconds_total{${L},vm="web2"}'
        values: '0+0.3x60'
      # The loop ticks until 2 minutes, then stops.
      - series: 'daqs_last_tick_timestamp_seconds{instance="h1:9311",job="daqs"}'
        values: '0+15x8 120x52'
      - series: 'daqs_vm_agent_up{${L},vm="web1"}'
        values: '1x60'
      - series: 'daqs_vm_agent_up{${L},vm="db1"}'
        values: '1x10 0x50'
      - series: 'daqs_reconcile_actions_total{instance="h1:9311",job="daqs",action="cap",result="failed"}'
        values: '0+1x60'
      - series: 'daqs_inventory_last_refresh_timestamp_seconds{${L}}'
        values: '0+15x20 300x40'
      - series: 'daqs_inventory_vms{${L},status="no-agent"}'
        values: '0x10 1x80'
      - series: 'daqs_inventory_vms{${L},status="ready"}'
        values: '5x60'
      - series: 'daqs_vm_drift_total{${L},vm="batch1"}'
        values: '0+1x60'
      - series: 'daqs_vm_drift_total{${L},vm="web1"}'
        values: '0x20 1x40'
    alert_rule_test:
      - eval_time: 15m
        alertname: DaqsGuaranteeViolated
        exp_alerts:
          - exp_labels: { severity: critical, instance: 'h1:9311', job: daqs, port: p1, vm: web1 }
            exp_annotations: { summary: 'daqs: web1 on p1 is below its guarantee 10% of the time' }
      - eval_time: 1m
        alertname: DaqsLoopStalled
        exp_alerts: []
      - eval_time: 3m
        alertname: DaqsLoopStalled
        exp_alerts:
          - exp_labels: { severity: critical, instance: 'h1:9311', job: daqs }
            exp_annotations: { summary: 'daqs on h1:9311 has not ticked for 1m 0s' }
      - eval_time: 12m
        alertname: DaqsAgentDown
        exp_alerts:
          - exp_labels: { severity: warning, instance: 'h1:9311', job: daqs, port: p1, vm: db1 }
            exp_annotations: { summary: 'daqs cannot reach the guest agent of db1 (see daqs_agent_errors_total for the code)' }
      - eval_time: 14m
        alertname: DaqsCapChangesFailing
        exp_alerts:
          - exp_labels: { severity: warning, instance: 'h1:9311' }
            exp_annotations: { summary: 'daqs on h1:9311 keeps failing to change caps (journalctl -u daqs -p warning)' }
      - eval_time: 4m
        alertname: DaqsInventoryStale
        exp_alerts: []
      - eval_time: 13m
        alertname: DaqsInventoryStale
        exp_alerts:
          - exp_labels: { severity: warning, instance: 'h1:9311', job: daqs, port: p1 }
            exp_annotations: { summary: 'daqs on p1 has not listed VMs for 8m 0s: new VMs are not controlled' }
      - eval_time: 17m
        alertname: DaqsVmsNotControlled
        exp_alerts: []
      - eval_time: 18m
        alertname: DaqsVmsNotControlled
        exp_alerts:
          - exp_labels: { severity: warning, instance: 'h1:9311', job: daqs, port: p1, status: no-agent }
            exp_annotations: { summary: '1 VMs on p1 are not controlled by daqs (no-agent); daqs status lists them' }
      - eval_time: 15m
        alertname: DaqsCapDrift
        exp_alerts:
          - exp_labels: { severity: warning, instance: 'h1:9311', job: daqs, port: p1, vm: batch1 }
            exp_annotations: { summary: 'the cap in batch1 was changed from inside the guest 60 times in 15 minutes' }
`;
    const file = join(dir, 'alerts.test.yaml');
    writeFileSync(file, tests);
    const r = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
