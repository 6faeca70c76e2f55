/**
 * Bigint-safe reading of `ip -s -j link` output: byte counters are 64-bit and pass 2^53
 * (about 8 days at 100 Gbit/s), which JSON.parse would silently round.
 */
import { TestbedError } from './errors.ts';

/**
 * Rewrites every integer literal outside strings as a string, so JSON.parse keeps all its
 * digits; counters are then turned into bigints by the caller. Floats are left alone.
 */
export function quoteJsonIntegers(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      // Copy a whole string literal, escapes included, untouched.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 64));
      const lit = m?.[0] ?? ch;
      out += m && !m[1] && !m[2] ? `"${lit}"` : lit;
      i += lit.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

interface IpLinkEntry {
  ifname?: unknown;
  stats64?: { rx?: { bytes?: unknown }; tx?: { bytes?: unknown } };
}

/** Counters of one interface from `ip -s -j link`. */
export interface LinkBytes {
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
}

/** Parses `ip -s -j link` output into interface name -> rx/tx byte counters, without losing precision. */
export function parseLinkBytes(json: string): Map<string, LinkBytes> {
  let entries: unknown;
  try {
    entries = JSON.parse(quoteJsonIntegers(json));
  } catch (e) {
    throw new TestbedError('E_TESTBED_BUILD', `cannot parse 'ip -s -j link' output as JSON (is iproute2 new enough?): ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(entries)) throw new TestbedError('E_TESTBED_BUILD', "'ip -s -j link' did not print a JSON array");
  const result = new Map<string, LinkBytes>();
  for (const entry of entries as IpLinkEntry[]) {
    const rx = entry.stats64?.rx?.bytes;
    const tx = entry.stats64?.tx?.bytes;
    if (typeof entry.ifname !== 'string' || typeof rx !== 'string' || typeof tx !== 'string') continue;
    result.set(entry.ifname, { rxBytes: BigInt(rx), txBytes: BigInt(tx) });
  }
  return result;
}

/**
 * Parses /proc/net/dev (receive bytes is the first column after "name:", transmit bytes the
 * ninth) into the same map, as bigints. Reading it through a process parked in a namespace is
 * a file read, where `ip -s -j link` is a process start that took up to ~600 ms under load.
 */
export function parseProcNetDev(text: string): Map<string, LinkBytes> {
  const result = new Map<string, LinkBytes>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^\s:]+):(.*)$/.exec(line);
    const cols = m?.[2]?.trim().split(/\s+/) ?? [];
    if (!m || cols.length < 16 || !cols.every((c) => /^[0-9]+$/.test(c))) continue;
    result.set(m[1] as string, { rxBytes: BigInt(cols[0] as string), txBytes: BigInt(cols[8] as string) });
  }
  return result;
}
