/**
 * qemu-ga over a unix socket (plain QEMU chardev, a daqs-owned channel, or the emulated host).
 * qemu-ga serves one client and runs one command at a time, so this client owns its socket,
 * queues calls, and keeps exactly one request in flight. Every request carries an id and only
 * the reply with that id resolves it; after a timeout the stream may still hold the old reply,
 * so the next call first resyncs with guest-sync-delimited (0xFF flush, discard to sentinel).
 *
 * The guest writes every byte this client reads, so reading is bounded: a reply line longer
 * than the call's bound is dropped uncounted, a line nested deeper than maxJsonDepth is refused
 * before it is parsed, and nothing that arrives while no request is pending is kept or parsed.
 * Strings from the agent (error descriptions) are cleaned where they enter (errors.ts).
 *
 * Two facts about qemu-ga 7.2 shape connect and close:
 * - A socket that goes away is retried at the next call, not after a backoff: a failed connect
 *   to a unix socket costs microseconds, and an agent that is back is used within one tick.
 * - qemu-ga (unix-listen) EXITS when its client closes the connection while a reply is still
 *   unread on the client's side: the kernel turns that close into ECONNRESET for qemu-ga, whose
 *   read error handler stops the agent ("error reading channel", logged only with -v). So this
 *   client never drops a connection abruptly: it keeps a connection through timeouts (the
 *   resync deals with late replies), and when it must let go it half-closes and reads to the
 *   end (drain) before the socket is released.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { randomInt } from 'node:crypto';
import type { Logger } from '../util/log.ts';
import { silentLogger } from '../util/log.ts';
import { AgentError, agentErrorFromReply } from './errors.ts';
import { parseJsonBig, stringifyJsonBig, type JsonValue } from '../util/json.ts';
import { LineReader } from './line-reader.ts';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_REPLY_BYTES, type ExecuteOptions, type GuestAgent } from './types.ts';

/** Construction options of QgaClient. */
export interface QgaClientOptions {
  readonly socketPath: string;
  /** VM name for errors and logs (default: the socket path). */
  readonly vm?: string;
  readonly logger?: Logger;
  /** Default bound on one call, connect and resync included (default 500 ms: below a tick's budget). */
  readonly defaultTimeoutMs?: number;
  /** Longest reply line accepted unless a call says otherwise (default 1 MiB). */
  readonly maxLineBytes?: number;
  /** Deepest JSON nesting accepted in a reply (default 32); deeper lines are refused before parsing. */
  readonly maxJsonDepth?: number;
  /** Resyncs that may fail in a row on one connection before it is drained and replaced (default 3). */
  readonly maxFailedResyncs?: number;
  /** How long letting go of a connection waits for the agent to close its side (default 2000 ms; never blocks a call). */
  readonly drainMs?: number;
}

type Waiter = {
  readonly id: number;
  readonly kind: 'command' | 'sync';
  readonly operation: string;
  readonly maxReplyBytes: number;
  resolve(v: JsonValue): void;
  reject(e: AgentError): void;
};

// Socket paths owned by a live client in this process: a second owner would steal replies.
const owners = new Set<string>();

// Ids stay below 2^53 (brief: the sync id must survive a double round trip) and start at a
// random point, so replies left over from an earlier daemon run do not match ours.
function firstId(): number {
  return randomInt(1, 2 ** 40);
}

// Deadlines and waits are measured on the monotonic clock: a wall-clock step must not fire or
// stall them.
const nowMs = (): number => performance.now();

