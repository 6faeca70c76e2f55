import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExposure } from '../../src/server/address.ts';
import { isLoopbackHost, parseListenAddress, ServerAddressError } from '../../src/util/listen-address.ts';
import { ObservationHub, type StatusSnapshot } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { feed } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

function newHub(): ObservationHub {
  return new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
}

async function startError(p: Promise<unknown>): Promise<ServerAddressError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ServerAddressError);
    return e as ServerAddressError;
  }
  throw new Error('expected startServer to fail');
}

describe('listen addresses', () => {
  it.each([
    ['127.0.0.1:9310', '127.0.0.1', 9310],
    ['[::1]:9310', '::1', 9310],
    ['localhost:0', 'localhost', 0],
    [':9400', '127.0.0.1', 9400],
    ['0.0.0.0:9310', '0.0.0.0', 9310],
  ] as const)('parses %s', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ kind: 'tcp', host, port });
  });

  it('takes an absolute path as a unix socket', () => {
    expect(parseListenAddress('/run/daqs/status.sock')).toEqual({ kind: 'unix', path: '/run/daqs/status.sock' });
    expect(() => checkExposure({ kind: 'unix', path: '/run/daqs/status.sock' }, false)).not.toThrow();
  });

  it.each(['9310', '127.0.0.1', '127.0.0.1:99999', '[127.0.0.1]:80', 'a b:1', ''])('refuses %j with E_LISTEN_ADDRESS', (text) => {
    expect(() => parseListenAddress(text)).toThrow(expect.objectContaining({ code: 'E_LISTEN_ADDRESS', message: expect.stringContaining(JSON.stringify(text)) }));
  });

  it.each([['127.0.0.1', true], ['127.3.2.1', true], ['::1', true], ['localhost', true], ['::ffff:127.0.0.1', true], ['0.0.0.0', false], ['::', false], ['10.0.0.5', false], ['example.org', false]] as const)('%s loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('refuses a non-loopback address without the opt-in, naming the address and the fix', () => {
    expect(() => checkExposure({ kind: 'tcp', host: '0.0.0.0', port: 9310 }, false)).toThrow(expect.objectContaining({ code: 'E_LISTEN_NON_LOOPBACK', message: expect.stringMatching(/0\.0\.0\.0:9310.*allowNonLoopback/s) }));
    expect(() => checkExposure({ kind: 'tcp', host: '0.0.0.0', port: 9310 }, true)).not.toThrow();
  });
});

