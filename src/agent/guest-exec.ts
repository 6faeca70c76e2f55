/**
 * Running programs in the guest through guest-exec: argv only (the agent execs `path` with
 * `arg` directly, no shell ever parses our data), stdin through input-data, then
 * guest-exec-status until the program exits.
 *
 * qemu-ga keeps every program it started (its pid, exit status and up to 16 MiB of output per
 * stream) until a guest-exec-status call sees it exited; a pid nobody asks about again stays
 * in the agent for ever. (Its processes are reaped by glib, so they do not linger as zombies;
 * the agent's bookkeeping and buffers do.) So a GuestExecutor remembers every pid it started
 * until it has seen it exit: a run that gives up (timeout, abort, lost connection) leaves its
 * pid to a background poll, and no more than maxUnreaped programs are ever outstanding in
 * one guest: beyond that a run is refused (E_EXEC_BUSY) instead of piling up processes in a
 * guest whose programs do not finish.
 */
import { guestLines, guestText } from '../util/guest-text.ts';
import type { JsonValue } from '../util/json.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { AgentError } from './errors.ts';
import type { GuestAgent } from './types.ts';

/** What to run in the guest. */
export interface GuestExecRequest {
  /** Program path inside the guest, e.g. "/usr/sbin/tc" (or a name the guest's PATH resolves). */
  readonly path: string;
  readonly args?: readonly string[];
  /** "NAME=value" entries. */
  readonly env?: readonly string[];
  /** Bytes for the program's stdin. */
  readonly stdin?: string | Buffer;
  /** Bound on the whole run, start to exit (default 900 ms). */
  readonly timeoutMs?: number;
  /** Bound on each agent call (default: timeoutMs; the run's deadline bounds every call anyway). */
  readonly callTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Wait before the first status poll (default 2 ms); callers that know how long the program usually runs pass that, saving polls. */
  readonly firstPollMs?: number;
}

/** How a guest program ended, with its output cleaned for daqs' use (src/util/guest-text.ts). */
export interface GuestExecResult {
  readonly pid: number;
  /** null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: number | null;
  /** The program's stdout, each line cleaned and cut to 200 characters (line breaks kept for parsers). */
  readonly stdout: string;
  /** The program's stderr as one cleaned line of at most 200 characters (it only ever goes into messages and matches). */
  readonly stderr: string;
  /** The agent cut the stream (qemu-ga keeps at most 16 MiB per stream). */
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  /** Wall time from guest-exec to the status call that saw the exit. */
  readonly elapsedMs: number;
}

/** Options of a GuestExecutor. */
export interface GuestExecutorOptions {
  /** Programs started and not yet seen exited, at most (default 2); a run beyond that is refused with E_EXEC_BUSY. */
  readonly maxUnreaped?: number;
  /** Longest guest-exec-status reply accepted, output included (default: the agent's bound, 1 MiB). */
  readonly maxStatusReplyBytes?: number;
  /** Between background polls of programs a run gave up on (default 1000 ms). */
  readonly reapIntervalMs?: number;
  readonly logger?: Logger;
}

// Most guest commands (tc, cat) finish within a few ms: poll fast first, then back off. The
// first poll waits a little, since a program that was just spawned has almost never exited.
const POLL_DELAYS_MS = [2, 2, 4, 8, 16, 25];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type StatusOutcome = { readonly kind: 'exited'; readonly status: { readonly [k: string]: JsonValue } } | { readonly kind: 'running' } | { readonly kind: 'gone' };

