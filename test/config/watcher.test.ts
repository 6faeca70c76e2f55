import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CapacityDeps } from '../../src/config/capacity.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig, type LoadedConfig } from '../../src/config/load.ts';
import { ConfigWatcher, type ReloadTrigger } from '../../src/config/watcher.ts';

const deps: CapacityDeps = { linkSpeedBps: () => Promise.resolve(40e9), testbedCapacityBps: () => Promise.resolve(2e9) };
const good = (g: string) => stringify({ port: { interface: 'eth0', capacity: '40gbit' }, vms: { web1: { guarantee: g } } });
const BAD = stringify({ port: { interface: 'eth0', capacity: '40gbit' }, vms: { web1: { guarantee: '10gbitt' } } });

let dir: string;
let path: string;
let watcher: ConfigWatcher | undefined;
let reloaded: { next: LoadedConfig; trigger: ReloadTrigger }[];
let rejected: { error: Error; trigger: ReloadTrigger }[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daqs-watch-'));
  path = join(dir, 'daqs.yaml');
  reloaded = [];
  rejected = [];
});
afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function open(watchFile: boolean, debounceMs = 100): Promise<ConfigWatcher> {
  watcher = await ConfigWatcher.open({
    path,
    watchFile,
    debounceMs,
    load: (p) => loadConfig(p, deps),
    onReload: (next, _prev, trigger) => reloaded.push({ next, trigger }),
    onReject: (error, trigger) => rejected.push({ error, trigger }),
  });
  return watcher;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const guaranteeOf = (c: LoadedConfig) => c.config.vms.web1?.guaranteeBps;

describe('ConfigWatcher', () => {
  it('refuses to start on a bad file', async () => {
    await writeFile(path, BAD);
    await expect(open(false)).rejects.toBeInstanceOf(ConfigError);
  });

  it('SIGHUP reload: good, then bad (refused, old stays), then good again', async () => {
    await writeFile(path, good('10gbit'));
    const w = await open(false);
    expect(guaranteeOf(w.current)).toBe(10e9);

    await writeFile(path, BAD);
    const r1 = await w.reload('sighup');
    expect(r1.status).toBe('rejected');
    expect(r1.status === 'rejected' && r1.error.message).toContain('vms.web1.guarantee: "10gbitt" is not a rate');
    expect(guaranteeOf(w.current)).toBe(10e9);
    expect(rejected.map((r) => r.trigger)).toEqual(['sighup']);

    await writeFile(path, good('12gbit'));
    const r2 = await w.reload('sighup');
    expect(r2.status).toBe('applied');
    expect(guaranteeOf(w.current)).toBe(12e9);
    expect(reloaded.map((r) => [r.trigger, guaranteeOf(r.next)])).toEqual([['sighup', 12e9]]);

    expect((await w.reload('sighup')).status).toBe('unchanged');
    expect(reloaded).toHaveLength(1);
  });

  it('file change reload: good, then bad, then good, each noticed without a signal', async () => {
    await writeFile(path, good('10gbit'));
    const w = await open(true);

    await writeFile(path, BAD);
    await until(() => rejected.length === 1, 'the bad file to be refused');
    expect(rejected[0]?.trigger).toBe('file-change');
    expect(guaranteeOf(w.current)).toBe(10e9);

    await writeFile(path, good('15gbit'));
    await until(() => reloaded.length === 1, 'the good file to be delivered');
    expect(guaranteeOf(w.current)).toBe(15e9);
    expect(reloaded[0]?.trigger).toBe('file-change');
    expect(rejected).toHaveLength(1);
  });

  it('follows an editor that writes a new file and renames it over the old one', async () => {
    await writeFile(path, good('10gbit'));
    const w = await open(true);
    for (const g of ['11gbit', '13gbit']) {
      const tmp = join(dir, '.daqs.yaml.swp');
      await writeFile(tmp, good(g));
      await rename(tmp, path);
      await until(() => guaranteeOf(w.current) === Number.parseInt(g, 10) * 1e9, `rename-replace to ${g}`);
    }
    expect(reloaded.map((r) => guaranteeOf(r.next))).toEqual([11e9, 13e9]);
  });

  it('ignores other files in the directory', async () => {
    await writeFile(path, good('10gbit'));
    await open(true);
    await writeFile(join(dir, 'other.yaml'), BAD);
    await new Promise((r) => setTimeout(r, 300));
    expect(rejected).toEqual([]);
    expect(reloaded).toEqual([]);
  });

  it('delivers a burst of writes once, after the last', async () => {
    await writeFile(path, good('10gbit'));
    // A long quiet time, so a loaded machine cannot spread the writes past it.
    const w = await open(true, 500);
    for (const g of ['1gbit', '2gbit', '3gbit']) await writeFile(path, good(g));
    await until(() => guaranteeOf(w.current) === 3e9, 'the last write');
    await new Promise((r) => setTimeout(r, 600));
    expect(reloaded.map((r) => guaranteeOf(r.next))).toEqual([3e9]);
  });
});
