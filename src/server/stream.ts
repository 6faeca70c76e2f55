/**
 * Server-sent event streams for the live view. One timer walks the viewers and writes what is
 * new since each viewer's cursors (events, history points) plus the latest status, throttled
 * per viewer. The hub is only read, never told about viewers, so the control loop cannot be
 * slowed by them. A viewer whose socket stops draining is skipped (its updates coalesce into
 * the next status) and, if it stays stuck, dropped: node never buffers more than one pass for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../util/log.ts';
import type { ObservationHub } from './hub.ts';

/** Pacing and limits of the live streams. */
export interface StreamOptions {
  /** At most one status message per viewer per this many ms (default 1000). */
  readonly statusIntervalMs?: number;
  /** How often the broadcaster looks for news (default 250). */
  readonly pollIntervalMs?: number;
  /** Drop a viewer whose socket has not drained for this long (default 30000). */
  readonly maxStalledMs?: number;
  /** Drop a viewer with more than this many bytes waiting in node's buffer (default 1 MiB). */
  readonly maxBufferedBytes?: number;
  /** Send a comment line when a viewer got nothing for this long, so proxies keep it open (default 15000). */
  readonly keepaliveMs?: number;
  /** Refuse new viewers beyond this many (default 64). */
  readonly maxViewers?: number;
}

/** A live view connection as the stats report it. */
export interface ViewerStats {
  readonly id: number;
  readonly remote: string;
  readonly bufferedBytes: number;
  readonly stalled: boolean;
  readonly messagesSent: number;
}

interface Viewer {
  readonly id: number;
  readonly res: ServerResponse;
  readonly remote: string;
  eventSeq: number;
  historySeq: number;
  ticksSeen: number;
  lastStatusAtMs: number;
  lastWriteAtMs: number;
  stalledSinceMs: number | null;
  messagesSent: number;
}

/** The set of open /api/events/stream responses and the timer that feeds them. */
export class LiveStreams {
  private readonly viewers = new Map<number, Viewer>();
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  private readonly opts: Required<StreamOptions>;

  constructor(private readonly hub: ObservationHub, private readonly logger: Logger, opts: StreamOptions = {}) {
    this.opts = {
      statusIntervalMs: opts.statusIntervalMs ?? 1000,
      pollIntervalMs: opts.pollIntervalMs ?? 250,
      maxStalledMs: opts.maxStalledMs ?? 30_000,
      maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
      keepaliveMs: opts.keepaliveMs ?? 15_000,
      maxViewers: opts.maxViewers ?? 64,
    };
    this.timer = setInterval(() => this.pass(), this.opts.pollIntervalMs);
    // The streams must never keep a stopping daemon alive.
    this.timer.unref();
  }

