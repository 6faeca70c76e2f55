/** iperf2 senders inside a VM namespace: the paper's traffic, real TCP through the emulated NIC. */
import { spawn } from 'node:child_process';
import { TestbedError } from './errors.ts';

/** iperf2's default server port; one shared server in the remote namespace takes every VM's flows. */
export const IPERF_PORT = 5001;

// Long enough to outlast any experiment; stop() (or `down`) ends it earlier.
const UNTIL_STOPPED_S = 86_400;

/** Traffic settings for one VM. */
export interface IperfClientOptions {
  readonly threads: number;
  readonly perThreadRateBps?: number;
  readonly durationS?: number;
}

/** iperf2 client argv (without the namespace wrapper), refusing settings iperf would misread. */
export function iperfClientArgv(iperf: string, serverIp: string, opts: IperfClientOptions): string[] {
  if (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 128) {
    throw new TestbedError('E_TESTBED_RATE', `traffic threads ${opts.threads}: use a whole number from 1 to 128.`);
  }
  const durationS = opts.durationS ?? UNTIL_STOPPED_S;
  if (!Number.isFinite(durationS) || durationS <= 0) {
    throw new TestbedError('E_TESTBED_RATE', `traffic duration ${durationS} s: use a positive number of seconds, or leave it out to run until stopped.`);
  }
  const argv = [iperf, '-c', serverIp, '-p', String(IPERF_PORT), '-P', String(opts.threads), '-t', String(durationS)];
  if (opts.perThreadRateBps !== undefined) {
    if (!Number.isFinite(opts.perThreadRateBps) || opts.perThreadRateBps < 1000) {
      throw new TestbedError('E_TESTBED_RATE', `per-thread rate ${opts.perThreadRateBps} bit/s: use at least 1000 bit/s, or leave it out for unlimited.`);
    }
    // A bare integer is bits per second for iperf2 -b; with -P each thread gets this rate.
    argv.push('-b', String(Math.round(opts.perThreadRateBps)));
  }
  return argv;
}

/** A running iperf2 client. */
export interface IperfClient {
  readonly pid: number;
  /** Resolves with the exit code when the client ends (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts an iperf2 client in `netns`; it dies with us on Ctrl-C (same process group), and `down` kills leftovers. */
export function startIperfClient(netns: string, argv: readonly string[]): IperfClient {
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  if (child.pid === undefined) throw new TestbedError('E_TESTBED_BUILD', `could not start iperf in ${netns}`);
  const pid = child.pid;
  return {
    pid,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
