/**
 * Running programs in the guest through guest-exec: argv only (the agent execs `path` with
 * `arg` directly, no shell ever parses our data), stdin through input-data, then
 * guest-exec-status until the program exits. The first status call that sees the exit reaps
 * the process, so the result is taken from that one call.
 */
import { AgentError } from './errors.ts';
import type { JsonValue } from '../util/json.ts';
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

/** How a guest program ended, with its decoded output. */
export interface GuestExecResult {
  readonly pid: number;
  /** null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The agent cut the stream (qemu-ga keeps at most 16 MiB per stream). */
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  /** Wall time from guest-exec to the status call that saw the exit. */
  readonly elapsedMs: number;
}

// Most guest commands (tc, cat) finish within a few ms: poll fast first, then back off. The
// first poll waits a little, since a program that was just spawned has almost never exited.
const POLL_DELAYS_MS = [2, 2, 4, 8, 16, 25];

/** Runs argv in the guest and resolves when it exits, whatever the exit code. */
export async function guestExec(agent: GuestAgent, req: GuestExecRequest): Promise<GuestExecResult> {
  const ctx = { vm: agent.vm, operation: `guest-exec ${req.path}` };
  const startedAt = performance.now();
  const timeoutMs = req.timeoutMs ?? 900;
  const deadline = Date.now() + timeoutMs;
  const callTimeoutMs = req.callTimeoutMs ?? timeoutMs;
  const args: Record<string, unknown> = { path: req.path, arg: [...(req.args ?? [])], 'capture-output': true };
  if (req.env) args.env = [...req.env];
  if (req.stdin !== undefined) args['input-data'] = Buffer.from(req.stdin).toString('base64');
  const started = await agent.execute<JsonValue>('guest-exec', args, { timeoutMs: Math.min(callTimeoutMs, timeoutMs), signal: req.signal });
  const pid = readPid(started);
  if (pid === null) throw new AgentError('E_AGENT_PROTOCOL', `guest-exec returned no pid: ${JSON.stringify(started)}`, ctx);
  for (let attempt = 0; ; attempt++) {
    if (attempt === 0) await new Promise((r) => setTimeout(r, req.firstPollMs ?? POLL_DELAYS_MS[0]));
    const st = await agent.execute<JsonValue>('guest-exec-status', { pid }, { timeoutMs: Math.min(callTimeoutMs, Math.max(1, deadline - Date.now())), signal: req.signal });
    if (st === null || typeof st !== 'object' || Array.isArray(st)) throw new AgentError('E_AGENT_PROTOCOL', 'guest-exec-status returned no object', ctx);
    if (st.exited === true) return decodeStatus(pid, st, performance.now() - startedAt);
    const wait = POLL_DELAYS_MS[Math.min(attempt + 1, POLL_DELAYS_MS.length - 1)] ?? 25;
    if (Date.now() + wait >= deadline) {
      throw new AgentError('E_EXEC_TIMEOUT', `${req.path} (pid ${pid}) still running after ${timeoutMs} ms; it keeps running in the guest`, ctx);
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Runs argv in the guest and returns stdout; a non-zero exit or a signal is E_EXEC_FAILED with stderr. */
export async function guestExecChecked(agent: GuestAgent, req: GuestExecRequest): Promise<GuestExecResult> {
  const r = await guestExec(agent, req);
  if (r.exitCode !== 0) {
    const how = r.signal !== null ? `killed by signal ${r.signal}` : `exit code ${r.exitCode}`;
    throw new AgentError('E_EXEC_FAILED', `${[req.path, ...(req.args ?? [])].join(' ')}: ${how}${r.stderr ? `: ${r.stderr.trim().slice(0, 500)}` : ''}`, {
      vm: agent.vm,
      operation: `guest-exec ${req.path}`,
    });
  }
  return r;
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
    stdout: b64(st['out-data']),
    stderr: b64(st['err-data']),
    stdoutTruncated: st['out-truncated'] === true,
    stderrTruncated: st['err-truncated'] === true,
    elapsedMs,
  };
}
