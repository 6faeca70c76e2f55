/**
 * TX rate from two counter readings. A counter that went backwards was reset (guest reboot,
 * driver reload): that tick has no rate rather than a huge negative or wrapped one.
 */
import type { TxSample } from '../core/types.ts';

/** Bits per second between two samples; null without a usable earlier sample. */
export function estimateRateBps(prev: TxSample | null | undefined, cur: TxSample): number | null {
  if (!prev) return null;
  const dtMs = cur.atMs - prev.atMs;
  if (!(dtMs > 0)) return null;
  if (cur.txBytes < prev.txBytes) return null;
  return (Number(cur.txBytes - prev.txBytes) * 8 * 1000) / dtMs;
}