/** A qemu-ga client over a unix socket: queued, id-matched, resyncing, reconnecting at the next call, bounded. */
export class QgaClient implements GuestAgent {
  readonly vm: string;
  private readonly path: string;
  private readonly log: Logger;
  private readonly defaultTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly maxJsonDepth: number;
  private readonly maxFailedResyncs: number;
  private readonly drainMs: number;
  private readonly reader: LineReader;
  private socket: Socket | null = null;
  private synced = false;
  private failedResyncs = 0;
  private waiter: Waiter | null = null;
  private nextId = firstId();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly draining = new Set<Promise<void>>();
  private readonly disabled = new Set<string>();
  private readonly reportedDisabled = new Set<string>();
  private staleCount = 0;
  private garbageCount = 0;
  private unsolicitedBytes = 0;
  private reportedUnsolicited = false;

  constructor(opts: QgaClientOptions) {
    this.path = resolvePath(opts.socketPath);
    this.vm = opts.vm ?? opts.socketPath;
    if (owners.has(this.path)) {
      throw new AgentError('E_AGENT_SOCKET_OWNED', `another client in this process already owns ${this.path}; share that client instead of opening a second one (qemu-ga serves one client)`, { vm: this.vm, operation: 'connect' });
    }
    owners.add(this.path);
    this.log = (opts.logger ?? silentLogger).child({ vm: this.vm });
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 500;
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.maxJsonDepth = opts.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    this.maxFailedResyncs = opts.maxFailedResyncs ?? 3;
    this.drainMs = opts.drainMs ?? 2000;
    this.reader = new LineReader(this.maxLineBytes);
  }

  /** What was ignored so far (stale ids, unusable lines, bytes sent with no request pending), for tests and diagnostics. */
  get ignored(): { readonly stale: number; readonly garbage: number; readonly unsolicitedBytes: number } {
    return { stale: this.staleCount, garbage: this.garbageCount, unsolicitedBytes: this.unsolicitedBytes };
  }

  /** Runs one command; see GuestAgent.execute. */
  execute<T = JsonValue>(command: string, args?: Readonly<Record<string, unknown>>, opts: ExecuteOptions = {}): Promise<T> {
    const run = (): Promise<T> => this.runOne(command, args, opts) as Promise<T>;
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Closes the connection (draining it first, see the file comment) and releases ownership; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    owners.delete(this.path);
    const w = this.waiter;
    this.waiter = null;
    this.reader.setIdle(true);
    w?.reject(new AgentError('E_AGENT_CLOSED', 'client closed', { vm: this.vm, operation: w.operation }));
    this.letGo();
    await this.tail;
    await Promise.all(this.draining);
  }

