import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for one command run. */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  readonly input?: string;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  readonly timeoutMs?: number;
  /** Run inside this network namespace (`ip netns exec NAME ...`). */
  readonly netns?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory (default: ours). */
  readonly cwd?: string;
  /** Kill the command (SIGKILL) once stdout and stderr together pass this many bytes (output that may come from a guest). */
  readonly maxOutputBytes?: number;
}

/** Error for a command that could not start, timed out, or exited non-zero when that was not allowed. */
export class CommandError extends Error {
  readonly code = 'E_COMMAND';
  constructor(readonly argv: readonly string[], readonly result: CommandResult | null, reason: string, readonly kind: 'failed' | 'timeout' | 'output-limit' = 'failed') {
    super(`command failed: ${argv.join(' ')}: ${reason}${result?.stderr ? `: ${result.stderr.trim().slice(0, 500)}` : ''}`);
    this.name = 'CommandError';
  }
}

/** Runs argv (never a shell string) and resolves with its result, whatever the exit code. */
export function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : [...argv];
  const [file, ...args] = full;
  if (!file) return Promise.reject(new CommandError(full, null, 'empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let outputBytes = 0;
    let overflowed = false;
    const collect = (into: Buffer[]) => (b: Buffer): void => {
      if (overflowed) return;
      outputBytes += b.length;
      if (opts.maxOutputBytes !== undefined && outputBytes > opts.maxOutputBytes) {
        overflowed = true;
        child.kill('SIGKILL');
        return;
      }
      into.push(b);
    };
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError(full, null, (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${file}: not found (is it installed and on PATH?)` : e.message));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) reject(new CommandError(full, result, `timed out after ${opts.timeoutMs} ms`, 'timeout'));
      else if (overflowed) reject(new CommandError(full, null, `printed more than ${opts.maxOutputBytes} bytes; stopped`, 'output-limit'));
      else resolve(result);
    });
    // A command that exits before reading stdin raises EPIPE here; its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs argv and returns stdout; any non-zero exit is a CommandError naming the command. */
export async function runChecked(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await runCommand(argv, opts);
  if (r.code !== 0) {
    const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
    throw new CommandError(full, r, r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
  }
  return r.stdout;
}
