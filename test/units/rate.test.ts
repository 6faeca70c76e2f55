import { describe, expect, it } from 'vitest';
import { formatRate, parseRateBps, RateParseError, tcRate } from '../../src/units/rate.ts';

describe('parseRateBps (tc SI meaning)', () => {
  it.each([
    ['10gbit', 10e9],
    ['500mbit', 500e6],
    ['1.5G', 1.5e9],
    ['2gbit', 2e9],
    ['100kbit', 100e3],
    ['125mbps', 1e9], // bps is BYTES per second in tc
    ['1mibit', 1024 * 1024],
    ['250000000', 250e6],
    [' 40 Gbit ', 40e9],
    ['1e9', 1e9],
    [42, 42],
  ] as const)('%s -> %d bit/s', (input, expected) => {
    expect(parseRateBps(input)).toBe(expected);
  });

  it.each(['', 'fast', '10 gigabits', '-1gbit', '1..2gbit', 'gbit', '10xbit'])('refuses %j with a message naming the input', (input) => {
    expect(() => parseRateBps(input)).toThrow(RateParseError);
    expect(() => parseRateBps(input)).toThrow(JSON.stringify(input));
  });

  it('refuses negative and non-finite numbers', () => {
    expect(() => parseRateBps(-5)).toThrow(RateParseError);
    expect(() => parseRateBps(Number.NaN)).toThrow(RateParseError);
  });
});

describe('formatRate / tcRate', () => {
  it.each([
    [2e9, '2gbit'],
    [1.5e9, '1.5gbit'],
    [800e6, '800mbit'],
    [12_345, '12.3kbit'],
    [10, '10bit'],
  ] as const)('%d -> %s', (bps, text) => {
    expect(formatRate(bps)).toBe(text);
  });

  it('round-trips through the parser', () => {
    for (const bps of [1e3, 2.5e6, 37.49e9]) expect(parseRateBps(formatRate(bps, 6))).toBeCloseTo(bps, -1);
  });

  it('gives tc an exact integer rate and never zero', () => {
    expect(tcRate(1_234_567.6)).toBe('1234568bit');
    expect(tcRate(0)).toBe('1bit');
  });
});
