/**
 * What "a Guarantee VM meets its guarantee" means, once for the loop's report and events, the
 * status and web view that show them, and the experiments' reaction measure (evaluation.md): it
 * gets at least 0.95 × min(guarantee, demand). A VM that wants less than its guarantee cannot
 * be blamed on daqs for sending less; 5% absorbs counter and TCP noise.
 */

/** Share of min(guarantee, demand) at or above which a Guarantee VM meets its guarantee. */
export const GUARANTEE_MET_FRAC = 0.95;

/** What a Guarantee VM can be expected to send: its guarantee, or its demand when it wants less. */
export function attainableBps(guaranteeBps: number, demandBps: number): number {
  return Math.min(guaranteeBps, demandBps);
}

/** The rate at or above which a Guarantee VM meets its guarantee: GUARANTEE_MET_FRAC × min(guarantee, demand). */
export function guaranteeMetBps(guaranteeBps: number, demandBps: number): number {
  return GUARANTEE_MET_FRAC * attainableBps(guaranteeBps, demandBps);
}

/** Whether a Guarantee VM sending rateBps meets its guarantee given what it wants (demandBps). */
export function meetsGuarantee(rateBps: number, guaranteeBps: number, demandBps: number): boolean {
  return rateBps >= guaranteeMetBps(guaranteeBps, demandBps);
}

/** Below this × its guarantee a Guarantee VM counts as idle: it does not want its guarantee now. */
export const GUARANTEE_IDLE_FRAC = 0.02;

/** Whether a Guarantee VM sending rateBps is idle (sends almost nothing): not a violation, nothing delivered either. */
export function isIdleGuarantee(rateBps: number, guaranteeBps: number): boolean {
  return guaranteeBps > 0 && rateBps < GUARANTEE_IDLE_FRAC * guaranteeBps;
}
