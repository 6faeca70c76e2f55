/**
 * The HTTP side of a daemon that must not be talked into anything: Host allow-list (DNS
 * rebinding), a metrics-only listener for other hosts, a connection limit, and /healthz that
 * fails when the loop stalls.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function newHub(monoNowMs?: () => number): ObservationHub {
  return new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }), ...(monoNowMs ? { monoNowMs } : {}) });
}

async function serve(opts: Partial<Parameters<typeof startServer>[0]> = {}, hub = newHub()): Promise<RunningServer> {
  const server = await startServer({ address: '127.0.0.1:0', hub, ...opts });
  cleanup.push(() => server.close());
  return server;
}

/** GET with an explicit Host header (fetch would not let a test set it). */
function get(port: number, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: host === undefined ? {} : { host }, setHost: host === undefined ? false : true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host allow-list', () => {
  it.each(['attacker.example', 'attacker.example:9310', 'daqs', '127.0.0.1.attacker.example', 'localhost.attacker.example'])('refuses Host %j with 421', async (host) => {
    const s = await serve();
    const r = await get(s.port!, '/api/status', host);
    expect(r.status).toBe(421);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'E_HTTP_HOST' });
  });

  it.each(['127.0.0.1', '127.0.0.1:9310', 'localhost:9310', 'LOCALHOST', '[::1]:9310', '10.1.2.3:9311', hostname(), 'prom.example.net:9311', 'app.localhost'])('answers Host %j', async (host) => {
    const s = await serve({ allowedHosts: ['prom.example.net'] });
    expect((await get(s.port!, '/api/status', host)).status).toBe(200);
  });

  it('answers a request without Host (no browser sends one)', async () => {
    const s = await serve();
    const raw = await new Promise<string>((resolve) => {
      const sock = connect({ host: '127.0.0.1', port: s.port! }, () => sock.end('GET /healthz HTTP/1.0\r\n\r\n'));
      let text = '';
      sock.on('data', (d) => (text += d.toString()));
      sock.on('end', () => resolve(text));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('a metrics-only listener', () => {
  it('serves /metrics and nothing else', async () => {
    const s = await serve({ metricsOnly: true });
    expect((await get(s.port!, '/metrics', '127.0.0.1')).status).toBe(200);
    for (const path of ['/api/status', '/api/events', '/api/history', '/', '/index.html', '/healthz', '/api/events/stream']) {
      expect((await get(s.port!, path, '127.0.0.1')).status, path).toBe(404);
    }
  });
});

describe('connection limit', () => {
  it('refuses connections beyond the limit and takes new ones once some close', async () => {
    const s = await serve({ maxConnections: 3 });
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      held.push(await new Promise<Socket>((resolve) => {
        const c = connect({ host: '127.0.0.1', port: s.port! }, () => resolve(c));
      }));
    }
    cleanup.push(() => held.forEach((c) => c.destroy()));
    await new Promise((r) => setTimeout(r, 50));
    await expect(get(s.port!, '/healthz', '127.0.0.1')).rejects.toThrow();
    held.shift()?.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await get(s.port!, '/healthz', '127.0.0.1')).status).toBe(200);
  });
});

describe('/healthz', () => {
  it('fails with 503 once the last tick is older than 5 tick periods, and recovers with the next tick', async () => {
    let now = 0;
    const hub = newHub(() => now);
    hub.setInfo({ tickPeriodMs: 400 });
    const host = new SyntheticHost({ capacityBps: 2e9, vms: paperLikeVms(2, 5) });
    const s = await serve({}, hub);
    hub.publishTick(host.step().report);
    now = 1900;
    const fresh = await get(s.port!, '/healthz', '127.0.0.1');
    expect(fresh.status).toBe(200);
    expect(JSON.parse(fresh.body)).toMatchObject({ ok: true, lastTickAgeMs: 1900, stalledAfterMs: 2000 });
    now = 2100;
    const stalled = await get(s.port!, '/healthz', '127.0.0.1');
    expect(stalled.status).toBe(503);
    expect(JSON.parse(stalled.body)).toMatchObject({ ok: false, lastTickAgeMs: 2100, reason: expect.stringMatching(/stalled/) });
    hub.publishTick(host.step().report);
    expect((await get(s.port!, '/healthz', '127.0.0.1')).status).toBe(200);
  });
});
