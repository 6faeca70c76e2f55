/**
 * Reads every VF's switch-side counter at a fixed period, on an absolute schedule so a slow
 * read does not shift all later samples. Each sample is stamped with the middle of its read.
 */
import type { RawSample } from './analyze.ts';

/** One read of the switch: every VF's counter (index = VM index) and the port's delivered bytes. */
export interface CounterReading {
  readonly vfBytes: bigint[];
  readonly portBytes: bigint;
}

/** What the sampler reads. */
export interface CounterSource {
  read(): Promise<CounterReading>;
}

/** The testbed's switch-side counters as a CounterSource (file reads from /proc: well under a tick). */
export function testbedCounterSource(tb: { readAllHostTxBytes(): Promise<bigint[]>; readPortTxBytes(): Promise<bigint> }): CounterSource {
  return {
    async read() {
      const [vfBytes, portBytes] = await Promise.all([tb.readAllHostTxBytes(), tb.readPortTxBytes()]);
      return { vfBytes, portBytes };
    },
  };
}

/** A running sampler: samples so far, and stop() that resolves after the last read. */
export interface Sampler {
  readonly samples: readonly RawSample[];
  /** Stops sampling; rejects with the read error if sampling failed. */
  stop(): Promise<void>;
}

/** Monotonic clock in ms (performance.now by default; injectable). */
export type NowMs = () => number;

/**
 * Starts sampling `source` every periodMs. If a read fails, sampling stops and stop()
 * rejects with that error, so a policy run is not judged on a broken series.
 */
export function startSampler(source: CounterSource, periodMs: number, onSample: (s: RawSample, all: readonly RawSample[]) => void, now: NowMs = () => performance.now()): Sampler {
  const samples: RawSample[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failure: unknown = null;
  let wake: (() => void) | undefined;
  const t0 = now();
  const loop = (async () => {
    for (let k = 0; !stopped; k++) {
      const dueMs = t0 + k * periodMs;
      const waitMs = dueMs - now();
      if (waitMs > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, waitMs);
        });
        if (stopped) break;
      } else if (waitMs < -periodMs) {
        // Fell behind (machine overloaded): skip missed slots instead of reading in a burst.
        k += Math.floor(-waitMs / periodMs);
      }
      const before = now();
      try {
        const r = await source.read();
        const sample = { atMs: (before + now()) / 2, counters: r.vfBytes, portBytes: r.portBytes };
        samples.push(sample);
        onSample(sample, samples);
      } catch (e) {
        failure = e;
        return;
      }
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      if (failure !== null) throw failure;
    },
  };
}
