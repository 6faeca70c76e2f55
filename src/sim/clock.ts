/**
 * Simulated time: a Clock whose sleeps end only when the simulator advances time, so a
 * minute of control runs in milliseconds and every run is exactly repeatable.
 */
import type { Clock } from '../core/types.ts';

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** A manually advanced Clock; sleep() resolves when advanceTo() passes its deadline. */
export class SimClock implements Clock {
  #nowMs: number;
  #timers: Timer[] = [];
  #seq = 0;

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  /** Current simulated time. */
  nowMs(): number {
    return this.#nowMs;
  }

  /** Resolves once simulated time reaches now + ms; rejects with the signal's reason on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        atMs: this.#nowMs + Math.max(0, ms),
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Earliest pending sleep deadline, or null. */
  nextTimerMs(): number | null {
    let min: number | null = null;
    for (const t of this.#timers) if (min === null || t.atMs < min) min = t.atMs;
    return min;
  }

  /** Moves time forward to atMs (never back) and ends every sleep due by then, in order. */
  advanceTo(atMs: number): void {
    if (atMs > this.#nowMs) this.#nowMs = atMs;
    const due = this.#timers.filter((t) => t.atMs <= this.#nowMs).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
    if (due.length === 0) return;
    this.#timers = this.#timers.filter((t) => t.atMs > this.#nowMs);
    for (const t of due) t.fire();
  }
}
