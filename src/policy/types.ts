/**
 * The policy seam: a pure function from what the loop observed to the caps it wants.
 * Policies never touch a VM; the loop observes, calls decide(), and a reconciler applies
 * only the differences. State is threaded through explicitly so a decision is replayable.
 */
import type { Sla, VmId } from '../core/types.ts';

/** What the loop knows about one VM this tick. */
export interface PolicyVmInput {
  readonly id: VmId;
  /** guaranteeBps 0 = Best-Effort. */
  readonly sla: Sla;
  /** Measured TX rate; null = no fresh sample (the policy keeps its last decision for the VM). */
  readonly rateBps: number | null;
  /** Cap in force; null = uncapped. */
  readonly capBps: number | null;
  /**
   * Real length of the window rateBps was measured over (ms), which is not always tickMs: a
   * late or skipped observation makes it longer. Absent or null when unknown.
   */
  readonly windowMs?: number | null;
  /**
   * False when rateBps is not a clean reading of capBps at work: the cap changed (an apply
   * landed) during the window, the cap in force is unknown (an apply failed or timed out and
   * is being read back), or the observation queued behind an apply. A policy must not judge
   * "held by its cap" or learn the port's capacity from such a window. Absent means true.
   */
  readonly settled?: boolean;
}

/** One tick's input to a policy. */
export interface PolicyInput {
  readonly tickMs: number;
  /** The port's nominal speed (config or link speed). */
  readonly capacityBps: number;
  readonly vms: readonly PolicyVmInput[];
}

/** What a policy wants for one VM. */
export interface PolicyVmDecision {
  readonly id: VmId;
  /** Wanted cap; null = uncapped. */
  readonly capBps: number | null;
  /** The policy's estimate of what the VM would send if uncapped; null = unknown. */
  readonly demandBps: number | null;
  /** For Guarantee VMs: bandwidth the policy keeps free for it; null for Best-Effort VMs. */
  readonly reservedBps: number | null;
  /**
   * Why the policy wants this cap, a short phrase the audit log prints when the cap changes
   * ("share", "guarantee web1 short", "reclaim"). Optional: the loop says "policy" without it.
   */
  readonly reason?: string;
}

/** A policy's answer for one tick, in the order of PolicyInput.vms. */
export interface PolicyDecision<S> {
  readonly vms: readonly PolicyVmDecision[];
  /** What the policy believes the port really delivers. */
  readonly learnedCapacityBps: number;
  readonly state: S;
}

/** A cap-deciding strategy. decide() must be pure: same input and state, same output. */
export interface Policy<S = unknown> {
  readonly name: string;
  initState(): S;
  decide(input: PolicyInput, state: S): PolicyDecision<S>;
}

/** Role of a VM from its SLA: a positive guarantee makes it a Guarantee VM. */
export function isGuarantee(sla: Sla): boolean {
  return sla.guaranteeBps > 0;
}

/** Error for a policy that cannot be built from its options; `code` is stable. */
export class PolicyConfigError extends Error {
  readonly code = 'E_POLICY_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyConfigError';
  }
}
