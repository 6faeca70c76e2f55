/**
 * tc's runner over a guest agent: each tc run is a guest-exec (argv only, stdin through
 * input-data) polled with guest-exec-status until it exits.
 */
import { guestExec } from '../agent/guest-exec.ts';
import type { GuestAgent } from '../agent/types.ts';
import type { TcRunner, TcRunRequest, TcRunResult } from '../tc/runner.ts';

/** Runs tc in the guest through its agent. */
export class GuestExecTcRunner implements TcRunner {
  readonly vm: string;
  // Typical tc run time in this guest: the first status poll waits most of it instead of polling an unfinished tc.
  private typicalExecMs: number | null = null;

  constructor(private readonly agent: GuestAgent) {
    this.vm = agent.vm;
  }

  /** Runs tc and resolves with how it exited; an agent failure or timeout rejects (outcome unknown). */
  async run(req: TcRunRequest): Promise<TcRunResult> {
    const firstPollMs = this.typicalExecMs === null ? undefined : Math.min(50, Math.max(1, this.typicalExecMs * 0.7));
    const r = await guestExec(this.agent, { ...req, firstPollMs });
    this.typicalExecMs = this.typicalExecMs === null ? r.elapsedMs : 0.8 * this.typicalExecMs + 0.2 * r.elapsedMs;
    return r;
  }
}
