/**
 * iperf2 senders inside a real guest, started and stopped through the testbed's own qemu-ga
 * channel (guest-exec with an argv, never a shell string). Calls on one channel are queued:
 * a QEMU socket chardev serves one client at a time.
 */
import { agentCall, type AgentReply } from './agent-probe.ts';
import { TestbedError } from './errors.ts';
import type { IperfClient } from './traffic.ts';

const CALL_TIMEOUT_MS = 10_000;
const POLL_MS = 1000;

function ok<T>(reply: AgentReply, what: string, socket: string): T {
  if ('error' in reply) throw new TestbedError('E_TESTBED_AGENT', `guest ${what} over ${socket}: ${reply.error.class}: ${reply.error.desc.slice(0, 300)}`);
  return reply.return as T;
}

/** The testbed's control channel into one real guest. */
export class GuestControl {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly socket: string) {}

  private call<T>(execute: string, args: Record<string, unknown>): Promise<T> {
    const run = this.queue.then(async () => ok<T>(await agentCall(this.socket, execute, args, CALL_TIMEOUT_MS), execute, this.socket));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Starts `argv` in the guest (found on the guest's PATH); resolves with its pid there. */
  async exec(argv: readonly string[]): Promise<number> {
    const [path, ...arg] = argv;
    if (!path) throw new TestbedError('E_TESTBED_RATE', 'empty argv for guest-exec');
    return (await this.call<{ pid: number }>('guest-exec', { path, arg, 'capture-output': true })).pid;
  }

  /** Whether guest process `pid` (started by exec) has exited, and its exit code. */
  async status(pid: number): Promise<{ exited: boolean; exitcode: number | null }> {
    const st = await this.call<{ exited: boolean; exitcode?: number }>('guest-exec-status', { pid });
    return { exited: st.exited, exitcode: st.exitcode ?? null };
  }

  /** Runs `argv` in the guest to completion (bounded); resolves with its exit code. */
  async run(argv: readonly string[], timeoutMs = 5000): Promise<number | null> {
    const pid = await this.exec(argv);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await this.status(pid);
      if (st.exited) return st.exitcode;
      if (Date.now() > deadline) throw new TestbedError('E_TESTBED_AGENT', `guest ${argv.join(' ')} did not exit within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts iperf2 (argv from iperfClientArgv with path "iperf") in the guest behind `ctl`. */
export async function startGuestIperf(ctl: GuestControl, argv: readonly string[]): Promise<IperfClient> {
  const pid = await ctl.exec(argv);
  let done = false;
  let resolveExit: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((r) => {
    resolveExit = (code) => {
      done = true;
      r(code);
    };
  });
  const poll = async (): Promise<void> => {
    if (done) return;
    try {
      const st = await ctl.status(pid);
      if (st.exited) {
        resolveExit(st.exitcode);
        return;
      }
    } catch {
      // The guest or its channel is gone: so is the sender.
      resolveExit(-1);
      return;
    }
    setTimeout(() => void poll(), POLL_MS).unref();
  };
  setTimeout(() => void poll(), POLL_MS).unref();
  return {
    pid,
    exited,
    async stop() {
      if (done) return;
      await ctl.run(['kill', '-TERM', String(pid)]).catch(() => undefined);
      const killed = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 3000))]);
      if (killed === 'late') {
        await ctl.run(['kill', '-KILL', String(pid)]).catch(() => undefined);
        resolveExit(null);
      }
    },
  };
}
