/**
 * A tiny one-shot qemu-ga client: enough to see that a testbed VM's agent answers and to let
 * the testbed's own tests drive it. The daemon's real agent client lives in src/agent.
 */
import { connect } from 'node:net';
import { TestbedError } from './errors.ts';

/** What the agent answered: its `return` value, or its error class and description. */
export type AgentReply = { readonly return: unknown } | { readonly error: { readonly class: string; readonly desc: string } };

/**
 * Connects to `socketPath`, resynchronises with guest-sync-delimited (0xFF flush, then skip to
 * the 0xFF before the reply), runs `execute` if given, and closes. Resolves with the reply to
 * `execute`, or with the sync reply when `execute` is omitted.
 */
export function agentCall(socketPath: string, execute?: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<AgentReply> {
  // Below 2^53 so it survives JSON.parse; random so a stale reply cannot pass for ours.
  const syncId = Math.floor(Math.random() * 2 ** 40);
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = Buffer.alloc(0);
    let synced = false;
    const fail = (why: string, cause?: unknown): void => {
      clearTimeout(timer);
      // Never an abrupt close while a reply may be on its way: qemu-ga 7.2 exits when its client
      // closes with a reply unread (ECONNRESET). Half-close and read to the end instead.
      sock.removeAllListeners('data');
      sock.on('data', () => undefined);
      sock.end();
      setTimeout(() => sock.destroy(), 2000).unref();
      reject(new TestbedError('E_TESTBED_AGENT', `qemu-ga at ${socketPath}${execute ? ` (${execute})` : ''}: ${why}`, { cause }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.on('error', (e) => {
      // A broken socket has nothing left to read: closing it is safe.
      sock.destroy();
      fail(e.message, e);
    });
    sock.on('connect', () => {
      sock.write(Buffer.from([0xff]));
      sock.write(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id: syncId } })}\n`);
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!synced) {
          const ff = buf.indexOf(0xff);
          if (ff < 0) { buf = Buffer.alloc(0); return; }
          buf = buf.subarray(ff + 1);
        }
        const nl = buf.indexOf(0x0a);
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('utf8').trim();
        buf = buf.subarray(nl + 1);
        let msg: { return?: unknown; error?: { class: string; desc: string } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch (e) {
          fail(`unparsable reply ${JSON.stringify(line.slice(0, 200))}`, e);
          return;
        }
        if (!synced) {
          if (msg.return !== syncId) continue; // a stale reply: keep looking for ours
          synced = true;
          if (!execute) { clearTimeout(timer); sock.end(); resolve({ return: msg.return }); return; }
          sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
          continue;
        }
        clearTimeout(timer);
        sock.end();
        resolve(msg.error ? { error: msg.error } : { return: msg.return });
        return;
      }
    });
  });
}

/**
 * Polls until the agent at `socketPath` answers guest-sync-delimited, or throws after
 * `timeoutMs`, or as soon as `isGone` says the agent process died (no point waiting then).
 */
export async function waitForAgent(socketPath: string, timeoutMs = 10_000, isGone?: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    if (isGone && (await isGone())) {
      throw new TestbedError('E_TESTBED_AGENT', `qemu-ga for ${socketPath} exited before answering; see qemu-ga.log in its state directory.`);
    }
    try {
      await agentCall(socketPath, undefined, undefined, Math.max(500, deadline - performance.now()));
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new TestbedError('E_TESTBED_AGENT', `qemu-ga at ${socketPath} did not answer guest-sync-delimited within ${timeoutMs} ms: ${(last as Error | undefined)?.message ?? 'no attempt'}`, { cause: last });
}
