/**
 * Rates in bits per second with tc's meaning of units: SI prefixes (k = 1000), "bit" for
 * bits and "bps" for BYTES per second, exactly as `tc` reads them (see tc(8) "RATES").
 */

/** Error raised for a rate that cannot be parsed; `code` is stable for callers and tests. */
export class RateParseError extends Error {
  readonly code = 'E_RATE_PARSE';
  constructor(readonly input: string, reason: string) {
    super(`invalid rate ${JSON.stringify(input)}: ${reason} (examples: "10gbit", "500mbit", "1.5G", "250000000")`);
    this.name = 'RateParseError';
  }
}

// tc: "bit" and bare SI prefixes with "bit" are bits; "bps" suffixes are bytes per second.
// A bare number is bits per second. IEC prefixes (kibit, mibps) are powers of 1024.
const UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1], ['bit', 1], ['bps', 8],
  ['k', 1e3], ['kbit', 1e3], ['kbps', 8e3], ['kibit', 1024], ['kibps', 8 * 1024],
  ['m', 1e6], ['mbit', 1e6], ['mbps', 8e6], ['mibit', 1024 ** 2], ['mibps', 8 * 1024 ** 2],
  ['g', 1e9], ['gbit', 1e9], ['gbps', 8e9], ['gibit', 1024 ** 3], ['gibps', 8 * 1024 ** 3],
  ['t', 1e12], ['tbit', 1e12], ['tbps', 8e12], ['tibit', 1024 ** 4], ['tibps', 8 * 1024 ** 4],
]);

/** Parses "10gbit", "500mbit", "1.5G", "125mbps" (bytes!) or a number into bits per second. */
export function parseRateBps(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RateParseError(String(input), 'must be a finite, non-negative number');
    return input;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!m) throw new RateParseError(input, 'expected a number followed by an optional unit');
  const unit = (m[3] ?? '').toLowerCase();
  const mult = UNITS.get(unit);
  if (mult === undefined) {
    throw new RateParseError(input, `unknown unit "${m[3]}" (use bit, kbit, mbit, gbit, tbit, or bps/kbps/mbps/gbps for bytes per second)`);
  }
  const value = Number(m[1]) * 10 ** Number(m[2] ?? 0) * mult;
  if (!Number.isFinite(value)) throw new RateParseError(input, 'value is too large');
  return value;
}

/** Formats bits per second for humans and for tc ("1.5gbit", "800mbit", "12kbit", "10bit"). */
export function formatRate(bps: number, digits = 3): string {
  const abs = Math.abs(bps);
  const [div, unit] = abs >= 1e12 ? [1e12, 'tbit'] : abs >= 1e9 ? [1e9, 'gbit'] : abs >= 1e6 ? [1e6, 'mbit'] : abs >= 1e3 ? [1e3, 'kbit'] : [1, 'bit'];
  return `${Number((bps / div).toPrecision(digits))}${unit}`;
}

/** An integer rate in bits per second as tc accepts it exactly ("1234567bit"). */
export function tcRate(bps: number): string {
  return `${Math.max(1, Math.round(bps))}bit`;
}