/** Runs programs in one guest and keeps asking about each until the agent says it exited. */
export class GuestExecutor {
  readonly vm: string;
  private readonly maxUnreaped: number;
  private readonly maxStatusReplyBytes: number | undefined;
  private readonly reapIntervalMs: number;
  private readonly log: Logger;
  // pids started and not seen exited; plus runs between guest-exec and its pid (a slot each).
  private readonly unreapedPids = new Set<number>();
  private starting = 0;
  private reapTimer: NodeJS.Timeout | null = null;
  private reaping: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly agent: GuestAgent, opts: GuestExecutorOptions = {}) {
    this.vm = agent.vm;
    this.maxUnreaped = opts.maxUnreaped ?? 2;
    this.maxStatusReplyBytes = opts.maxStatusReplyBytes;
    this.reapIntervalMs = opts.reapIntervalMs ?? 1000;
    this.log = (opts.logger ?? silentLogger).child({ vm: agent.vm });
  }

  /** pids this executor started whose exit the agent has not reported yet. */
  get unreaped(): readonly number[] {
    return [...this.unreapedPids];
  }

  /** Runs argv in the guest and resolves when it exits, whatever the exit code; E_EXEC_BUSY while too many earlier programs are still out. */
  async run(req: GuestExecRequest): Promise<GuestExecResult> {
    const ctx = { vm: this.vm, operation: `guest-exec ${guestText(req.path, 64)}` };
    const startedAt = performance.now();
    const timeoutMs = req.timeoutMs ?? 900;
    const deadline = startedAt + timeoutMs;
    const callTimeoutMs = req.callTimeoutMs ?? timeoutMs;
    const callMs = (): number => Math.max(1, Math.min(callTimeoutMs, deadline - performance.now()));
    if (this.unreapedPids.size + this.starting >= this.maxUnreaped) await this.reapOnce(req.signal, callMs());
    if (this.unreapedPids.size + this.starting >= this.maxUnreaped) {
      throw new AgentError('E_EXEC_BUSY', `${this.unreapedPids.size + this.starting} programs started earlier in the guest have not exited yet (pids ${this.unreaped.join(', ') || 'unknown'}); not starting another until they do`, ctx);
    }
    const args: Record<string, unknown> = { path: req.path, arg: [...(req.args ?? [])], 'capture-output': true };
    if (req.env) args.env = [...req.env];
    if (req.stdin !== undefined) args['input-data'] = Buffer.from(req.stdin).toString('base64');
    this.starting++;
    let pid: number | null;
    try {
      // A guest-exec that times out may still have started the program; its pid is then
      // unknown and the agent keeps it (nothing can be done about that one).
      pid = readPid(await this.agent.execute<JsonValue>('guest-exec', args, { timeoutMs: callMs(), signal: req.signal }));
    } finally {
      this.starting--;
    }
    if (pid === null) throw new AgentError('E_AGENT_PROTOCOL', 'guest-exec returned no pid', ctx);
    this.unreapedPids.add(pid);
    try {
      for (let attempt = 0; ; attempt++) {
        if (attempt === 0) await sleep(req.firstPollMs ?? POLL_DELAYS_MS[0] ?? 2);
        const outcome = await this.status(pid, callMs(), req.signal);
        if (outcome.kind === 'exited') return decodeStatus(pid, outcome.status, performance.now() - startedAt);
        if (outcome.kind === 'gone') throw new AgentError('E_AGENT_COMMAND', `the agent no longer knows pid ${pid} (restarted?); the program's outcome is unknown`, ctx);
        const wait = POLL_DELAYS_MS[Math.min(attempt + 1, POLL_DELAYS_MS.length - 1)] ?? 25;
        if (performance.now() + wait >= deadline) {
          throw new AgentError('E_EXEC_TIMEOUT', `${guestText(req.path, 64)} (pid ${pid}) still running after ${timeoutMs} ms; it keeps running in the guest, and daqs keeps asking about it until it exits`, ctx);
        }
        await sleep(wait);
      }
    } finally {
      if (this.unreapedPids.has(pid)) this.scheduleReap();
    }
  }

  /** Stops the background polling (the agent is being closed). */
  stop(): void {
    this.stopped = true;
    if (this.reapTimer) clearTimeout(this.reapTimer);
    this.reapTimer = null;
  }

  // One guest-exec-status call; its answer settles the pid's bookkeeping whatever the caller does next.
  private async status(pid: number, timeoutMs: number, signal?: AbortSignal): Promise<StatusOutcome> {
    let st: JsonValue;
    try {
      st = await this.agent.execute<JsonValue>('guest-exec-status', { pid }, { timeoutMs, signal, ...(this.maxStatusReplyBytes === undefined ? {} : { maxReplyBytes: this.maxStatusReplyBytes }) });
    } catch (e) {
      if (e instanceof AgentError && (e.code === 'E_AGENT_COMMAND' || e.code === 'E_AGENT_PROTOCOL')) {
        // "Invalid parameter 'pid'": reaped already or the agent restarted. A reply over the
        // bound was an exited status (only those carry output): the agent dropped the pid when
        // it sent it. Either way the agent holds nothing more for this pid.
        this.unreapedPids.delete(pid);
        if (e.code === 'E_AGENT_COMMAND') return { kind: 'gone' };
      }
      throw e;
    }
    if (st === null || typeof st !== 'object' || Array.isArray(st)) {
      this.unreapedPids.delete(pid);
      throw new AgentError('E_AGENT_PROTOCOL', 'guest-exec-status returned no object', { vm: this.vm, operation: 'guest-exec-status' });
    }
    if (st.exited !== true) return { kind: 'running' };
    this.unreapedPids.delete(pid);
    return { kind: 'exited', status: st };
  }

  private scheduleReap(): void {
    if (this.stopped || this.reapTimer || this.unreapedPids.size === 0) return;
    this.reapTimer = setTimeout(() => {
      this.reapTimer = null;
      void this.reapOnce(undefined, 500).then(() => this.scheduleReap());
    }, this.reapIntervalMs);
    this.reapTimer.unref();
  }

  // Asks once about every outstanding pid; concurrent callers share the pass.
  private reapOnce(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    this.reaping ??= (async () => {
      for (const pid of [...this.unreapedPids]) {
        try {
          const outcome = await this.status(pid, timeoutMs, signal);
          if (outcome.kind !== 'running') this.log.debug({ op: 'guest-exec-reap', pid }, 'a program daqs gave up on has exited');
        } catch (e) {
          if (e instanceof AgentError && e.code === 'E_AGENT_CLOSED') {
            this.stop();
            return;
          }
          // Timeout, lost connection: asked again at the next pass.
        }
      }
    })().finally(() => {
      this.reaping = null;
    });
    return this.reaping;
  }
}

function readPid(v: JsonValue): number | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return typeof v.pid === 'number' && Number.isSafeInteger(v.pid) ? v.pid : null;
}

function decodeStatus(pid: number, st: { readonly [k: string]: JsonValue }, elapsedMs: number): GuestExecResult {
  const b64 = (v: JsonValue | undefined): string => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
  return {
    pid,
    exitCode: typeof st.exitcode === 'number' ? st.exitcode : null,
    signal: typeof st.signal === 'number' ? st.signal : null,
    stdout: guestLines(b64(st['out-data'])),
    stderr: guestText(b64(st['err-data'])),
    stdoutTruncated: st['out-truncated'] === true,
    stderrTruncated: st['err-truncated'] === true,
    elapsedMs,
  };
}
