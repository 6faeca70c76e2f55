/**
 * Splits the agent's byte stream into reply lines. qemu-ga writes one JSON object per line and
 * a 0xFF byte before the reply to guest-sync-delimited; after a resync everything up to that
 * byte is stale and must be discarded unread. The guest controls every byte here, so the
 * reader never holds more than the current call's bound: a longer line is counted and
 * dropped, and while no request is pending nothing is kept at all (an honest agent only ever
 * answers; whatever arrives unasked is dropped, and so is the rest of a line that began then).
 * Buffers are joined only when a line ends, so a large reply costs one copy.
 */

const NL = 0x0a;
const SENTINEL = 0xff;

/** What the reader hands out: a complete line, a line over the limit, or bytes that arrived with no request pending. */
export type ReaderEvent =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'overflow'; readonly bytes: number }
  | { readonly kind: 'unsolicited'; readonly bytes: number };

/** Incremental reader of qemu-ga reply lines with a discard-to-sentinel mode and an idle (drop everything) mode. */
export class LineReader {
  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private skippingSentinel = false;
  private overflowing = false;
  // The line in progress began while idle (or is being dropped for another reason): drop it to its end.
  private droppingLine = false;
  private idle = true;
  // Whether the last byte seen ended a line: leaving idle mid-line must not start a reply there.
  private atLineStart = true;

  constructor(private maxLineBytes: number) {}

  /** The bound on the line being read; a call may allow more (guest-exec output) or less. */
  setLimit(maxLineBytes: number): void {
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Idle: no request is pending, so nothing that arrives is a reply: it is dropped unread,
   * with the rest of any line that began meanwhile. Leaving idle mid-line keeps dropping that
   * line to its end.
   */
  setIdle(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    if (idle) {
      // A reply half-read when its caller gave up is of no use any more.
      if (this.pendingBytes > 0 || this.overflowing) this.droppingLine = true;
      this.chunks = [];
      this.pendingBytes = 0;
      this.overflowing = false;
    } else {
      this.droppingLine = !this.atLineStart;
    }
  }

  /** Drops buffered input and everything that arrives until the next 0xFF byte. */
  discardUntilSentinel(): void {
    this.chunks = [];
    this.pendingBytes = 0;
    this.overflowing = false;
    this.droppingLine = false;
    this.skippingSentinel = true;
  }

  /** Forgets all state (new connection). */
  reset(): void {
    this.chunks = [];
    this.pendingBytes = 0;
    this.overflowing = false;
    this.skippingSentinel = false;
    this.droppingLine = false;
    this.atLineStart = true;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(data: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    let buf = data;
    let dropped = 0;
    while (buf.length > 0) {
      if (this.skippingSentinel) {
        const s = buf.indexOf(SENTINEL);
        if (s < 0) break;
        this.skippingSentinel = false;
        // The sync reply follows its sentinel: a line starts here.
        this.atLineStart = true;
        buf = buf.subarray(s + 1);
        continue;
      }
      const nl = buf.indexOf(NL);
      const part = nl < 0 ? buf : buf.subarray(0, nl);
      this.noteLineStart(nl < 0 ? buf : buf.subarray(0, nl + 1));
      if (this.idle || this.droppingLine) {
        dropped += nl < 0 ? buf.length : nl + 1;
        if (nl < 0) break;
        this.droppingLine = false;
        buf = buf.subarray(nl + 1);
        continue;
      }
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
      if (nl < 0) break;
      if (dropped > 0) {
        events.push({ kind: 'unsolicited', bytes: dropped });
        dropped = 0;
      }
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
    if (dropped > 0) events.push({ kind: 'unsolicited', bytes: dropped });
    return events;
  }

  // Whether these bytes leave the stream at the start of a line (0xFF bytes do not count).
  private noteLineStart(consumed: Buffer): void {
    for (let i = consumed.length - 1; i >= 0; i--) {
      const b = consumed[i];
      if (b === SENTINEL) continue;
      this.atLineStart = b === NL;
      return;
    }
  }
}

// A 0xFF can precede any line (the delimited sync reply, or an agent that flushes); never valid UTF-8, so it is noise in a line.
function stripSentinels(b: Buffer): Buffer {
  return b.includes(SENTINEL) ? Buffer.from(b.filter((x) => x !== SENTINEL)) : b;
}
