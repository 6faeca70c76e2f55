import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, renderStatus, staleWarning, type StatusIo } from '../../src/cli/commands/status.ts';
import { UsageError } from '../../src/cli/define.ts';
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer, type RunningServer } from '../../src/server/http.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { fetchStatus, StatusClientError } from '../../src/server/status-client.ts';
import { feed } from './helpers.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

function collect(): StatusIo & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (t) => out.push(t), err: (t) => err.push(t), outText: () => out.join('\n'), errText: () => err.join('\n') };
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('daqs status', () => {
  const hub = new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) });
  const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.9e9, vms: paperLikeVms(4, 20) });
  let server: RunningServer;
  let address: string;

  beforeAll(async () => {
    hub.setInfo({ configPath: '/etc/daqs/daqs.yaml', portName: 'ens1f0', tickPeriodMs: 200 });
    server = await startServer({ address: '127.0.0.1:0', hub });
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('says when the loop has not ticked yet', async () => {
    const io = collect();
    expect(await run(['--address', address], io)).toBe(0);
    expect(io.outText()).toContain('no tick yet');
  });

  it('prints one row per VM with role, guarantee and its source, rate, demand, cap and met, and the port', async () => {
    feed(hub, host, 80);
    host.setAgentFailing('vm-be2', true);
    feed(hub, host, 1);
    const io = collect();
    expect(await run(['--address', address], io)).toBe(0);
    const text = io.outText();
    const lines = text.split('\n');
    expect(text).toContain('config /etc/daqs/daqs.yaml');
    expect(text).toMatch(/port ens1f0: used [0-9.]+[mg]bit \(\d+% of learned\), learned capacity 1\.9gbit, nominal 2gbit/);
    const header = lines.find((l) => l.startsWith('VM '))!;
    expect(header.split(/\s{2,}/)).toEqual(['VM', 'ROLE', 'GUARANTEE', 'MAX', 'RATE', 'DEMAND', 'CAP', 'MET', 'AGENT']);
    const row = (id: string): string[] => lines.find((l) => l.startsWith(`${id} `))!.split(/\s{2,}/);
    const latest = hub.latestTick()!;
    const guar = latest.vms.find((v) => v.id === 'vm-guar')!;
    expect(row('vm-guar').slice(0, 4)).toEqual(['vm-guar', 'guarantee', '800mbit (config)', '-']);
    expect(row('vm-guar')[7]).toBe(guar.guaranteeMet ? 'yes' : 'NO');
    expect(row('vm-be1').slice(0, 2)).toEqual(['vm-be1', 'best-effort']);
    expect(row('vm-be1')[2]).toBe('- (default)');
    expect(row('vm-be3')[3]).toBe('600mbit (libvirt-metadata)');
    expect(row('vm-be2')[4]).toBe('-'); // no sample: its agent failed
    expect(row('vm-be2').at(-1)).toContain('E_AGENT_TIMEOUT');
    // Guarantee VMs first.
    expect(lines.findIndex((l) => l.startsWith('vm-guar '))).toBeLessThan(lines.findIndex((l) => l.startsWith('vm-be1 ')));
    expect(io.errText()).toBe('');
  });

  it('--config finds the daemon at daemon.status of its config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daqs-status-'));
    try {
      const file = join(dir, 'daqs.yaml');
      await writeFile(file, `port:\n  interface: eth0\n  capacity: 2gbit\ndaemon:\n  status: ${address}\n`);
      const io = collect();
      expect(await run(['--config', file], io)).toBe(0);
      expect(io.outText()).toContain('config /etc/daqs/daqs.yaml');
      await expect(run(['--config', file, '--address', address], collect())).rejects.toThrow(/give one/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says "idle" for a Guarantee VM that sends almost nothing, and how the inventory is doing', async () => {
    host.addVm({ id: 'vm-idle', guaranteeBps: 400e6, demandBps: () => 1e6 });
    feed(hub, host, 2);
    hub.setInventory({ vms: { 'ready': 4, 'not-ready': 1, 'no-agent': 0, 'lookup-failed': 0, 'ignored': 0 }, lastRefreshEpochMs: Date.now() - 3000, refreshFailures: 2 });
    const io = collect();
    expect(await run(['--address', address], io)).toBe(0);
    const lines = io.outText().split('\n');
    const idle = lines.find((l) => l.startsWith('vm-idle '))!.split(/\s{2,}/);
    expect(idle[1]).toBe('guarantee');
    expect(idle[7]).toBe('idle');
    expect(lines).toContainEqual(expect.stringMatching(/^inventory: 4 ready, 1 not-ready · listed [0-9.]+ ?s ago · 2 failed lookups$/));
    host.removeVm('vm-idle');
    feed(hub, host, 1);
  });

  it('--json prints the daemon\'s JSON', async () => {
    const io = collect();
    expect(await run(['--json', '--address', address], io)).toBe(0);
    const parsed = JSON.parse(io.outText()) as { latest: { tick: number; vms: unknown[] } };
    expect(parsed.latest.tick).toBe(hub.latestTick()!.tick);
    expect(parsed.latest.vms).toHaveLength(4);
  });

  it('names the address and how to start a daemon when none answers', async () => {
    const gone = await startServer({ address: '127.0.0.1:0', hub: new ObservationHub({ metrics: new DaqsMetrics({ processMetrics: false }) }) });
    const port = gone.port;
    await gone.close();
    const err = await rejection(run(['--address', `127.0.0.1:${port}`], collect()));
    expect(err).toBeInstanceOf(StatusClientError);
    expect(err.code).toBe('E_NO_DAEMON');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('daqs run --config');
    const sock = await rejection(fetchStatus('/nonexistent/daqs.sock'));
    expect(sock.code).toBe('E_NO_DAEMON');
    expect(sock.message).toContain('unix:/nonexistent/daqs.sock');
  });

  it('says when something else answers', async () => {
    const other = createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const { port } = other.address() as { port: number };
      const err = await rejection(fetchStatus(`127.0.0.1:${port}`));
      expect(err.code).toBe('E_NOT_DAQS');
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it.each([[['--bogus']], [['--address', 'nonsense']], [['--timeout-ms', '0']], [['extra']]])('refuses %j with a usage error', async (args) => {
    await expect(run(args, collect())).rejects.toBeInstanceOf(UsageError);
  });

  it('warns when the loop has stopped ticking', () => {
    const s = { ...hub.status(), lastTickAgeMs: 300_000 };
    expect(staleWarning(s)).toContain('5m 0s ago');
    expect(staleWarning({ ...s, lastTickAgeMs: 300 })).toBeNull();
    expect(renderStatus(s)).toContain('5m 0s ago');
  });
});
