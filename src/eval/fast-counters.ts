/**
 * A fast path to the same switch-side VF counters that testbed.readAllHostTxBytes() returns.
 * Measured here under experiment load (2 cores busy with iperf and shaping): one
 * `ip -s -j link show` took 34–588 ms (mean 223 ms), longer than the 200 ms sampling
 * period, so per-tick rates were mostly timing noise. Reading /proc/<pid>/net/dev of a
 * process parked in the switch namespace is a file read (well under a millisecond), so each
 * sample's timestamp is exact. The parked process is a plain `sleep`, started by argv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Testbed } from '../testbed/index.ts';
import { IFACES, planNamespaces, switchVfIface } from '../testbed/plan.ts';
import type { CounterReading, CounterSource } from './sampler.ts';

/** Error for a fast counter path that cannot be trusted; the caller falls back to the testbed. */
export class FastCountersError extends Error {
  readonly code = 'E_FAST_COUNTERS';
  constructor(message: string) {
    super(message);
    this.name = 'FastCountersError';
  }
}

/** Byte counters of one interface. */
export interface DevBytes {
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
}

/** Receive and transmit byte counters per interface from /proc/net/dev (columns 1 and 9 after the colon). */
export function parseProcNetDev(text: string): Map<string, DevBytes> {
  const out = new Map<string, DevBytes>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^\s:]+):(.*)$/.exec(line);
    const cols = m?.[2]?.trim().split(/\s+/) ?? [];
    if (!m || cols.length < 9 || !cols.every((c) => /^\d+$/.test(c))) continue;
    out.set(m[1] as string, { rxBytes: BigInt(cols[0] as string), txBytes: BigInt(cols[8] as string) });
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
  // Synchronous on purpose: a /proc read takes microseconds, and without event-loop hops
  // in between, the sampler's timestamps around it stay tight even on an overloaded machine.
  const read = async (): Promise<CounterReading> => {
    const devs = parseProcNetDev(readFileSync(path, 'utf8'));
    const get = (name: string): DevBytes => {
      const v = devs.get(name);
      if (v === undefined) throw new FastCountersError(`${path} has no interface ${name}`);
      return v;
    };
    // What a VF sent is what its switch-side end received; the port delivered what left the uplink.
    return { vfBytes: ifaces.map((name) => get(name).rxBytes), portBytes: get(IFACES.uplink).txBytes };
  };
  try {
    // The sleeper may not have entered the namespace yet: wait until it shows the VF ports.
    let before: CounterReading | null = null;
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
      const [b, s, a] = [before.vfBytes[i] as bigint, slow[i] as bigint, after.vfBytes[i] as bigint];
      if (!(b <= s && s <= a)) throw new FastCountersError(`${name}: /proc says ${b}..${a} bytes around the testbed's ${s}: not the same counter`);
    });
  } catch (e) {
    await stopChild(child);
    throw e instanceof FastCountersError ? e : new FastCountersError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return { read, close: () => stopChild(child) };
}