describe('startServer', () => {
  it('refuses 0.0.0.0 unless allowNonLoopback, and serves it when allowed', async () => {
    const err = await startError(startServer({ address: '0.0.0.0:0', hub: newHub() }));
    expect(err.code).toBe('E_LISTEN_NON_LOOPBACK');
    const server = await startServer({ address: '0.0.0.0:0', allowNonLoopback: true, hub: newHub() });
    try {
      const r = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(r.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('reports a port in use with E_LISTEN_IN_USE naming the address and how to change it', async () => {
    const first = await startServer({ address: '127.0.0.1:0', hub: newHub() });
    try {
      const err = await startError(startServer({ address: `127.0.0.1:${first.port}`, hub: newHub() }));
      expect(err.code).toBe('E_LISTEN_IN_USE');
      expect(err.message).toContain(`127.0.0.1:${first.port}`);
      expect(err.message).toContain('--address');
      // The first server is unaffected.
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.close();
    }
  });

  it('reports an address this host does not have with E_LISTEN_UNAVAILABLE', async () => {
    const err = await startError(startServer({ address: '192.0.2.1:0', allowNonLoopback: true, hub: newHub() }));
    expect(err.code).toBe('E_LISTEN_UNAVAILABLE');
    expect(err.message).toContain('192.0.2.1:0');
  });
});

describe('startServer on a unix socket', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'daqs-sock-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves on the socket, replaces a stale socket file, and refuses one a live daqs holds', async () => {
    const path = join(dir, 'status.sock');
    // A socket file nobody listens on, as a daemon killed with SIGKILL leaves it.
    const child = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    expect(child.status).toBe(0);
    expect(lstatSync(path).isSocket()).toBe(true);
    const server = await startServer({ address: path, hub: newHub() });
    try {
      expect(server.url).toBe(`unix:${path}`);
      expect(server.socketPath).toBe(path);
      const body = await new Promise<string>((resolve, reject) => {
        httpGet({ socketPath: path, path: '/healthz' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(JSON.parse(body)).toMatchObject({ ok: true });
      const err = await startError(startServer({ address: path, hub: newHub() }));
      expect(err.code).toBe('E_LISTEN_IN_USE');
      expect(err.message).toContain(`unix:${path}`);
    } finally {
      await server.close();
    }
  });

  it('never deletes a regular file at the socket path', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'precious');
    const err = await startError(startServer({ address: path, hub: newHub() }));
    expect(err.code).toBe('E_LISTEN_IN_USE');
    expect(err.message).toContain('not a socket');
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });
});

describe('the JSON API', () => {
  const hub = newHub();
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.9e9, vms: paperLikeVms(3, 20) });
  let server: RunningServer;

  beforeAll(async () => {
    hub.setInfo({ configPath: '/etc/daqs/daqs.yaml', portName: 'emulated', tickPeriodMs: 200 });
    server = await startServer({ address: '127.0.0.1:0', hub });
  });
  afterAll(async () => {
    await server.close();
  });

  it('/api/status says there is no tick yet, then carries the latest TickReport and the info', async () => {
    const before = (await (await fetch(`${server.url}/api/status`)).json()) as StatusSnapshot;
    expect(before.latest).toBeNull();
    expect(before.lastTickAgeMs).toBeNull();
    feed(hub, host, 30);
    const r = await fetch(`${server.url}/api/status`);
    expect(r.headers.get('content-type')).toContain('application/json');
    const s = (await r.json()) as StatusSnapshot & { server: { url: string } };
    expect(s.latest?.tick).toBe(29);
    expect(s.latest?.vms.map((v) => v.id)).toEqual(['vm-guar', 'vm-be1', 'vm-be2']);
    expect(s.info).toMatchObject({ configPath: '/etc/daqs/daqs.yaml', portName: 'emulated', policy: 'daqs', pid: process.pid });
    expect(s.ticksPublished).toBe(30);
    expect(s.server.url).toBe(server.url);
  });

  it('/api/history returns points folded per second with every VM', async () => {
    const h = (await (await fetch(`${server.url}/api/history`)).json()) as { resolutionMs: number; lastSeq: number; points: { ticks: number; vms: Record<string, unknown> }[] };
    expect(h.resolutionMs).toBe(1000);
    // 30 ticks of 200 ms: 6 seconds, the last one still open.
    expect(h.points.length).toBeGreaterThanOrEqual(5);
    expect(h.points.length).toBeLessThanOrEqual(6);
    expect(h.lastSeq).toBe(h.points.length);
    for (const p of h.points.slice(1)) expect(p.ticks).toBe(5);
    expect(Object.keys(h.points.at(-1)!.vms).sort()).toEqual(['vm-be1', 'vm-be2', 'vm-guar']);
  });

  it('/api/events returns the events with sequence numbers', async () => {
    const e = (await (await fetch(`${server.url}/api/events`)).json()) as { lastSeq: number; events: { seq: number; kind: string; vm?: string }[] };
    expect(e.events.filter((x) => x.kind === 'vm-appeared').map((x) => x.vm)).toEqual(['vm-guar', 'vm-be1', 'vm-be2']);
    expect(e.events.map((x) => x.seq)).toEqual(e.events.map((_, i) => i + 1));
    expect(e.lastSeq).toBe(e.events.length);
  });

  it('serves the page and its assets, offline', async () => {
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toContain('<script src="/assets/app.js">');
    expect(page).not.toMatch(/https?:\/\//);
    for (const path of ['/assets/app.js', '/assets/app.css', '/assets/vendor/uPlot.iife.min.js', '/assets/vendor/uPlot.min.css', '/assets/favicon.svg']) {
      const r = await fetch(`${server.url}${path}`);
      expect(r.status, path).toBe(200);
      expect((await r.text()).length, path).toBeGreaterThan(100);
    }
  });

  it('answers unknown paths with 404 and writes with 405, as JSON with a code', async () => {
    const nf = await fetch(`${server.url}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ code: 'E_NOT_FOUND' });
    const head = await fetch(`${server.url}/api/events/stream`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(server.viewers()).toEqual([]);
    const post = await fetch(`${server.url}/api/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ code: 'E_METHOD' });
  });
});