  private async runOne(command: string, args: Readonly<Record<string, unknown>> | undefined, opts: ExecuteOptions): Promise<JsonValue> {
    const ctx = { vm: this.vm, operation: command };
    if (this.closed) throw new AgentError('E_AGENT_CLOSED', 'client closed', ctx);
    if (opts.signal?.aborted) throw new AgentError('E_AGENT_ABORTED', 'aborted before it was sent', ctx);
    if (this.disabled.has(command)) {
      // Reported once already; asking again would only repeat the operator's refusal every tick.
      throw agentErrorFromReply(this.vm, command, 'CommandNotFound', `Command ${command} has been disabled`);
    }
    const deadline = nowMs() + (opts.timeoutMs ?? this.defaultTimeoutMs);
    await this.ensureReady(deadline, command);
    const id = this.nextId++;
    const request = stringifyJsonBig(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    try {
      return await this.roundTrip({ id, kind: 'command', operation: command, maxReplyBytes: opts.maxReplyBytes ?? this.maxLineBytes }, `${request}\n`, deadline, opts.signal);
    } catch (e) {
      if (e instanceof AgentError && e.code === 'E_AGENT_DISABLED') this.noteDisabled(command, e);
      throw e;
    }
  }

  private noteDisabled(command: string, e: AgentError): void {
    this.disabled.add(command);
    if (!this.reportedDisabled.has(command)) {
      this.reportedDisabled.add(command);
      this.log.warn({ op: command, code: e.code, agentDesc: e.agentDesc }, `configuration problem: ${e.message}`);
    }
  }

  private async ensureReady(deadline: number, operation: string): Promise<void> {
    if (this.socket && this.synced) return;
    if (!this.socket) await this.connect(deadline, operation);
    try {
      await this.resync(deadline);
      this.failedResyncs = 0;
    } catch (e) {
      // A connection that never syncs again (a stuck peer, a chardev nobody serves) is
      // replaced after a few tries; one failure alone is usually a slow agent.
      if (++this.failedResyncs >= this.maxFailedResyncs) {
        this.failedResyncs = 0;
        this.letGo();
      }
      throw e;
    }
  }

  private connect(deadline: number, operation: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = netConnect(this.path);
      const timer = setTimeout(() => {
        // Nothing was sent on it yet, so nothing can be left unread: an abrupt close is safe.
        sock.destroy();
        reject(new AgentError('E_AGENT_TIMEOUT', `connecting to ${this.path} timed out`, { vm: this.vm, operation }));
      }, Math.max(1, deadline - nowMs()));
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new AgentError('E_AGENT_UNAVAILABLE', `cannot connect to ${this.path}: ${e.code ?? e.message} (is qemu-ga running and is this the agent's socket?)`, { vm: this.vm, operation, cause: e }));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        if (this.closed) {
          this.drain(sock);
          reject(new AgentError('E_AGENT_CLOSED', 'client closed', { vm: this.vm, operation }));
          return;
        }
        this.attach(sock);
        this.log.debug({ op: 'connect' }, 'agent connected');
        resolve();
      });
    });
  }

  private attach(sock: Socket): void {
    this.socket = sock;
    this.synced = false;
    this.failedResyncs = 0;
    this.disabled.clear();
    this.reader.reset();
    this.reader.setIdle(true);
    this.reportedUnsolicited = false;
    sock.on('data', (b: Buffer) => {
      if (this.socket === sock) this.onData(b);
    });
    sock.on('error', (e) => this.log.debug({ err: e }, 'agent socket error'));
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.socket = null;
      this.synced = false;
      const w = this.waiter;
      if (w) {
        this.waiter = null;
        this.reader.setIdle(true);
        w.reject(new AgentError('E_AGENT_DISCONNECTED', 'agent closed the connection before replying', { vm: this.vm, operation: w.operation }));
      }
    });
  }

  private resync(deadline: number): Promise<void> {
    const id = this.nextId++;
    this.reader.discardUntilSentinel();
    // The leading 0xFF makes the agent drop any half-read request; its parse-error reply comes before the sentinel.
    const request = Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"execute":"guest-sync-delimited","arguments":{"id":${id}}}\n`)]);
    return this.roundTrip({ id, kind: 'sync', operation: 'guest-sync-delimited', maxReplyBytes: this.maxLineBytes }, request, deadline).then(() => {
      this.synced = true;
    });
  }

  private roundTrip(w: Omit<Waiter, 'resolve' | 'reject'>, request: string | Buffer, deadline: number, signal?: AbortSignal): Promise<JsonValue> {
    const sock = this.socket;
    if (!sock) return Promise.reject(new AgentError('E_AGENT_DISCONNECTED', 'not connected', { vm: this.vm, operation: w.operation }));
    return new Promise<JsonValue>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.waiter === waiter) {
          this.waiter = null;
          this.reader.setIdle(true);
        }
      };
      const waiter: Waiter = {
        ...w,
        resolve: (v) => {
          finish();
          resolve(v);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      // A reply may still come after we stop waiting: force a resync so it is discarded, not
      // taken for the next answer. The connection stays: dropping it could kill the agent.
      const giveUp = (e: AgentError): void => {
        this.synced = false;
        waiter.reject(e);
      };
      const timer = setTimeout(() => giveUp(new AgentError('E_AGENT_TIMEOUT', `no reply before the call's deadline (timeoutMs); the agent is slow or hung`, { vm: this.vm, operation: w.operation })), Math.max(1, deadline - nowMs()));
      const onAbort = (): void => giveUp(new AgentError('E_AGENT_ABORTED', 'aborted while waiting for the reply', { vm: this.vm, operation: w.operation }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = waiter;
      this.reader.setLimit(w.maxReplyBytes);
      this.reader.setIdle(false);
      sock.write(request);
    });
  }

  private onData(b: Buffer): void {
    for (const ev of this.reader.push(b)) {
      const w = this.waiter;
      if (ev.kind === 'unsolicited') {
        this.noteUnsolicited(ev.bytes);
        continue;
      }
      if (ev.kind === 'overflow') {
        this.garbageCount++;
        this.log.warn({ bytes: ev.bytes, limitBytes: w?.maxReplyBytes }, 'agent reply line over the size limit, dropped unread');
        if (w) {
          this.synced = false;
          w.reject(new AgentError('E_AGENT_PROTOCOL', `reply of ${ev.bytes} bytes exceeds the bound of ${w.maxReplyBytes} bytes for ${w.operation}`, { vm: this.vm, operation: w.operation }));
        }
        continue;
      }
      // A line that completes after its caller got a reply (the rest of the same chunk) answers nothing.
      if (!w) {
        this.noteUnsolicited(Buffer.byteLength(ev.text));
        continue;
      }
      let msg: JsonValue;
      try {
        msg = parseJsonBig(ev.text, { maxDepth: this.maxJsonDepth });
      } catch (e) {
        this.garbageCount++;
        this.log.debug({ bytes: ev.text.length, code: (e as { code?: string }).code }, 'unusable agent output ignored');
        continue;
      }
      this.dispatch(msg, w);
    }
  }

  private noteUnsolicited(bytes: number): void {
    this.unsolicitedBytes += bytes;
    if (this.reportedUnsolicited) return;
    this.reportedUnsolicited = true;
    this.log.warn({ op: 'read', bytes }, 'the agent sent data no request asked for; dropped unread (reported once per connection)');
  }

  private dispatch(msg: JsonValue, w: Waiter): void {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.garbageCount++;
      return;
    }
    if (w.kind === 'sync') {
      // The sync reply carries the id as its return value, not as an "id" member.
      const ret = msg.return;
      if ((typeof ret === 'number' || typeof ret === 'bigint') && BigInt(ret) === BigInt(w.id)) w.resolve(ret);
      else this.staleCount++;
      return;
    }
    if (msg.id !== w.id) {
      this.staleCount++;
      return;
    }
    if ('return' in msg) {
      w.resolve(msg.return ?? null);
      return;
    }
    const err = msg.error;
    if (err && typeof err === 'object' && !Array.isArray(err)) {
      w.reject(agentErrorFromReply(this.vm, w.operation, typeof err.class === 'string' ? err.class : null, typeof err.desc === 'string' ? err.desc : null));
      return;
    }
    w.reject(new AgentError('E_AGENT_PROTOCOL', 'reply has neither "return" nor "error"', { vm: this.vm, operation: w.operation }));
  }

  // Detaches the current connection and drains it in the background; the next call connects anew.
  private letGo(): void {
    const s = this.socket;
    this.socket = null;
    this.synced = false;
    if (s) this.drain(s);
  }

  // Half-closes and reads (discarding) until the agent closes its side, so no unread reply is
  // left in our receive queue when the socket is released (see the file comment). A peer that
  // never closes is cut after drainMs; it was not answering, so nothing is left unread then.
  private drain(sock: Socket): void {
    const done = new Promise<void>((resolve) => {
      if (sock.destroyed) return resolve();
      const timer = setTimeout(() => sock.destroy(), this.drainMs);
      timer.unref();
      sock.removeAllListeners('data');
      sock.on('data', () => undefined);
      sock.on('error', () => undefined);
      sock.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.resume();
      sock.end();
    });
    this.draining.add(done);
    void done.then(() => this.draining.delete(done));
  }
}
