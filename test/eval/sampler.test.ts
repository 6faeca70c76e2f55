import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startSampler, testbedCounterSource, type CounterReading, type CounterSource } from '../../src/eval/sampler.ts';

/** A counter source over a scripted list of readings; an Error entry fails that read. */
function scripted(readings: (CounterReading | Error)[]): CounterSource & { reads: number } {
  const src = {
    reads: 0,
    async read(): Promise<CounterReading> {
      await tick(); // a real read yields to the event loop
      const r = readings[Math.min(src.reads, readings.length - 1)] as CounterReading | Error;
      src.reads += 1;
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return src;
}

const reading = (n: number): CounterReading => ({ vfBytes: [BigInt(n), BigInt(2 * n)], portBytes: BigInt(3 * n) });

// A clock that runs 1 s per call: the sampler is always behind schedule and never sleeps,
// so these tests do not depend on real time.
function fastClock(): () => number {
  let t = 0;
  return () => (t += 1000);
}

describe('startSampler', () => {
  it('stamps every reading and passes it on, in order', async () => {
    const seen: bigint[] = [];
    const src = scripted([reading(1), reading(2), reading(3), new Error('stop here')]);
    const s = startSampler(src, 200, (x) => seen.push(x.portBytes), fastClock());
    while (src.reads < 4) await tick();
    await tick();
    await expect(s.stop()).rejects.toThrow('stop here');
    expect(s.samples.map((x) => x.counters)).toEqual([[1n, 2n], [2n, 4n], [3n, 6n]]);
    expect(seen).toEqual([3n, 6n, 9n]);
    const times = s.samples.map((x) => x.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('stop() ends a healthy sampler and resolves', async () => {
    const src = scripted([reading(1)]);
    const s = startSampler(src, 200, () => undefined, fastClock());
    while (src.reads < 3) await tick();
    await expect(s.stop()).resolves.toBeUndefined();
    const n = s.samples.length;
    await tick();
    await tick();
    expect(s.samples.length).toBe(n);
  });
});

describe('testbedCounterSource', () => {
  it('reads the VF counters and the port counter of the testbed', async () => {
    const src = testbedCounterSource({ readAllHostTxBytes: () => Promise.resolve([5n, 6n]), readPortTxBytes: () => Promise.resolve(7n) });
    expect(await src.read()).toEqual({ vfBytes: [5n, 6n], portBytes: 7n });
  });
});
