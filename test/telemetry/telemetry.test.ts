import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';
import type { JsonValue } from '../../src/util/json.ts';
import { QgaClient } from '../../src/agent/qga-client.ts';
import { normalizeMac, parseGuestInterfaces, pickInterface, type IfaceSelector } from '../../src/telemetry/interfaces.ts';
import { RateEstimator, type RateStatus } from '../../src/telemetry/rate-estimator.ts';
import { AgentTxSource } from '../../src/endpoint/agent-tx-source.ts';
import { RateMeter } from '../../src/telemetry/sources.ts';

const REPLY: JsonValue = [
  { name: 'lo', 'hardware-address': '00:00:00:00:00:00', statistics: { 'tx-bytes': 100, 'rx-bytes': 100 } },
  { name: 'ifb0', 'hardware-address': 'c2:c9:99:a6:b9:3a' },
  { name: 'eth0', 'hardware-address': '02:FC:00:00:00:01', statistics: { 'tx-bytes': 18446744073709551615n, 'rx-bytes': 5, 'tx-packets': 7 } },
  { name: 'eth0.10', 'hardware-address': '02:fc:00:00:00:01', statistics: { 'tx-bytes': 1, 'rx-bytes': 1 } },
  { name: 'br0', 'hardware-address': '02:fc:00:00:00:09', statistics: { 'tx-bytes': 3, 'rx-bytes': 3 } },
  { 'hardware-address': 'no-name' },
];

describe('choosing the VF interface', () => {
  const ifaces = parseGuestInterfaces('vm1', REPLY);

  it('keeps 64-bit counters exact and marks missing statistics', () => {
    expect(ifaces.map((i) => i.name)).toEqual(['lo', 'ifb0', 'eth0', 'eth0.10', 'br0']);
    expect(ifaces[2]?.stats?.txBytes).toBe(18446744073709551615n);
    expect(ifaces[1]?.stats).toBeNull();
  });

  it.each<[IfaceSelector, string]>([
    [{ mac: '02:fc:00:00:00:01', name: 'eth0' }, 'eth0'],
    [{ mac: '02-FC-00-00-00-01', name: 'eth0.10' }, 'eth0.10'],
    [{ mac: '02:fc:00:00:00:09' }, 'br0'],
    [{ name: 'ifb0' }, 'ifb0'],
  ])('%j -> %s', (sel, name) => {
    expect(pickInterface('vm1', ifaces, sel).name).toBe(name);
  });

  it.each<[IfaceSelector, string, RegExp]>([
    [{ mac: '02:fc:00:00:00:01' }, 'E_TELEMETRY_AMBIGUOUS_IFACE', /eth0, eth0.10.*configure the interface name/],
    [{ mac: '02:fc:00:00:00:77' }, 'E_TELEMETRY_NO_IFACE', /no guest interface with MAC 02:fc:00:00:00:77; the guest has: lo .*br0/],
    [{ name: 'eth9' }, 'E_TELEMETRY_NO_IFACE', /name eth9/],
    [{ mac: 'zz' }, 'E_TELEMETRY_SELECTOR', /invalid VF MAC "zz"/],
    [{}, 'E_TELEMETRY_SELECTOR', /configure the VF MAC/],
  ])('%j fails with %s', (sel, code, msg) => {
    expect(() => pickInterface('vm1', ifaces, sel)).toThrow(expect.objectContaining({ code, vm: 'vm1', message: expect.stringMatching(msg) }));
  });

  it.each([['52:54:00:AB:cd:01', '52:54:00:ab:cd:01'], ['525400abcd01', '52:54:00:ab:cd:01'], ['52:54:00', null]])('normalizeMac(%s)', (m, want) => {
    expect(normalizeMac(m)).toBe(want);
  });

  it('rejects a reply that is not a list', () => {
    expect(() => parseGuestInterfaces('vm1', { a: 1 })).toThrow(expect.objectContaining({ code: 'E_TELEMETRY_BAD_REPLY' }));
  });
});

describe('RateEstimator', () => {
  // [txBytes, atMs] sequences and the status/rate each sample yields.
  it.each<[string, [bigint, number][], [RateStatus, number | null][]]>([
    ['steady', [[0n, 0], [125_000n, 1000], [375_000n, 2000]], [['first', null], ['ok', 1e6], ['ok', 2e6]]],
    ['skipped tick: rate over the real interval', [[0n, 0], [500_000n, 400]], [['first', null], ['ok', 1e7]]],
    ['counter reset', [[1000n, 0], [10n, 200], [260n, 400]], [['first', null], ['reset', null], ['ok', 10_000]]],
    ['gap too long', [[0n, 0], [1000n, 6000], [2000n, 7000]], [['first', null], ['gap', null], ['ok', 8000]]],
    ['time not moving', [[0n, 100], [10n, 100], [20n, 200]], [['first', null], ['no-time', null], ['ok', 1600]]],
    ['beyond 2^53', [[2n ** 63n, 0], [2n ** 63n + 1_000_000n, 1000]], [['first', null], ['ok', 8e6]]],
  ])('%s', (_name, samples, want) => {
    const est = new RateEstimator({ maxGapMs: 5000 });
    expect(samples.map(([txBytes, atMs]) => {
      const r = est.update({ txBytes, atMs });
      return [r.status, r.rateBps];
    })).toEqual(want);
  });
});

describe('AgentTxSource over a scripted agent', () => {
  let dir: string;
  let agent: FakeAgent;
  let client: QgaClient;
  let tx = 2n ** 60n;
  let withStats = true;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agt-'));
    agent = await startFakeAgent(join(dir, 'qga'), (req) => {
      if (req.execute !== 'guest-network-get-interfaces') return undefined;
      tx += 1_000_000n;
      const vf = withStats ? { name: 'ens5', 'hardware-address': '52:54:00:00:00:05', statistics: { 'tx-bytes': tx, 'rx-bytes': 0 } } : { name: 'ens5', 'hardware-address': '52:54:00:00:00:05' };
      return { return: [{ name: 'lo', 'hardware-address': '00:00:00:00:00:00', statistics: { 'tx-bytes': 1, 'rx-bytes': 1 } }, vf] };
    });
    client = new QgaClient({ socketPath: agent.socketPath, vm: 'vm5' });
  });
  afterAll(async () => {
    await client?.close();
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the VF counter by MAC with a time between request and reply', async () => {
    let now = 1000;
    const clock = { nowMs: () => (now += 10), sleep: async () => undefined };
    const src = new AgentTxSource(client, { mac: '52:54:00:00:00:05' }, { clock });
    const meter = new RateMeter(src);
    const a = await meter.sample();
    const b = await meter.sample();
    expect(a.status).toBe('first');
    expect(b.sample.txBytes - a.sample.txBytes).toBe(1_000_000n);
    expect(b.sample.atMs - a.sample.atMs).toBe(20);
    expect(b.rateBps).toBe((1_000_000 * 8) / 0.02);
    expect(src.iface?.name).toBe('ens5');
  });

  it('reports missing statistics instead of a rate', async () => {
    withStats = false;
    const src = new AgentTxSource(client, { mac: '52:54:00:00:00:05' });
    await expect(src.readTx()).rejects.toMatchObject({ code: 'E_TELEMETRY_NO_STATS', vm: 'vm5' });
    withStats = true;
  });
});
