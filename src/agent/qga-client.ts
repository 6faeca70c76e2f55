/**
 * qemu-ga over a unix socket (plain QEMU chardev, a daqs-owned channel, or the emulated host).
 * qemu-ga serves one client and runs one command at a time, so this client owns its socket,
 * queues calls, and keeps exactly one request in flight. Every request carries an id and only
 * the reply with that id resolves it; after a timeout the stream may still hold the old reply,
 * so the next call first resyncs with guest-sync-delimited (0xFF flush, discard to sentinel).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { randomInt } from 'node:crypto';
import type { Logger } from '../util/log.ts';
import { silentLogger } from '../util/log.ts';
import { AgentError, agentErrorFromReply } from './errors.ts';
import { parseJsonBig, stringifyJsonBig, type JsonValue } from '../util/json.ts';
import { LineReader } from './line-reader.ts';
import type { ExecuteOptions, GuestAgent } from './types.ts';

/** Construction options of QgaClient. */
export interface QgaClientOptions {
  readonly socketPath: string;
  /** VM name for errors and logs (default: the socket path). */
  readonly vm?: string;
  readonly logger?: Logger;
  /** Default bound on one call, connect and resync included (default 500 ms: below a tick's budget). */
  readonly defaultTimeoutMs?: number;
  /** First wait after a failed connect or resync; doubles up to backoffMaxMs (defaults 100 / 5000 ms). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Longest reply line accepted (default 64 MiB: guest-exec-status carries up to 2 x 16 MiB base64). */
  readonly maxLineBytes?: number;
}

