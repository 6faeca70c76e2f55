import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';

describe('rates in the file are parsed with tc units into bits/s', () => {
  it.each([
    ['10gbit', 10e9],
    ['500mbit', 500e6],
    ['1.5G', 1.5e9],
    ['125mbps', 1e9], // tc: bps is BYTES per second
    ['2Gbit', 2e9],
    [250_000_000, 250e6],
    ['0', 0],
  ] as const)('guarantee %j -> %d bit/s', (written, bps) => {
    const c = parseConfigText(stringify({ port: { interface: 'eth0', capacity: '100gbit' }, vms: { a: { guarantee: written } } }));
    expect(c.vms.a?.guaranteeBps).toBe(bps);
  });

  it.each([
    ['40gbit', 40e9],
    ['5000mbps', 40e9],
    [1e10, 1e10],
  ] as const)('capacity %j -> %d bit/s', (written, bps) => {
    expect(parseConfigText(stringify({ port: { interface: 'eth0', capacity: written } })).port.capacityBps).toBe(bps);
  });
});
