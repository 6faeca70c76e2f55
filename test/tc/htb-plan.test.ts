import { describe, expect, it } from 'vitest';
import { buildChangeArgs, buildClassReplaceArgs, buildLiftArgs, buildQdiscArgs, buildReadArgs, burstBytesFor, htbClassParams, isMissingClass, isNothingToLift, quantumBytesFor } from '../../src/tc/htb-plan.ts';
import { parseTcShow, parseTcSizeBytes } from '../../src/tc/parse.ts';
import { capFromShow, capMatches } from '../../src/tc/readback.ts';

describe('htb plan', () => {
  it.each<[number, number]>([
    [1e6, 65536],
    [500e6, 125000],
    [10e9, 2500000],
    [40e9, 10000000],
  ])('burstBytesFor(%d) = %d', (rate, want) => {
    expect(burstBytesFor(rate)).toBe(want);
  });

  it.each<[number, number]>([
    [400e3, 10000],
    [1e6, 12500],
    [100e6, 200000],
    [1e9, 200000],
    [16e9, 200000],
    [100e9, 200000],
  ])('quantumBytesFor(%d) = %d', (rate, want) => {
    expect(quantumBytesFor(rate)).toBe(want);
  });

  it.each([0, -1, 7, Number.NaN, Number.POSITIVE_INFINITY])('rejects cap %d with E_TC_PLAN', (cap) => {
    expect(() => htbClassParams(cap)).toThrow(expect.objectContaining({ code: 'E_TC_PLAN' }));
  });

  it.each(['', '.', '..', 'a b', 'a/b', 'eth0:1', 'x'.repeat(16), 'é'.repeat(8), 'eth0\nqdisc del dev lo root', 'a\u0000b', 'a\tb', 'x\ud800'])('rejects interface %j, which no kernel can have', (iface) => {
    expect(() => buildChangeArgs(iface, 1e9)).toThrow(expect.objectContaining({ code: 'E_TC_PLAN' }));
  });

  // Names a guest can give its VF: each must reach tc whole, as one argv element.
  it.each(['eth0+', 'e;id>x', 'x'.repeat(15), 'vé0', '网卡0', 'e#1', "a'b\"c", '$(reboot)', '-dev', '\u001b[31m'])('passes interface %j to tc as one argv element', (iface) => {
    for (const argv of [buildChangeArgs(iface, 1e9), buildQdiscArgs(iface), buildClassReplaceArgs(iface, 1e9), buildLiftArgs(iface), ...buildReadArgs(iface)]) {
      expect(argv[argv.indexOf('dev') + 1]).toBe(iface);
      expect(argv.filter((a) => a.includes(iface))).toEqual([iface]);
    }
  });

  it.each<[string[], string]>([
    [buildChangeArgs('eth0', 500e6), 'class change dev eth0 parent dac5: classid dac5:1 htb rate 500000000bit ceil 500000000bit burst 125000 cburst 125000 quantum 200000'],
    [buildChangeArgs('eth0', 123_456_789), 'class change dev eth0 parent dac5: classid dac5:1 htb rate 123456792bit ceil 123456792bit burst 65536 cburst 65536 quantum 200000'],
    [buildQdiscArgs('vf0'), 'qdisc replace dev vf0 root handle dac5: htb default 1'],
    [buildClassReplaceArgs('vf0', 40e9), 'class replace dev vf0 parent dac5: classid dac5:1 htb rate 40000000000bit ceil 40000000000bit burst 10000000 cburst 10000000 quantum 200000'],
    [buildClassReplaceArgs('vf0', 2e9, { burstMs: 1, minBurstBytes: 3000 }), 'class replace dev vf0 parent dac5: classid dac5:1 htb rate 2000000000bit ceil 2000000000bit burst 250000 cburst 250000 quantum 200000'],
    [buildReadArgs('eth1')[0], '-s qdisc show dev eth1'],
    [buildReadArgs('eth1')[1], '-s class show dev eth1'],
    [buildLiftArgs('eth1'), 'qdisc del dev eth1 root handle dac5:'],
  ])('builds %j', (got, want) => {
    expect(got.join(' ')).toBe(want);
  });

  it.each<[string, boolean, boolean]>([
    ['Error: Invalid handle.', true, true],
    ['Error: Cannot delete qdisc with handle of zero.', true, false],
    ['RTNETLINK answers: No such file or directory\nCommand failed -:1', true, true],
    ['Error: Exclusivity flag on, cannot modify.', false, false],
    ['Cannot find device "eth9"', false, true],
  ])('stderr %j: nothing to lift %s, missing class %s', (stderr, lift, missing) => {
    expect(isNothingToLift(stderr)).toBe(lift);
    expect(isMissingClass(stderr)).toBe(missing);
  });
});