  /**
   * Opens a stream. Query `history` and `events` are the cursors the page got from
   * /api/history and /api/events, so the stream continues exactly where those ended.
   */
  open(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.viewers.size >= this.opts.maxViewers) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' });
      res.end(JSON.stringify({ code: 'E_TOO_MANY_VIEWERS', error: `${this.viewers.size} live views are open, the limit is ${this.opts.maxViewers}; close one and retry` }));
      this.logger.warn({ op: 'stream-open', code: 'E_TOO_MANY_VIEWERS', remote }, 'live view refused: too many viewers');
      return;
    }
    const cursors = this.hub.cursors();
    const lastEventId = Number(req.headers['last-event-id']);
    const viewer: Viewer = {
      id: this.nextId++,
      res,
      remote,
      eventSeq: cursorParam(query.get('events'), Number.isFinite(lastEventId) ? lastEventId : cursors.eventSeq),
      historySeq: cursorParam(query.get('history'), cursors.historySeq),
      ticksSeen: -1,
      lastStatusAtMs: Number.NEGATIVE_INFINITY,
      lastWriteAtMs: performance.now(),
      stalledSinceMs: null,
      messagesSent: 0,
    };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Tell EventSource to wait before reconnecting on its own; the page reconnects itself.
    res.write('retry: 3000\n\n');
    res.on('close', () => this.forget(viewer, 'closed'));
    this.viewers.set(viewer.id, viewer);
    this.hub.metrics.setViewers(this.viewers.size);
    this.logger.debug({ op: 'stream-open', remote, viewer: viewer.id }, 'live view connected');
    this.feed(viewer, performance.now(), new Map());
  }

  /** Number of open streams. */
  get count(): number {
    return this.viewers.size;
  }

  /** One line per open stream, for tests and /api/status. */
  stats(): ViewerStats[] {
    return [...this.viewers.values()].map((v) => ({ id: v.id, remote: v.remote, bufferedBytes: v.res.writableLength, stalled: v.stalledSinceMs !== null, messagesSent: v.messagesSent }));
  }

  /** Stops the timer and ends every stream. */
  close(): void {
    clearInterval(this.timer);
    for (const v of [...this.viewers.values()]) {
      this.forget(v, 'shutdown');
      v.res.end();
    }
  }

  private pass(): void {
    const now = performance.now();
    // Messages shared by all viewers are serialised once per pass.
    const shared = new Map<string, string>();
    for (const v of [...this.viewers.values()]) {
      try {
        this.feed(v, now, shared);
      } catch (err) {
        this.logger.warn({ op: 'stream-write', code: 'E_STREAM_WRITE', err, remote: v.remote }, 'live view write failed; closing it');
        this.forget(v, 'closed');
        v.res.destroy();
      }
    }
  }

  private feed(v: Viewer, now: number, shared: Map<string, string>): void {
    if (v.res.destroyed || v.res.writableEnded) return this.forget(v, 'closed');
    if (v.res.writableNeedDrain) {
      v.stalledSinceMs ??= now;
      if (now - v.stalledSinceMs > this.opts.maxStalledMs || v.res.writableLength > this.opts.maxBufferedBytes) {
        this.logger.warn({ op: 'stream-drop', code: 'E_VIEWER_SLOW', remote: v.remote, bufferedBytes: v.res.writableLength }, 'live view dropped: it stopped reading');
        this.forget(v, 'slow');
        v.res.destroy();
      }
      return;
    }
    v.stalledSinceMs = null;

    const events = this.hub.eventsSince(v.eventSeq);
    const points = this.hub.historySince(v.historySeq);
    if (events.missed || points.missed) {
      // The viewer slept through more than the rings hold: make the page reload its snapshot.
      this.write(v, 'event: resync\ndata: {}\n\n', now);
      const c = this.hub.cursors();
      v.eventSeq = c.eventSeq;
      v.historySeq = c.historySeq;
      return;
    }
    for (const e of events.items) {
      this.write(v, `id: ${e.seq}\nevent: daemon-event\ndata: ${JSON.stringify({ seq: e.seq, ...e.item })}\n\n`, now);
      v.eventSeq = e.seq;
    }
    for (const p of points.items) {
      this.write(v, cached(shared, `point:${p.seq}`, () => `event: point\ndata: ${JSON.stringify({ seq: p.seq, point: p.item })}\n\n`), now);
      v.historySeq = p.seq;
    }
    const ticks = this.hub.cursors().ticks;
    if (ticks !== v.ticksSeen && now - v.lastStatusAtMs >= this.opts.statusIntervalMs) {
      this.write(v, cached(shared, `status:${ticks}`, () => `event: status\ndata: ${JSON.stringify(this.hub.status())}\n\n`), now);
      v.ticksSeen = ticks;
      v.lastStatusAtMs = now;
    }
    if (now - v.lastWriteAtMs >= this.opts.keepaliveMs) this.write(v, ': keepalive\n\n', now);
  }

  private write(v: Viewer, chunk: string, now: number): void {
    v.res.write(chunk);
    v.lastWriteAtMs = now;
    v.messagesSent++;
  }

  private forget(v: Viewer, reason: 'closed' | 'slow' | 'shutdown'): void {
    if (!this.viewers.delete(v.id)) return;
    this.hub.metrics.setViewers(this.viewers.size);
    if (reason !== 'closed') this.hub.metrics.countViewerDropped(reason);
    this.logger.debug({ op: 'stream-close', remote: v.remote, reason }, 'live view disconnected');
  }
}

function cursorParam(text: string | null, fallback: number): number {
  const n = text === null ? NaN : Number(text);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

function cached(shared: Map<string, string>, key: string, make: () => string): string {
  let s = shared.get(key);
  if (s === undefined) {
    s = make();
    shared.set(key, s);
  }
  return s;
}
