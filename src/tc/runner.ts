/**
 * What src/tc needs to run tc somewhere: argv in, exit status and output out. The
 * VM endpoint (src/endpoint) implements it over the guest agent's guest-exec; src/tc knows
 * nothing of agents, so either side can change without the other.
 */

/** One tc run. */
export interface TcRunRequest {
  /** The tc binary (a path, or a name the target's PATH resolves). */
  readonly path: string;
  /** argv after the program; never a shell string. */
  readonly args: readonly string[];
  /** Bound on the whole run; a run that exceeds it rejects and its outcome is unknown. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** How a tc run ended. */
export interface TcRunResult {
  /** null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs tc in one VM; rejects only when the run's outcome is unknown (timeout, lost connection). */
export interface TcRunner {
  /** The VM tc runs in, for errors and logs. */
  readonly vm: string;
  run(req: TcRunRequest): Promise<TcRunResult>;
}
