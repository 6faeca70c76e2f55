/**
 * tc's runner over a guest agent: each tc run is a guest-exec (argv only, stdin through
 * input-data) polled with guest-exec-status until it exits, through one GuestExecutor per
 * agent, so no tc the guest left running is forgotten (src/agent/guest-exec.ts).
 */
import { GuestExecutor } from '../agent/guest-exec.ts';
import type { GuestAgent } from '../agent/types.ts';
import type { TcRunner, TcRunRequest, TcRunResult } from '../tc/runner.ts';
import type { Logger } from '../util/log.ts';

/**
 * Longest guest-exec-status reply read for a tc run. daqs only ever asks tc for one class and
 * one qdisc of one interface (under 2 KB of text); a guest whose "tc" prints more is lying.
 */
export const TC_STATUS_MAX_REPLY_BYTES = 64 * 1024;

/** Runs tc in the guest through its agent. */
export class GuestExecTcRunner implements TcRunner {
  readonly vm: string;
  private readonly exec: GuestExecutor;
  // Typical tc run time in this guest: the first status poll waits most of it instead of polling an unfinished tc.
  private typicalExecMs: number | null = null;

  constructor(agent: GuestAgent, opts: { readonly logger?: Logger } = {}) {
    this.vm = agent.vm;
    this.exec = new GuestExecutor(agent, { maxStatusReplyBytes: TC_STATUS_MAX_REPLY_BYTES, ...(opts.logger ? { logger: opts.logger } : {}) });
  }

  /** Runs tc and resolves with how it exited; an agent failure or timeout rejects (outcome unknown). */
  async run(req: TcRunRequest): Promise<TcRunResult> {
    const firstPollMs = this.typicalExecMs === null ? undefined : Math.min(50, Math.max(1, this.typicalExecMs * 0.7));
    const r = await this.exec.run({ ...req, firstPollMs });
    this.typicalExecMs = this.typicalExecMs === null ? r.elapsedMs : 0.8 * this.typicalExecMs + 0.2 * r.elapsedMs;
    return r;
  }

  /** Stops asking about tc runs left running (the agent is closing). */
  stop(): void {
    this.exec.stop();
  }
}
