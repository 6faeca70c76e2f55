import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLinkBytes, parseProcNetDev } from '../../src/testbed/counters.ts';
import { TestbedError } from '../../src/testbed/errors.ts';
import { checkRoot, findBinaries } from '../../src/testbed/preflight.ts';
import { portProgram, sizeShaper, vfLimitChangeProgram, vfLimiterProgram } from '../../src/testbed/shaping.ts';
import { iperfClientArgv } from '../../src/testbed/traffic.ts';

describe('bigint-safe counters', () => {
  it('keeps every digit of counters beyond 2^53', () => {
    const json = JSON.stringify([
      { ifindex: 3, ifname: 'vf0', stats64: { rx: { bytes: 0, packets: 0 }, tx: { bytes: 5, packets: 1 } } },
      { ifindex: 4, ifname: 'vf1', stats64: { rx: { bytes: 0, packets: 0 }, tx: { bytes: 0, packets: 0 } } },
    ]).replace('"rx":{"bytes":0', '"rx":{"bytes":9007199254740993');
    const links = parseLinkBytes(json);
    expect(links.get('vf0')).toEqual({ rxBytes: 9007199254740993n, txBytes: 5n });
    expect(links.get('vf1')).toEqual({ rxBytes: 0n, txBytes: 0n });
  });

  it('reads /proc/net/dev receive and transmit bytes as bigints', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
      '   vf0: 18446744073709551615 7 0 0 0 0 0 0 42 3 0 0 0 0 0 0',
      '   up0: 100 2 0 0 0 0 0 0 9007199254740993 5 0 0 0 0 0 0',
    ].join('\n');
    const links = parseProcNetDev(text);
    expect(links.get('vf0')).toEqual({ rxBytes: 18446744073709551615n, txBytes: 42n });
    expect(links.get('up0')).toEqual({ rxBytes: 100n, txBytes: 9007199254740993n });
    expect(links.has('face')).toBe(false);
  });

  it('refuses output that is not JSON with a stable code', () => {
    expect(() => parseLinkBytes('3: vf0: <BROADCAST>')).toThrow(TestbedError);
  });
});

describe('shaper sizing', () => {
  it.each([
    [2e9, 500_000, 2_500_000],
    [40e9, 10_000_000, 50_000_000],
    [100e6, 131_072, 524_288], // floors: two GSO skbs of burst, eight of queue
  ] as const)('%d bit/s -> burst %d B, queue %d B', (rateBps, burstBytes, queueBytes) => {
    expect(sizeShaper(rateBps)).toMatchObject({ burstBytes, queueBytes });
  });
});

describe('port program', () => {
  it('without classes sends everything through one class at capacity', () => {
    const prog = portProgram(2e9, 4, null).map((a) => a.join(' '));
    expect(prog).toContain('class add dev up0 parent 1: classid 1:1 htb rate 2000000000bit ceil 2000000000bit burst 500000 cburst 500000 quantum 65536');
    expect(prog.some((l) => l.includes('classid 1:2 htb rate 2000000000bit ceil 2000000000bit'))).toBe(true);
    expect(prog.some((l) => l.startsWith('filter'))).toBe(false);
  });

  it('with classes gives each listed VF its rate with ceil = capacity and the rest to the leftover class', () => {
    const prog = portProgram(2e9, 4, [{ vmIndex: 0, rateBps: 5e8 }, { vmIndex: 3, rateBps: 1e9 }]).map((a) => a.join(' '));
    expect(prog).toContain('class add dev up0 parent 1:1 classid 1:100 htb rate 500000000bit ceil 2000000000bit burst 500000 cburst 500000 quantum 65536');
    expect(prog).toContain('filter add dev up0 parent 1: protocol ip prio 1 u32 match ip src 10.77.0.4/32 flowid 1:103');
    expect(prog.some((l) => l.includes('classid 1:2 htb rate 500000000bit ceil 2000000000bit'))).toBe(true);
  });

  it.each([
    [[{ vmIndex: 4, rateBps: 1e6 }], 'E_TESTBED_VM_INDEX'],
    [[{ vmIndex: 0, rateBps: 0 }], 'E_TESTBED_RATE'],
    [[{ vmIndex: 0, rateBps: 1e9 }, { vmIndex: 0, rateBps: 1e6 }], 'E_TESTBED_RATE'],
    [[{ vmIndex: 0, rateBps: 1.5e9 }, { vmIndex: 1, rateBps: 1e9 }], 'E_TESTBED_RATE'],
  ] as const)('refuses classes %j', (classes, code) => {
    expect(() => portProgram(2e9, 4, classes)).toThrow(expect.objectContaining({ code }));
  });
});

