/**
 * A scripted qemu-ga: a real unix-socket server that speaks the agent protocol and answers
 * from a handler. It behaves like qemu-ga where the client depends on it (one request at a
 * time per connection, 0xFF flushes a half-read request, guest-sync-delimited answers with a
 * leading 0xFF, replies echo the id) and can misbehave on demand: garbage, truncated JSON,
 * stale replies, a hang, a disconnect mid-reply, huge output. Tests and the simulator use it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { parseJsonBig, stringifyJsonBig, type JsonValue } from '../util/json.ts';

/** One request as the fake agent received it. */
export interface FakeRequest {
  readonly execute: string;
  readonly arguments: { readonly [key: string]: JsonValue };
  /** The request id, echoed in normal replies; undefined when the client sent none. */
  readonly id: JsonValue | undefined;
  /** 1 for the first connection, 2 after a reconnect, ... */
  readonly connection: number;
}

/** What the fake does with one request. */
export type FakeReply =
  | { readonly return: unknown }
  | { readonly error: { readonly class: string; readonly desc: string } }
  /** Bytes written as they are (garbage, truncated JSON, a stale reply with an old id). */
  | { readonly raw: string | Buffer }
  /** Never answers and stops reading this connection, like an agent stuck in a command. */
  | { readonly hang: true }
  /** Writes `partial` (if any) and closes the connection. */
  | { readonly disconnect: true; readonly partial?: string }
  | { readonly delayMs: number; readonly then: FakeReply }
  /** Several actions in order, e.g. a stale reply followed by the real one. */
  | { readonly sequence: readonly FakeReply[] };

/** Decides the fake's reply; `undefined` falls back to the built-in sync handling or CommandNotFound. */
export type FakeHandler = (req: FakeRequest) => FakeReply | undefined | Promise<FakeReply | undefined>;

/** A running fake agent. */
export interface FakeAgent {
  readonly socketPath: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /**
   * Writes bytes nobody asked for to every open connection (a hostile or broken agent);
   * resolves when the kernel took them (the socket drained), so a flood keeps its own pace.
   */
  send(data: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Starts a fake agent listening on socketPath (removed first if left over). */
export async function startFakeAgent(socketPath: string, handler: FakeHandler): Promise<FakeAgent> {
  await rm(socketPath, { force: true });
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((sock) => {
    connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    serveConnection(sock, connections, handler);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    get connections() {
      return connections;
    },
    async send(data) {
      // Always yield once: a flood loop over no connection must not starve the event loop.
      await new Promise((r) => setImmediate(r));
      await Promise.all([...sockets].map((s) => new Promise<void>((resolve) => {
        if (s.destroyed || s.write(data)) return resolve();
        const done = (): void => {
          s.off('drain', done);
          s.off('close', done);
          resolve();
        };
        s.on('drain', done);
        s.on('close', done);
      })));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

function serveConnection(sock: Socket, connection: number, handler: FakeHandler): void {
  let buf = Buffer.alloc(0);
  const lines: string[] = [];
  let busy = false;
  let hung = false;

  const pump = async (): Promise<void> => {
    if (busy || hung) return;
    busy = true;
    while (lines.length > 0 && !hung && !sock.destroyed) {
      const line = lines.shift() ?? '';
      await handleLine(line);
    }
    busy = false;
  };

  const write = (data: string | Buffer): void => {
    if (!sock.destroyed) sock.write(data);
  };

  const act = async (reply: FakeReply, id: JsonValue | undefined): Promise<void> => {
    if ('sequence' in reply) {
      for (const r of reply.sequence) await act(r, id);
    } else if ('delayMs' in reply) {
      await new Promise((r) => setTimeout(r, reply.delayMs));
      await act(reply.then, id);
    } else if ('hang' in reply) {
      hung = true;
    } else if ('disconnect' in reply) {
      if (reply.partial) write(reply.partial);
      sock.end();
      sock.destroySoon();
    } else if ('raw' in reply) {
      write(reply.raw);
    } else {
      write(`${stringifyJsonBig(id === undefined ? { ...reply } : { ...reply, id })}\n`);
    }
  };

  const handleLine = async (line: string): Promise<void> => {
    let msg: JsonValue;
    try {
      msg = parseJsonBig(line);
    } catch {
      write(`${JSON.stringify({ error: { class: 'GenericError', desc: 'JSON parse error' } })}\n`);
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.execute !== 'string') {
      write(`${JSON.stringify({ error: { class: 'GenericError', desc: 'Invalid JSON syntax' } })}\n`);
      return;
    }
    const args = msg.arguments && typeof msg.arguments === 'object' && !Array.isArray(msg.arguments) ? msg.arguments : {};
    const req: FakeRequest = { execute: msg.execute, arguments: args, id: msg.id, connection };
    let reply: FakeReply | undefined;
    try {
      reply = await handler(req);
    } catch (e) {
      reply = { error: { class: 'GenericError', desc: `fake handler threw: ${(e as Error).message}` } };
    }
    if (reply === undefined) reply = builtinReply(req);
    await act(reply, req.id);
  };

  const takeLines = (): void => {
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const line = buf.subarray(0, nl).toString('utf8').trim();
      buf = buf.subarray(nl + 1);
      if (line.length > 0) lines.push(line);
    }
  };

  sock.on('data', (chunk: Buffer) => {
    let data = chunk;
    let ff: number;
    // 0xFF makes qemu-ga drop the request it was half-way through reading, as resync relies on.
    while ((ff = data.indexOf(0xff)) >= 0) {
      buf = Buffer.concat([buf, data.subarray(0, ff)]);
      takeLines();
      buf = Buffer.alloc(0);
      data = data.subarray(ff + 1);
    }
    buf = Buffer.concat([buf, data]);
    takeLines();
    void pump();
  });
}

function builtinReply(req: FakeRequest): FakeReply {
  if (req.execute === 'guest-sync-delimited') {
    return { raw: Buffer.concat([Buffer.from([0xff]), Buffer.from(`${stringifyJsonBig({ return: req.arguments.id ?? null })}\n`)]) };
  }
  if (req.execute === 'guest-sync' || req.execute === 'guest-ping') return { return: req.execute === 'guest-sync' ? (req.arguments.id ?? null) : {} };
  return { error: { class: 'CommandNotFound', desc: `The command ${req.execute} has not been found` } };
}
