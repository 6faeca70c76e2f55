/**
 * /healthz: is the control loop alive? A loop that stopped ticking (a stuck await, a blocked
 * event loop that just recovered) is not healthy even though the process answers, so the
 * answer is the age of the last tick against a few tick periods, and a stalled loop is a 503
 * a supervisor or load balancer can act on.
 */
import type { ObservationHub } from './hub.ts';

/** A loop is stalled when its last tick is older than this many tick periods... */
export const STALL_TICK_PERIODS = 5;
/** ...and at least this old (short periods jitter more than they matter). */
export const MIN_STALL_MS = 1000;
/** Period assumed until the daemon has said its own. */
const DEFAULT_TICK_PERIOD_MS = 200;

/** What /healthz returns. */
export interface Health {
  readonly ok: boolean;
  readonly ticksPublished: number;
  /** Monotonic milliseconds since the last tick (since start before the first one). */
  readonly lastTickAgeMs: number;
  /** Age beyond which the loop counts as stalled. */
  readonly stalledAfterMs: number;
  readonly reason?: string;
}

/** The loop's health from the hub; `ok` false means /healthz answers 503. */
export function healthOf(hub: ObservationHub): Health {
  const periodMs = hub.status().info.tickPeriodMs ?? DEFAULT_TICK_PERIOD_MS;
  const stalledAfterMs = Math.max(MIN_STALL_MS, STALL_TICK_PERIODS * periodMs);
  const ageMs = Math.round(hub.tickAgeMs());
  const ticks = hub.cursors().ticks;
  if (ageMs <= stalledAfterMs) return { ok: true, ticksPublished: ticks, lastTickAgeMs: ageMs, stalledAfterMs };
  const reason = ticks === 0 ? `no tick yet ${ageMs} ms after start` : `the last tick was ${ageMs} ms ago, more than ${STALL_TICK_PERIODS} tick periods: the control loop is stalled`;
  return { ok: false, ticksPublished: ticks, lastTickAgeMs: ageMs, stalledAfterMs, reason };
}
