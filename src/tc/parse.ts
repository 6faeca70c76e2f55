/**
 * Parsers for `tc -s qdisc show` and `tc -s class show` text, the form every iproute2 prints
 * (6.1, Debian 12's, prints text for classes even with -j; JSON classes need 6.3). Tokens are
 * looked up by keyword, so extra fields of other versions and qdisc kinds are skipped.
 */
import { parseRateBps } from '../units/rate.ts';

/** One qdisc as tc printed it. */
export interface TcQdisc {
  readonly kind: string;
  /** "dac5:", "0:". */
  readonly handle: string;
  /** "root" or the parent id. */
  readonly parent: string;
  /** From the " Sent N bytes" line; null without -s. */
  readonly sentBytes: bigint | null;
}

/** One class as tc printed it. */
export interface TcClass {
  readonly kind: string;
  readonly classid: string;
  readonly parent: string;
  readonly rateBps: number | null;
  readonly ceilBps: number | null;
  readonly burstBytes: number | null;
  readonly cburstBytes: number | null;
  readonly sentBytes: bigint | null;
}

/** Everything one readback found. */
export interface TcShow {
  readonly qdiscs: readonly TcQdisc[];
  readonly classes: readonly TcClass[];
}

/** Parses tc's printed sizes ("125000b", "10Kb", "1.5Mb": K/M/G are 1024-based there) into bytes; null if unreadable. */
export function parseTcSizeBytes(s: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(b|Kb|Mb|Gb)?$/.exec(s);
  if (!m) return null;
  const mult = { b: 1, Kb: 1024, Mb: 1024 ** 2, Gb: 1024 ** 3 }[(m[2] ?? 'b') as 'b' | 'Kb' | 'Mb' | 'Gb'];
  return Math.round(Number(m[1]) * mult);
}

function rateAfter(tokens: readonly string[], key: string): number | null {
  const i = tokens.indexOf(key);
  const v = i >= 0 ? tokens[i + 1] : undefined;
  if (v === undefined) return null;
  try {
    return parseRateBps(v);
  } catch {
    return null;
  }
}

function sizeAfter(tokens: readonly string[], key: string): number | null {
  const i = tokens.indexOf(key);
  const v = i >= 0 ? tokens[i + 1] : undefined;
  // Older iproute2 prints "burst 1600b/1 mpu 0b": the cell log after the slash is not part of the size.
  return v === undefined ? null : parseTcSizeBytes(v.split('/')[0] ?? '');
}

function parentOf(tokens: readonly string[]): string {
  if (tokens.includes('root')) return 'root';
  const i = tokens.indexOf('parent');
  return (i >= 0 ? tokens[i + 1] : undefined) ?? 'unknown';
}

/** Parses the text of `tc [-s] qdisc show` and/or `tc [-s] class show` (in any order, as one batch prints them). */
export function parseTcShow(text: string): TcShow {
  const qdiscs: TcQdisc[] = [];
  const classes: TcClass[] = [];
  type Entry = { kind: 'qdisc'; tokens: string[]; sent: bigint | null } | { kind: 'class'; tokens: string[]; sent: bigint | null };
  const entries: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('qdisc ') || line.startsWith('class ')) {
      entries.push({ kind: line.startsWith('qdisc ') ? 'qdisc' : 'class', tokens: line.split(/\s+/), sent: null });
      continue;
    }
    const sent = /^Sent ([0-9]+) bytes/.exec(line);
    const last = entries[entries.length - 1];
    if (sent && last && last.sent === null) last.sent = BigInt(sent[1] ?? '0');
  }
  for (const e of entries) {
    const [, kind = '', id = ''] = e.tokens;
    if (e.kind === 'qdisc') {
      qdiscs.push({ kind, handle: id, parent: parentOf(e.tokens), sentBytes: e.sent });
    } else {
      classes.push({
        kind,
        classid: id,
        parent: parentOf(e.tokens),
        rateBps: rateAfter(e.tokens, 'rate'),
        ceilBps: rateAfter(e.tokens, 'ceil'),
        burstBytes: sizeAfter(e.tokens, 'burst'),
        cburstBytes: sizeAfter(e.tokens, 'cburst'),
        sentBytes: e.sent,
      });
    }
  }
  return { qdiscs, classes };
}
