/**
 * A configuration reload applies every key that can change while daqs runs and names the ones
 * that need a restart: the rules cover every key of the schema, each key's change is seen, and
 * a running daemon (over the simulator's VMs, no root needed) really applies the live ones.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { completeConfig, configJsonSchema, parseConfigText, type LoadedConfig } from '../../src/config/index.ts';
import type { DaemonEvent } from '../../src/core/types.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { diffConfig, RELOAD_RULES } from '../../src/daemon/reload.ts';
import type { DiscoveredVm, InventorySource } from '../../src/inventory/index.ts';
import { SimHost } from '../../src/sim/index.ts';
import { createLogger, type LogLevel } from '../../src/util/log.ts';

const deps = { linkSpeedBps: () => Promise.resolve(10e9), testbedCapacityBps: () => Promise.resolve(2e9) };

function loaded(text: string): Promise<LoadedConfig> {
  return completeConfig(parseConfigText(text, 'daqs.yaml'), 'daqs.yaml', text, deps);
}

/** Every key the file can hold, from the JSON Schema the config schema generates. */
function schemaKeys(node: Record<string, unknown>, path: string[] = []): string[] {
  const props = node.properties as Record<string, Record<string, unknown>> | undefined;
  if (!props) return [path.join('.')];
  return Object.entries(props).flatMap(([k, v]) => schemaKeys(v, [...path, k]));
}

const BASE = `
port:
  interface: eth9
  capacity: 10gbit
  tickMs: 200
policy: daqs
vms:
  web1:
    guarantee: 1gbit
inventory:
  source: libvirt
  pollMs: 5000
  libvirt:
    uri: qemu:///system
daemon:
  onStart: adopt
  onStop: lift
  status: 127.0.0.1:9310
  metrics:
    listen: 127.0.0.1:9311
    allowNonLoopback: false
  logLevel: info
agent:
  timeoutMs: 150
`;

describe('reload rules', () => {
  it('cover every key of the configuration schema', () => {
    const covered = (key: string): boolean => RELOAD_RULES.some((r) => key === r.key || key.startsWith(`${r.key}.`));
    const keys = schemaKeys(configJsonSchema());
    expect(keys.length).toBeGreaterThan(15);
    expect(keys.filter((k) => !covered(k))).toEqual([]);
    // And no rule for a key that does not exist.
    expect(RELOAD_RULES.map((r) => r.key).filter((k) => !keys.some((s) => s === k || s.startsWith(`${k}.`)))).toEqual([]);
  });

  // Each edit changes one key of BASE; the diff must name exactly that key.
  it.each([
    ['port.interface', ['interface: eth9', 'interface: eth7']],
    ['port.capacity', ['capacity: 10gbit', 'capacity: 8gbit']],
    ['port.tickMs', ['tickMs: 200', 'tickMs: 100']],
    ['policy', ['policy: daqs', 'policy: fair']],
    ['vms', ['guarantee: 1gbit', 'guarantee: 2gbit']],
    ['inventory.source', ['source: libvirt', 'source: static\n  static:\n    - name: web1\n      socket: /run/web1.sock']],
    ['inventory.pollMs', ['pollMs: 5000', 'pollMs: 1000']],
    ['inventory.libvirt.uri', ['uri: qemu:///system', 'uri: qemu+ssh://h/system']],
    ['daemon.onStart', ['onStart: adopt', 'onStart: reset']],
    ['daemon.onStop', ['onStop: lift', 'onStop: keep']],
    ['daemon.status', ['status: 127.0.0.1:9310', 'status: /run/daqs/status.sock']],
    ['daemon.metrics.listen', ['listen: 127.0.0.1:9311', 'listen: 127.0.0.1:9400']],
    ['daemon.logLevel', ['logLevel: info', 'logLevel: debug']],
    ['agent.timeoutMs', ['timeoutMs: 150', 'timeoutMs: 300']],
  ])('sees a change of %s', async (key, [from, to]) => {
    expect(BASE).toContain(from);
    const changes = diffConfig(await loaded(BASE), await loaded(BASE.replace(from!, to!)));
    // A static source also brings its entries: that is a second key, as in the file.
    expect(changes.map((c) => c.key)).toEqual(key === 'inventory.source' ? ['inventory.source', 'inventory.static'] : [key]);
  });

  it('are the ones docs/operations.md lists, with the same effect', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Reload: what changes at once'));
    const rows = [...section.matchAll(/^\| `([a-zA-Z.]+)` \| (live|restart) \|/gm)].map((m) => ({ key: m[1], effect: m[2] }));
    expect(rows).toEqual(RELOAD_RULES.map((r) => ({ key: r.key, effect: r.effect })));
  });

  it('sees nothing when only comments and spacing change', async () => {
    expect(diffConfig(await loaded(BASE), await loaded(`# edited\n${BASE}\n\n`))).toEqual([]);
  });

  it('sees a new link speed as a capacity change although the file did not change', async () => {
    const text = BASE.replace('  capacity: 10gbit\n', '');
    const before = await completeConfig(parseConfigText(text), 'daqs.yaml', text, deps);
    const after = await completeConfig(parseConfigText(text), 'daqs.yaml', text, { ...deps, linkSpeedBps: () => Promise.resolve(25e9) });
    expect(diffConfig(before, after)).toEqual([{ key: 'port.capacity', effect: 'live' }]);
  });
});

