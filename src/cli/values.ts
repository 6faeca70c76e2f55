/**
 * Converters for option values (ValueOption.parse): each returns the typed value or throws an
 * Error whose message names the text and the rule; the command runner prefixes the option.
 */
import { parseRateBps } from '../units/rate.ts';

/** A rate in tc units ("10gbit", "500mbit") to bits per second; below `minBps` is refused. */
export function rateBps(opts: { minBps?: number } = {}): (text: string) => number {
  return (text) => {
    const bps = parseRateBps(text);
    // A bare "10" is 10 bit/s in tc's language; where nobody means that, say so.
    if (opts.minBps !== undefined && bps < opts.minBps) throw new Error(`${JSON.stringify(text)} is ${bps} bit/s; give a unit, e.g. 10gbit`);
    return bps;
  };
}

/** A whole number from `min` to `max` (inclusive). */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const n = /^\s*-?[0-9]+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`${JSON.stringify(text)} is not a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`);
    }
    return n;
  };
}

/** A finite decimal number of at least `min`. */
export function decimal(min = Number.NEGATIVE_INFINITY): (text: string) => number {
  return (text) => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`${JSON.stringify(text)} is not a number${Number.isFinite(min) ? ` of at least ${min}` : ''}`);
    return n;
  };
}

/** One word of `words`. */
export function oneOf<const W extends string>(words: readonly W[]): (text: string) => W {
  return (text) => {
    if (!(words as readonly string[]).includes(text)) throw new Error(`${JSON.stringify(text)} is not one of ${words.join(', ')}`);
    return text as W;
  };
}

/** A comma-separated list of words of `words` (at least one, no repeats). */
export function listOf<const W extends string>(words: readonly W[]): (text: string) => W[] {
  return (text) => {
    const names = text.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(words as readonly string[]).includes(n));
    if (unknown.length > 0) throw new Error(`unknown ${unknown.join(', ')}; choose from ${words.join(', ')}`);
    if (names.length === 0) throw new Error(`is empty; choose from ${words.join(', ')}`);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated !== undefined) throw new Error(`${repeated} appears twice`);
    return names as W[];
  };
}
