/**
 * Bigint-safe reading of `ip -s -j link` output: byte counters are 64-bit and pass 2^53
 * (about 8 days at 100 Gbit/s), which JSON.parse would silently round.
 */
import { parseJsonBig, toCounter, type JsonValue } from '../util/json.ts';
import { TestbedError } from './errors.ts';

/** Counters of one interface from `ip -s -j link`. */
export interface LinkBytes {
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
}

/** Parses `ip -s -j link` output into interface name -> rx/tx byte counters, without losing precision. */
export function parseLinkBytes(json: string): Map<string, LinkBytes> {
  let entries: JsonValue;
  try {
    entries = parseJsonBig(json);
  } catch (e) {
    throw new TestbedError('E_TESTBED_BUILD', `cannot parse 'ip -s -j link' output as JSON (is iproute2 new enough?): ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(entries)) throw new TestbedError('E_TESTBED_BUILD', "'ip -s -j link' did not print a JSON array");
  const result = new Map<string, LinkBytes>();
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.ifname !== 'string' || !isObject(entry.stats64)) continue;
    const { rx, tx } = entry.stats64;
    const rxBytes = isObject(rx) ? toCounter(rx.bytes) : null;
    const txBytes = isObject(tx) ? toCounter(tx.bytes) : null;
    if (rxBytes === null || txBytes === null) continue;
    result.set(entry.ifname, { rxBytes, txBytes });
  }
  return result;
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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
