/**
 * Splits the agent's byte stream into reply lines. qemu-ga writes one JSON object per line and
 * a 0xFF byte before the reply to guest-sync-delimited; after a resync everything up to that
 * byte is stale and must be discarded unread. Buffers are joined only when a line ends, so a
 * 40 MB guest-exec-status reply costs one copy, and an endless line is cut at a limit.
 */

const NL = 0x0a;
const SENTINEL = 0xff;

/** What the reader hands out: a complete line, or notice that a line exceeded the limit. */
export type ReaderEvent = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'overflow'; readonly bytes: number };

/** Incremental reader of qemu-ga reply lines with a discard-to-sentinel mode. */
export class LineReader {
  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private skippingSentinel = false;
  private overflowing = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Drops buffered input and everything that arrives until the next 0xFF byte. */
  discardUntilSentinel(): void {
    this.chunks = [];
    this.pendingBytes = 0;
    this.overflowing = false;
    this.skippingSentinel = true;
  }

  /** Forgets all state (new connection). */
  reset(): void {
    this.chunks = [];
    this.pendingBytes = 0;
    this.overflowing = false;
    this.skippingSentinel = false;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(data: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    let buf = data;
    while (buf.length > 0) {
      if (this.skippingSentinel) {
        const s = buf.indexOf(SENTINEL);
        if (s < 0) return events;
        this.skippingSentinel = false;
        buf = buf.subarray(s + 1);
        continue;
      }
      const nl = buf.indexOf(NL);
      const part = nl < 0 ? buf : buf.subarray(0, nl);
      if (!this.overflowing) {
        this.chunks.push(part);
        this.pendingBytes += part.length;
        if (this.pendingBytes > this.maxLineBytes) {
          this.overflowing = true;
          this.chunks = [];
        }
      } else {
        this.pendingBytes += part.length;
      }
      if (nl < 0) return events;
      if (this.overflowing) {
        events.push({ kind: 'overflow', bytes: this.pendingBytes });
      } else {
        const text = stripSentinels(Buffer.concat(this.chunks, this.pendingBytes)).toString('utf8').trim();
        if (text.length > 0) events.push({ kind: 'line', text });
      }
      this.chunks = [];
      this.pendingBytes = 0;
      this.overflowing = false;
      buf = buf.subarray(nl + 1);
    }
    return events;
  }
}

// A 0xFF can precede any line (the delimited sync reply, or an agent that flushes); never valid UTF-8, so it is noise in a line.
function stripSentinels(b: Buffer): Buffer {
  return b.includes(SENTINEL) ? Buffer.from(b.filter((x) => x !== SENTINEL)) : b;
}