type Waiter = {
  readonly id: number;
  readonly kind: 'command' | 'sync';
  readonly operation: string;
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

/** A qemu-ga client over a unix socket: queued, id-matched, resyncing, reconnecting with backoff. */
export class QgaClient implements GuestAgent {
  readonly vm: string;
  private readonly path: string;
  private readonly log: Logger;
  private readonly defaultTimeoutMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly reader: LineReader;
  private socket: Socket | null = null;
  private synced = false;
  private waiter: Waiter | null = null;
  private nextId = firstId();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private backoffMs: number;
  private retryAtMs = 0;
  private readonly disabled = new Set<string>();
  private readonly reportedDisabled = new Set<string>();
  private staleCount = 0;
  private garbageCount = 0;

  constructor(opts: QgaClientOptions) {
    this.path = resolvePath(opts.socketPath);
    this.vm = opts.vm ?? opts.socketPath;
    if (owners.has(this.path)) {
      throw new AgentError('E_AGENT_SOCKET_OWNED', `another client in this process already owns ${this.path}; share that client instead of opening a second one (qemu-ga serves one client)`, { vm: this.vm, operation: 'connect' });
    }
    owners.add(this.path);
    this.log = (opts.logger ?? silentLogger).child({ vm: this.vm });
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 500;
    this.backoffInitialMs = opts.backoffInitialMs ?? 100;
    this.backoffMaxMs = opts.backoffMaxMs ?? 5000;
    this.backoffMs = this.backoffInitialMs;
    this.reader = new LineReader(opts.maxLineBytes ?? 64 * 1024 * 1024);
  }

  /** Counts of replies ignored so far (stale ids, unparseable lines), for tests and diagnostics. */
  get ignored(): { readonly stale: number; readonly garbage: number } {
    return { stale: this.staleCount, garbage: this.garbageCount };
  }

  /** Runs one command; see GuestAgent.execute. */
  execute<T = JsonValue>(command: string, args?: Readonly<Record<string, unknown>>, opts: ExecuteOptions = {}): Promise<T> {
    const run = (): Promise<T> => this.runOne(command, args, opts) as Promise<T>;
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Closes the socket and releases ownership; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    owners.delete(this.path);
    this.drop(new AgentError('E_AGENT_CLOSED', 'client closed', { vm: this.vm, operation: this.waiter?.operation ?? 'close' }));
    await this.tail;
  }

  private async runOne(command: string, args: Readonly<Record<string, unknown>> | undefined, opts: ExecuteOptions): Promise<JsonValue> {
    const ctx = { vm: this.vm, operation: command };
    if (this.closed) throw new AgentError('E_AGENT_CLOSED', 'client closed', ctx);
    if (opts.signal?.aborted) throw new AgentError('E_AGENT_ABORTED', 'aborted before it was sent', ctx);
    if (this.disabled.has(command)) {
      // Reported once already; asking again would only repeat the operator's refusal every tick.
      throw agentErrorFromReply(this.vm, command, 'CommandNotFound', `Command ${command} has been disabled`);
    }
    const deadline = Date.now() + (opts.timeoutMs ?? this.defaultTimeoutMs);
    await this.ensureReady(deadline, command);
    const id = this.nextId++;
    const request = stringifyJsonBig(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    try {
      return await this.roundTrip({ id, kind: 'command', operation: command }, `${request}\n`, deadline, opts.signal);
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
    const now = Date.now();
    if (!this.socket && now < this.retryAtMs) {
      throw new AgentError('E_AGENT_UNAVAILABLE', `agent at ${this.path} unreachable; next reconnect attempt in ${this.retryAtMs - now} ms`, { vm: this.vm, operation });
    }
    try {
      if (!this.socket) await this.connect(deadline, operation);
      await this.resync(deadline);
      this.backoffMs = this.backoffInitialMs;
    } catch (e) {
      this.disconnect();
      this.retryAtMs = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.backoffMaxMs);
      throw e;
    }
  }

  private connect(deadline: number, operation: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = netConnect(this.path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new AgentError('E_AGENT_TIMEOUT', `connecting to ${this.path} timed out`, { vm: this.vm, operation }));
      }, Math.max(1, deadline - Date.now()));
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new AgentError('E_AGENT_UNAVAILABLE', `cannot connect to ${this.path}: ${e.code ?? e.message} (is qemu-ga running and is this the agent's socket?)`, { vm: this.vm, operation, cause: e }));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        this.attach(sock);
        this.log.debug({ op: 'connect' }, 'agent connected');
        resolve();
      });
    });
  }

  private attach(sock: Socket): void {
    this.socket = sock;
    this.synced = false;
    this.disabled.clear();
    this.reader.reset();
    sock.on('data', (b: Buffer) => this.onData(b));
    sock.on('error', (e) => this.log.debug({ err: e }, 'agent socket error'));
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.socket = null;
      this.synced = false;
      this.retryAtMs = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.backoffMaxMs);
      const w = this.waiter;
      if (w) {
        this.waiter = null;
        w.reject(new AgentError('E_AGENT_DISCONNECTED', 'agent closed the connection before replying', { vm: this.vm, operation: w.operation }));
      }
    });
  }

  private resync(deadline: number): Promise<void> {
    const id = this.nextId++;
    this.reader.discardUntilSentinel();
    // The leading 0xFF makes the agent drop any half-read request; its parse-error reply comes before the sentinel.
    const request = Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"execute":"guest-sync-delimited","arguments":{"id":${id}}}\n`)]);
    return this.roundTrip({ id, kind: 'sync', operation: 'guest-sync-delimited' }, request, deadline).then(() => {
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
        if (this.waiter === waiter) this.waiter = null;
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
      // A reply may still come after we stop waiting: force a resync so it is discarded, not taken for the next answer.
      const giveUp = (e: AgentError): void => {
        this.synced = false;
        waiter.reject(e);
        if (w.kind === 'sync') this.disconnect();
      };
      const timer = setTimeout(() => giveUp(new AgentError('E_AGENT_TIMEOUT', `no reply before the call's deadline (timeoutMs); the agent is slow or hung`, { vm: this.vm, operation: w.operation })), Math.max(1, deadline - Date.now()));
      const onAbort = (): void => giveUp(new AgentError('E_AGENT_ABORTED', 'aborted while waiting for the reply', { vm: this.vm, operation: w.operation }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = waiter;
      sock.write(request);
    });
  }

  private onData(b: Buffer): void {
    for (const ev of this.reader.push(b)) {
      const w = this.waiter;
      if (ev.kind === 'overflow') {
        this.garbageCount++;
        this.log.warn({ bytes: ev.bytes }, 'agent reply line over the size limit, dropped');
        if (w) {
          this.synced = false;
          w.reject(new AgentError('E_AGENT_PROTOCOL', `reply of ${ev.bytes} bytes exceeds maxLineBytes`, { vm: this.vm, operation: w.operation }));
        }
        continue;
      }
      let msg: JsonValue;
      try {
        msg = parseJsonBig(ev.text);
      } catch {
        this.garbageCount++;
        this.log.debug({ line: ev.text.slice(0, 200) }, 'unparseable agent output ignored');
        continue;
      }
      this.dispatch(msg, w);
    }
  }

  private dispatch(msg: JsonValue, w: Waiter | null): void {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.garbageCount++;
      return;
    }
    if (w?.kind === 'sync') {
      // The sync reply carries the id as its return value, not as an "id" member.
      const ret = msg.return;
      if ((typeof ret === 'number' || typeof ret === 'bigint') && BigInt(ret) === BigInt(w.id)) w.resolve(ret);
      else this.staleCount++;
      return;
    }
    if (!w || msg.id !== w.id) {
      this.staleCount++;
      this.log.debug({ id: typeof msg.id === 'bigint' ? msg.id.toString() : msg.id }, 'stale or unsolicited agent reply ignored');
      return;
    }
    if ('return' in msg) {
      w.resolve(msg.return ?? null);
      return;
    }
    const err = msg.error;
    if (err && typeof err === 'object' && !Array.isArray(err)) {
      const cls = typeof err.class === 'string' ? err.class : null;
      const desc = typeof err.desc === 'string' ? err.desc : null;
      w.reject(agentErrorFromReply(this.vm, w.operation, cls, desc));
      return;
    }
    w.reject(new AgentError('E_AGENT_PROTOCOL', 'reply has neither "return" nor "error"', { vm: this.vm, operation: w.operation }));
  }

  private disconnect(): void {
    const s = this.socket;
    this.socket = null;
    this.synced = false;
    s?.destroy();
  }

  private drop(e: AgentError): void {
    const w = this.waiter;
    this.waiter = null;
    this.disconnect();
    w?.reject(e);
  }
}
