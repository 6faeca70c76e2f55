/**
 * The seams between daqs' parts. Inventory finds VMs, endpoints read their TX counters and
 * enforce caps, the policy decides, the loop ties them together and publishes a TickReport
 * that status, metrics and the web view read. Each side effect sits behind one of these
 * interfaces so the loop runs against real qemu-ga and tc, or against the fluid simulator.
 */

/** Identifies a VM across inventory, telemetry, policy and enforcement (libvirt name, or testbed VM name). */
export type VmId = string;

/** A VM's service level. guaranteeBps 0 means Best-Effort. */
export interface Sla {
  readonly guaranteeBps: number;
  /** Never let the VM send more than this; null means no maximum. */
  readonly maxBps: number | null;
  /** Share of what is left for Best-Effort VMs, relative to other VMs (default 1). */
  readonly weight: number;
}

/** One reading of a VM's VF TX byte counter. */
export interface TxSample {
  /** Counter value; bigint because counters are 64-bit and pass 2^53. */
  readonly txBytes: bigint;
  /** When it was read, on a monotonic clock (Clock.nowMs). */
  readonly atMs: number;
}

/** The cap in force on a VM, read back from where it is enforced. */
export interface CapReading {
  /** null: no cap installed. */
  readonly capBps: number | null;
  /** What was found, for drift reports ("htb 1:10 rate 500Mbit", "no daqs qdisc"). */
  readonly detail: string;
}

/**
 * One VM as the control loop sees it: a TX counter and a cap. Implemented over qemu-ga
 * (telemetry + in-guest tc), over the emulated host's switch side, and by the simulator.
 * Every method is safe to repeat; applyCap with the cap already in force changes nothing.
 */
export interface VmEndpoint {
  readonly id: VmId;
  readTx(signal?: AbortSignal): Promise<TxSample>;
  /** Makes `capBps` the VM's TX cap; null lifts it. */
  applyCap(capBps: number | null, signal?: AbortSignal): Promise<void>;
  readCap(signal?: AbortSignal): Promise<CapReading>;
  close(): Promise<void>;
}

/** Time, injectable so the simulator can run the loop faster than real time. */
export interface Clock {
  /** Monotonic milliseconds. */
  nowMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Role of a VM in the current configuration. */
export type VmRole = 'guarantee' | 'best-effort';

/** Where a VM's setting came from (`daqs status` shows it). */
export type SettingSource = 'config' | 'libvirt-metadata' | 'default';

/** Per-VM state after one tick, as status, metrics and the web view show it. */
export interface VmTickReport {
  readonly id: VmId;
  readonly role: VmRole;
  readonly sla: Sla;
  readonly slaSource: Readonly<Record<'guaranteeBps' | 'maxBps' | 'weight', SettingSource>>;
  /** Measured TX rate this tick; null when no fresh sample (skipped or first tick). */
  readonly rateBps: number | null;
  readonly demandBps: number | null;
  /** Cap in force after this tick; null = uncapped. */
  readonly capBps: number | null;
  /** For Guarantee VMs: is it at or above min(guarantee, demand)? null for Best-Effort or unknown. */
  readonly guaranteeMet: boolean | null;
  /**
   * A Guarantee VM sending (almost) nothing (src/core/guarantee.ts isIdleGuarantee): it does not
   * want its guarantee now, so guaranteeMet is true but nothing is being delivered. Always false
   * for Best-Effort VMs and while the rate is unknown.
   */
  readonly idle: boolean;
  /**
   * The VF's TX byte counter as the loop last read it (the counter rateBps comes from: today the
   * guest's). Kept from an earlier tick when this one had no fresh sample; null before the
   * first. A number: exact up to 2^53 bytes (9 PB), then rounded like any Prometheus sample.
   */
  readonly txBytes: number | null;
  readonly agentRttMs: number | null;
  /** The error that made this VM skip the tick, if any. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** A change the reconciler made. */
export interface ReconcileAction {
  readonly vm: VmId;
  readonly fromBps: number | null;
  readonly toBps: number | null;
  readonly ok: boolean;
  /**
   * Why the cap moved, a short phrase for the audit log: the policy's reason
   * (PolicyVmDecision.reason, "policy" when it gives none) or the loop's own ("drift repair",
   * "start-up reset", "lift on stop"). Absent means "policy".
   */
  readonly reason?: string;
}

/** What one tick of the loop saw, decided and did. */
export interface TickReport {
  readonly tick: number;
  /** Wall-clock time (epoch ms) at the start of the tick. */
  readonly atEpochMs: number;
  readonly durationMs: number;
  readonly overran: boolean;
  readonly policy: string;
  readonly port: {
    readonly nominalCapacityBps: number;
    readonly learnedCapacityBps: number;
    readonly usedBps: number;
  };
  readonly vms: readonly VmTickReport[];
  readonly actions: readonly ReconcileAction[];
}

/**
 * How the inventory sees its VMs, one status each: `ready`, `not-ready` (agent not answering
 * yet) and `lookup-failed` (last known state kept) are controlled by the loop; `no-agent` (no
 * channel daqs can use) and `ignored` (listed, but not controlled for another reason) are not.
 */
export const INVENTORY_STATUSES = ['ready', 'not-ready', 'no-agent', 'lookup-failed', 'ignored'] as const;

/** One of INVENTORY_STATUSES. */
export type InventoryStatus = (typeof INVENTORY_STATUSES)[number];

/** The inventory's health as status and metrics show it. */
export interface InventoryHealth {
  /** VMs per status; every status present (0 when none). */
  readonly vms: Readonly<Record<InventoryStatus, number>>;
  /** Wall-clock time (epoch ms) of the last lookup that listed VMs; null before the first. */
  readonly lastRefreshEpochMs: number | null;
  /** Lookups that could not list VMs at all since the daemon started (the previous list stayed). */
  readonly refreshFailures: number;
}

/** Things operators want to see as they happen (web view, logs). */
export interface DaemonEvent {
  readonly atEpochMs: number;
  readonly kind:
    | 'vm-appeared'
    | 'vm-disappeared'
    | 'guarantee-violated'
    | 'guarantee-restored'
    | 'agent-unreachable'
    | 'agent-recovered'
    | 'config-reloaded'
    | 'config-rejected'
    /** A reload changed keys that only take effect after a restart; the message names them. */
    | 'config-restart-needed'
    | 'drift-detected';
  readonly vm?: VmId;
  readonly message: string;
}