describe('a running daemon reloads', () => {
  let dir = '';
  let daemon: Daemon | null = null;

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function startDaemon(text: string, logLevelOverride?: LogLevel) {
    dir = await mkdtemp(join(tmpdir(), 'daqs-reload-'));
    const path = join(dir, 'daqs.yaml');
    await writeFile(path, text);
    const host = new SimHost({ capacityBps: 1e9, applyDelayMs: 0 });
    host.addVm('g', { flows: 1 });
    host.addVm('be', { flows: 1 });
    const vm = (id: string): DiscoveredVm => ({ id, origin: 'static', agent: { kind: 'unix', socket: `/nonexistent/${id}.sock` }, status: { state: 'ready' }, vfCandidates: [], metadata: null, problems: [] });
    const source: InventorySource = { name: 'static', discover: () => Promise.resolve([vm('g'), vm('be')]) };
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const logger = createLogger({ level: logLevelOverride ?? 'info', destination: out, pretty: false, journal: false });
    daemon = await Daemon.start({
      configPath: path,
      logger,
      load: (p) => import('../../src/config/index.ts').then((m) => m.loadConfig(p, deps)),
      source,
      createEndpoint: (v) => host.endpoint(v.id),
      listen: '127.0.0.1:0',
      watchFile: false,
      ...(logLevelOverride ? { logLevelOverride } : {}),
    });
    const events: DaemonEvent[] = [];
    const d = daemon;
    const nextTick = async () => {
      const seen = d.hub.status().ticksPublished;
      while (d.hub.status().ticksPublished <= seen + 1) await new Promise((r) => setTimeout(r, 20));
      return d.hub.latestTick()!;
    };
    const lines = () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: string; msg: string; applied?: string[]; restartNeeded?: string[] });
    const reload = async (next: string) => {
      await writeFile(path, next);
      const before = d.hub.eventsSince(0).items.length;
      await d.reload();
      events.push(...d.hub.eventsSince(0).items.slice(before).map((e) => e.item));
    };
    return { d, logger, nextTick, lines, reload, events, host };
  }

  const DAEMON_BASE = `
port:
  testbed: opsrl
  capacity: 1gbit
  tickMs: 100
policy: static
vms:
  g:
    guarantee: 100mbit
inventory:
  source: static
  static:
    - name: g
      socket: /nonexistent/g.sock
  pollMs: 60000
daemon:
  logLevel: info
agent:
  timeoutMs: 150
`;

  it('applies every live key, names the ones that need a restart, and keeps the running values of those', async () => {
    const { d, logger, nextTick, lines, reload, events } = await startDaemon(DAEMON_BASE);
    const url = d.servers[0]!.url;
    const first = await nextTick();
    expect(first.port.nominalCapacityBps).toBe(1e9);
    expect(first.vms.find((v) => v.id === 'be')!.capBps).not.toBeNull(); // static caps Best-Effort VMs

    await reload(DAEMON_BASE
      .replace('capacity: 1gbit', 'capacity: 2gbit')
      .replace('tickMs: 100', 'tickMs: 150')
      .replace('policy: static', 'policy: fair')
      .replace('guarantee: 100mbit', 'guarantee: 200mbit')
      .replace('pollMs: 60000', 'pollMs: 30000\n  libvirt:\n    uri: qemu+ssh://elsewhere/system')
      .replace('daemon:\n', 'daemon:\n  onStop: keep\n  onStart: reset\n  status: 127.0.0.1:9399\n')
      .replace('logLevel: info', 'logLevel: debug')
      .replace('timeoutMs: 150', 'timeoutMs: 300'));

    const live = ['port.capacity', 'port.tickMs', 'policy', 'vms', 'inventory.pollMs', 'daemon.onStart', 'daemon.onStop', 'daemon.logLevel', 'agent.timeoutMs'];
    const restart = ['inventory.libvirt.uri', 'daemon.status'];
    const reloaded = lines().find((l) => l.msg.startsWith('configuration reloaded'))!;
    expect(reloaded).toMatchObject({ level: 'info', applied: live, restartNeeded: restart });
    expect(lines().find((l) => l.level === 'warn' && l.msg.includes('restart'))!.msg).toContain('inventory.libvirt.uri, daemon.status');
    expect(events.map((e) => e.kind)).toEqual(['config-reloaded', 'config-restart-needed']);
    expect(events[0]!.message).toBe(`sighup: applied ${live.join(', ')}`);
    expect(events[1]!.message).toContain('inventory.libvirt.uri, daemon.status');

    // Live keys are in force ...
    const after = await nextTick();
    expect(after.policy).toBe('fair');
    expect(after.port.nominalCapacityBps).toBe(2e9);
    expect(after.vms.find((v) => v.id === 'g')!.sla.guaranteeBps).toBe(200e6);
    expect(d.hub.status().info.tickPeriodMs).toBe(150);
    expect(logger.level).toBe('debug');
    expect(d.config.config.daemon.onStop).toBe('keep');
    // ... restart keys keep their running values: still serving where it started.
    expect(d.servers[0]!.url).toBe(url);
    expect(d.hub.status().config.reloads).toBe(1);
    // onStop: keep now: the caps stay when daqs stops.
    const stopped = await d.stop();
    expect(stopped.lifted).toEqual([]);
  });

  it('a level fixed on the command line wins over daemon.logLevel, and the reload says so', async () => {
    const { logger, lines, reload, events } = await startDaemon(DAEMON_BASE, 'warn');
    await reload(DAEMON_BASE.replace('logLevel: info', 'logLevel: debug'));
    expect(logger.level).toBe('warn');
    expect(events.map((e) => e.kind)).toEqual(['config-reloaded']);
    expect(events[0]!.message).toMatch(/no setting changed; ignored daemon\.logLevel \(the level warn was fixed/);
    // The log line itself is at info: the level in force (warn) hides it, as asked.
    expect(lines().filter((l) => l.msg.startsWith('configuration reloaded'))).toEqual([]);
  });

  it('a reload that changes nothing but comments is reported as such', async () => {
    const { reload, events } = await startDaemon(DAEMON_BASE);
    await reload(`# only a comment\n${DAEMON_BASE}`);
    expect(events.map((e) => [e.kind, e.message])).toEqual([['config-reloaded', 'sighup: no setting changed']]);
  });
});