// Output captured from Debian 12's tc (iproute2 6.1) and an older iproute2 (4.x) format.
const SHOW_61 = `qdisc htb dac5: root refcnt 3 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000
 Sent 86 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
class htb dac5:1 root prio 0 rate 500Mbit ceil 500Mbit burst 125000b cburst 125000b 
 Sent 86 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 1 borrowed: 0 giants: 0
 tokens: 31228 ctokens: 31228
`;
const SHOW_OLD = `qdisc htb dac5: root refcnt 2 r2q 10 default 1 direct_packets_stat 3 direct_qlen 1000
class htb dac5:1 root prio 0 rate 12345Kbit ceil 12345Kbit burst 1600b/1 mpu 0b cburst 1600b/1 mpu 0b level 0
`;
const SHOW_FOREIGN = `qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64
 Sent 5000 bytes 10 pkt (dropped 0, overlimits 0 requeues 0)
`;
const SHOW_NOCLASS = `qdisc htb dac5: root refcnt 3 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000
 Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)
`;
const SHOW_TBF = 'qdisc tbf 1: root refcnt 3 rate 1Mbit burst 10Kb lat 10ms \nclass tbf 1:1 parent 1: \n';

describe('tc text parser and readback', () => {
  it.each<[string, number | null]>([
    ['125000b', 125000], ['10Kb', 10240], ['1.5Mb', 1572864], ['2Gb', 2 * 1024 ** 3], ['12x', null], ['', null],
  ])('parseTcSizeBytes(%j) = %s', (s, want) => {
    expect(parseTcSizeBytes(s)).toBe(want);
  });

  it('parses qdiscs and classes of iproute2 6.1', () => {
    expect(parseTcShow(SHOW_61)).toEqual({
      qdiscs: [{ kind: 'htb', handle: 'dac5:', parent: 'root', sentBytes: 86n }],
      classes: [{ kind: 'htb', classid: 'dac5:1', parent: 'root', rateBps: 500e6, ceilBps: 500e6, burstBytes: 125000, cburstBytes: 125000, sentBytes: 86n }],
    });
  });

  it.each<[string, string, number | null, boolean, RegExp]>([
    ['6.1', SHOW_61, 500e6, true, /htb dac5:1 rate 500mbit ceil 500mbit burst 125000b/],
    ['old iproute2', SHOW_OLD, 12_345_000, true, /rate 12.3mbit/],
    ['foreign root', SHOW_FOREIGN, null, false, /no daqs qdisc \(root qdisc: fq_codel 0:\)/],
    ['class deleted', SHOW_NOCLASS, null, true, /without class dac5:1/],
    ['tbf root', SHOW_TBF, null, false, /root qdisc: tbf 1:/],
    ['empty', '', null, false, /root qdisc: none/],
  ])('readback of %s', (_name, text, cap, ours, detail) => {
    const r = capFromShow(parseTcShow(text));
    expect(r.capBps).toBe(cap);
    expect(r.rootIsOurs).toBe(ours);
    expect(r.detail).toMatch(detail);
  });

  it.each<[number | null, number | null, boolean]>([
    [null, null, true], [null, 1e9, false], [1e9, null, false], [12_345_678, 12_345_000, true], [500e6, 505e6, false], [1e9, 1e9, true],
  ])('capMatches(%s, %s) = %s', (a, b, want) => {
    expect(capMatches(a, b)).toBe(want);
  });
});
