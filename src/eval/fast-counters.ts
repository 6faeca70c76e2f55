/**
 * A fast path to the same switch-side VF counters that testbed.readAllHostTxBytes() returns.
 * Measured here under experiment load (2 cores busy with iperf and shaping): one
 * `ip -s -j link show` took 34–588 ms (mean 223 ms), longer than the 200 ms sampling
 * period, so per-tick rates were mostly timing noise. Reading /proc/<pid>/net/dev of a
 * process parked in the switch namespace is a file read (well under a millisecond), so each
 * sample's timestamp is exact. The parked process is a plain `sleep`, started by argv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Testbed } from '../testbed/index.ts';
import { planNamespaces, switchVfIface } from '../testbed/plan.ts';
import type { CounterSource } from './sampler.ts';

/** Error for a fast counter path that cannot be trusted; the caller falls back to the testbed. */
export class FastCountersError extends Error {
  readonly code = 'E_FAST_COUNTERS';
  constructor(message: string) {
    super(message);
    this.name = 'FastCountersError';
  }
}

/** Receive-byte counters per interface from /proc/net/dev text (the first column after the colon). */
export function parseProcNetDevRx(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^\s:]+):\s*(\d+)\s/.exec(line);
    if (m) out.set(m[1] as string, BigInt(m[2] as string));
  }
  return out;
}

/** A counter source that must be closed (its parked process killed). */
export interface ClosableCounterSource extends CounterSource {
  close(): Promise<void>;
}

function park(netns: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // `ip netns exec` enters the namespace and execs sleep: the pid is the sleeper's.
    const child = spawn('ip', ['netns', 'exec', netns, 'sleep', 'infinity'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

/**
 * Opens the fast path for `tb` and checks it reads the very counters the testbed reads: a
 * testbed reading must fall between two fast readings, VF by VF. Throws FastCountersError
 * (after cleaning up) when it cannot be set up or does not agree.
 */
export async function openFastCounters(tb: Testbed): Promise<ClosableCounterSource> {
  const netns = planNamespaces(tb.name, tb.vms.length).switchNs;
  const ifaces = tb.vms.map((vm) => switchVfIface(vm.index));
  const child = await park(netns);
  const path = `/proc/${child.pid}/net/dev`;
  const read = async (): Promise<bigint[]> => {
    const rx = parseProcNetDevRx(await readFile(path, 'utf8'));
    return ifaces.map((name) => {
      const v = rx.get(name);
      if (v === undefined) throw new FastCountersError(`${path} has no interface ${name}`);
      return v;
    });
  };
  try {
    // The sleeper may not have entered the namespace yet: wait until it shows the VF ports.
    let before: bigint[] | null = null;
    for (let i = 0; i < 50 && before === null; i++) {
      before = await read().catch(async () => {
        await new Promise((r) => setTimeout(r, 20));
        return null;
      });
    }
    if (before === null) throw new FastCountersError(`${path} never showed the switch ports ${ifaces.join(', ')}`);
    const slow = await tb.readAllHostTxBytes();
    const after = await read();
    ifaces.forEach((name, i) => {
      const [b, s, a] = [before[i] as bigint, slow[i] as bigint, after[i] as bigint];
      if (!(b <= s && s <= a)) throw new FastCountersError(`${name}: /proc says ${b}..${a} bytes around the testbed's ${s}: not the same counter`);
    });
  } catch (e) {
    await stopChild(child);
    throw e instanceof FastCountersError ? e : new FastCountersError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return { readAllHostTxBytes: read, close: () => stopChild(child) };
}