describe('VF limiter program', () => {
  it('redirects all of the VF ingress to its IFB and shapes there at the cap', () => {
    const prog = vfLimiterProgram(7, 3e8).map((a) => a.join(' '));
    expect(prog).toContain('class add dev ifb7 parent 1: classid 1:1 htb rate 300000000bit ceil 300000000bit burst 131072 cburst 131072 quantum 65536');
    expect(prog).toContain('filter add dev vf7 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb7');
  });

  it('changes an installed cap in place, queue resized with it', () => {
    expect(vfLimitChangeProgram(7, 2e9).map((a) => a.join(' '))).toEqual([
      'class change dev ifb7 parent 1: classid 1:1 htb rate 2000000000bit ceil 2000000000bit burst 500000 cburst 500000 quantum 65536',
      'qdisc change dev ifb7 parent 1:1 handle 2: bfifo limit 2500000',
    ]);
  });
});

describe('iperf client argv', () => {
  it.each([
    [{ threads: 1 }, ['iperf', '-c', '10.77.0.254', '-p', '5001', '-P', '1', '-t', '86400']],
    [{ threads: 5, durationS: 3 }, ['iperf', '-c', '10.77.0.254', '-p', '5001', '-P', '5', '-t', '3']],
    [{ threads: 2, perThreadRateBps: 9.25e8 }, ['iperf', '-c', '10.77.0.254', '-p', '5001', '-P', '2', '-t', '86400', '-b', '925000000']],
  ] as const)('%j', (opts, argv) => {
    expect(iperfClientArgv('iperf', '10.77.0.254', opts)).toEqual(argv);
  });

  it.each([{ threads: 0 }, { threads: 1.5 }, { threads: 1, durationS: 0 }, { threads: 1, perThreadRateBps: -1 }])('refuses %j', (opts) => {
    expect(() => iperfClientArgv('iperf', '10.77.0.254', opts)).toThrow(expect.objectContaining({ code: 'E_TESTBED_RATE' }));
  });
});

describe('preflight', () => {
  it.each([[1000], [65534]])('refuses uid %s with a message saying to run as root', (uid) => {
    expect(() => checkRoot(uid)).toThrow(expect.objectContaining({ code: 'E_TESTBED_NOT_ROOT', message: expect.stringMatching(/needs root.*sudo/) }));
  });

  it('accepts root', () => {
    expect(() => checkRoot(0)).not.toThrow();
  });

  it('names every missing program and its Debian package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-bins-'));
    try {
      writeFileSync(join(dir, 'ip'), '#!/bin/true\n', { mode: 0o755 });
      writeFileSync(join(dir, 'tc'), '#!/bin/true\n', { mode: 0o755 });
      expect(() => findBinaries(dir)).toThrow(expect.objectContaining({
        code: 'E_TESTBED_MISSING_BINARY',
        message: expect.stringMatching(/qemu-ga \(Debian package qemu-guest-agent\), iperf \(Debian package iperf\)/),
      }));
      writeFileSync(join(dir, 'qemu-ga'), '#!/bin/true\n', { mode: 0o755 });
      writeFileSync(join(dir, 'iperf'), '#!/bin/true\n', { mode: 0o755 });
      expect(findBinaries(dir)).toEqual({ ip: join(dir, 'ip'), tc: join(dir, 'tc'), 'qemu-ga': join(dir, 'qemu-ga'), iperf: join(dir, 'iperf') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
