/**
 * The audit trail of caps: one log line for every change daqs makes (or tries to make) to a
 * VM's cap, wherever it is made (the reconciler, start-up reset, lift on stop), with the VM,
 * the cap before and after, why, and whether it worked. Successful changes are logged at
 * info, failed ones at warn, so `journalctl -u daqs -p warning` shows the failures and
 * `jq 'select(.op=="cap-change")'` the whole trail.
 */
import type { ReconcileAction } from '../core/types.ts';
import { formatRate } from '../units/rate.ts';
import type { Logger } from '../util/log.ts';
import { errorCode, errorMessage } from './errors.ts';

/** The reason an action without one was taken for: the policy decided it. */
export const DEFAULT_CAP_REASON = 'policy';

/** Loop-side reasons for cap changes that are not the policy's decision. */
export const CAP_REASONS = {
  startReset: 'start-up reset',
  startAdopt: 'start-up adopt',
  liftOnStop: 'lift on stop',
} as const;

/** A cap as the audit line spells it: "none" for uncapped, "unknown" when not known. */
export function auditCapText(bps: number | null | undefined): string {
  if (bps === undefined) return 'unknown';
  return bps === null ? 'none' : formatRate(bps);
}

/**
 * Logs one cap change. `fromBps` undefined means the loop did not know the cap before (a cap
 * adopted at start-up); `err` is what made a failed change fail.
 */
export function auditCapChange(log: Logger, action: Omit<ReconcileAction, 'fromBps'> & { readonly fromBps: number | null | undefined }, err?: unknown): void {
  const reason = action.reason ?? DEFAULT_CAP_REASON;
  const from = auditCapText(action.fromBps);
  const to = auditCapText(action.toBps);
  const fields = { op: 'cap-change', vm: action.vm, from, to, fromBps: action.fromBps ?? null, toBps: action.toBps, reason, ok: action.ok };
  if (action.ok) {
    log.info(fields, `cap of ${action.vm}: ${from} -> ${to} (${reason})`);
  } else {
    log.warn({ ...fields, code: errorCode(err), err }, `cap of ${action.vm}: ${from} -> ${to} (${reason}) failed: ${errorMessage(err)}`);
  }
}
