/** Rates over a window from the host's counters: what tests, the demo and experiments read. */
import { bytesDeltaRateBps } from '../units/counter-rate.ts';
import type { Testbed } from './types.ts';

/** Per-VM TX rates (switch side) and the rate the port delivered, over one window. */
export interface RateWindow {
  readonly vmRatesBps: readonly number[];
  readonly portRateBps: number;
  readonly windowMs: number;
}

/** Samples all VF counters and the port counter, waits `windowMs`, samples again, and returns the rates. */
export async function measureRates(tb: Testbed, windowMs: number): Promise<RateWindow> {
  const [vms0, port0] = await Promise.all([tb.readAllHostTxBytes(), tb.readPortTxBytes()]);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const [vms1, port1] = await Promise.all([tb.readAllHostTxBytes(), tb.readPortTxBytes()]);
  const elapsedMs = performance.now() - t0;
  // A counter reset within the window (a VF re-created) has no rate: reported as 0, never negative.
  const bps = (a: bigint, b: bigint): number => bytesDeltaRateBps(a, b, elapsedMs) ?? 0;
  return {
    vmRatesBps: vms1.map((b, i) => bps(vms0[i] ?? b, b)),
    portRateBps: bps(port0, port1),
    windowMs: elapsedMs,
  };
}
