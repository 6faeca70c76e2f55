import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CapacityDeps } from '../../src/config/capacity.ts';
import type { ConfigError } from '../../src/config/errors.ts';
import { LinkSpeedError, readLinkSpeedBps } from '../../src/config/link-speed.ts';
import { loadConfig } from '../../src/config/load.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daqs-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeSysfs(iface: string, speed: string): Promise<string> {
  const net = join(dir, 'sys-class-net');
  await mkdir(join(net, iface), { recursive: true });
  await writeFile(join(net, iface, 'speed'), speed);
  return net;
}

describe('readLinkSpeedBps (sysfs speed is Mbit/s)', () => {
  it.each([
    ['40000\n', 40e9],
    ['10000', 10e9],
    ['100', 100e6],
  ])('speed %j -> %d bit/s', async (speed, bps) => {
    expect(await readLinkSpeedBps('enp1', await fakeSysfs('enp1', speed))).toBe(bps);
  });

  it.each([['-1\n'], ['0'], ['4294967295'], ['fast']])('refuses unknown speed %j and says to set port.capacity', async (speed) => {
    const err = await readLinkSpeedBps('enp1', await fakeSysfs('enp1', speed)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkSpeedError);
    expect((err as LinkSpeedError).code).toBe('E_LINK_SPEED_UNKNOWN');
    expect((err as Error).message).toMatch(/enp1.*set port\.capacity/);
  });

  it('names a missing interface', async () => {
    await expect(readLinkSpeedBps('nope0', await fakeSysfs('enp1', '1000'))).rejects.toThrow(/nope0: no such interface/);
  });

  it('refuses a name that would leave the sysfs directory', async () => {
    await expect(readLinkSpeedBps('../etc', dir)).rejects.toThrow(/not a valid interface name/);
  });
});

describe('loadConfig', () => {
  const deps = (linkBps: number, testbedBps = 2e9): CapacityDeps => ({
    linkSpeedBps: () => Promise.resolve(linkBps),
    testbedCapacityBps: () => Promise.resolve(testbedBps),
  });

  async function write(obj: unknown): Promise<string> {
    const path = join(dir, 'daqs.yaml');
    await writeFile(path, stringify(obj));
    return path;
  }

  it('reads the capacity from the link speed when the file gives none', async () => {
    const net = await fakeSysfs('enp65s0f0', '25000\n');
    const path = await write({ port: { interface: 'enp65s0f0' }, vms: { a: { guarantee: '10gbit' } } });
    const loaded = await loadConfig(path, { linkSpeedBps: (i) => readLinkSpeedBps(i, net), testbedCapacityBps: () => Promise.reject(new Error('unused')) });
    expect(loaded.capacity).toEqual({ capacityBps: 25e9, source: 'link-speed' });
    expect(loaded.config.vms.a?.guaranteeBps).toBe(10e9);
  });

  it('prefers the configured capacity', async () => {
    const path = await write({ port: { interface: 'eth0', capacity: '40gbit' } });
    expect((await loadConfig(path, deps(1e9))).capacity).toEqual({ capacityBps: 40e9, source: 'config' });
  });

  it('takes the testbed port rate for a testbed', async () => {
    const path = await write({ port: { testbed: 'tb' } });
    expect((await loadConfig(path, deps(0, 2e9))).capacity).toEqual({ capacityBps: 2e9, source: 'testbed' });
  });

  it('runs admission control against the link speed, naming where the number came from', async () => {
    const net = await fakeSysfs('eth0', '10000');
    const path = await write({ port: { interface: 'eth0' }, vms: { a: { guarantee: '8gbit' }, b: { guarantee: '4gbit' } } });
    const err = await loadConfig(path, { linkSpeedBps: (i) => readLinkSpeedBps(i, net), testbedCapacityBps: () => Promise.resolve(0) }).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('E_CONFIG_ADMISSION');
    expect((err as Error).message).toContain('guarantees add up to 12gbit (a 8gbit + b 4gbit), more than the port capacity 10gbit by 2gbit');
    expect((err as Error).message).toContain('the link speed of eth0, 10gbit, is used');
  });

  it('refuses a port whose speed cannot be read, saying to set capacity', async () => {
    const net = await fakeSysfs('eth0', '-1');
    const path = await write({ port: { interface: 'eth0' } });
    const err = await loadConfig(path, { linkSpeedBps: (i) => readLinkSpeedBps(i, net), testbedCapacityBps: () => Promise.resolve(0) }).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('E_CAPACITY_UNKNOWN');
    expect((err as Error).message).toMatch(/port\.capacity: is not set and cannot read the link speed of eth0/);
  });

  it('names a missing file', async () => {
    const err = await loadConfig(join(dir, 'missing.yaml'), deps(1e9)).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('E_CONFIG_READ');
    expect((err as Error).message).toMatch(/missing\.yaml.*does not exist/s);
  });
});
