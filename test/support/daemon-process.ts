/** `daqs run` as a user starts it (bin/daqs.js in a child process), for root tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A daemon started by a test: its process and everything it printed. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  /** stdout and stderr chunks, in order. */
  readonly output: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited(): Promise<number | null>;
  /** SIGKILL if still running (test clean-up), then waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `daqs run --config configPath` from the repository root. */
export function startDaemonProcess(configPath: string): DaemonProcess {
  const child = spawn(process.execPath, ['bin/daqs.js', 'run', '--config', configPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr?.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = (): Promise<number | null> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited();
    },
  };
}
