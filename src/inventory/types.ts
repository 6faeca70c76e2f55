/** What the inventory knows about VMs: where they come from, their agent, their VF, their SLA. */
import type { InventorySourceName } from '../config/schema.ts';
import type { SettingSource, Sla, VmId } from '../core/types.ts';

/** How to reach a VM's guest agent: our own unix socket, or through libvirt (`virsh qemu-agent-command`). */
export type AgentRef =
  | { readonly kind: 'unix'; readonly socket: string }
  | { readonly kind: 'libvirt'; readonly uri: string; readonly domain: string };

/** A VM's VF: its MAC (to match the guest interface), the guest's name for it, the host PCI address. */
export interface VfRef {
  readonly mac?: string;
  readonly iface?: string;
  /** Host PCI address of the VF, "0000:03:10.1" (libvirt only). */
  readonly pciAddress?: string;
}

/**
 * Whether the VM's agent can be used now. Not-ready VMs stay in the inventory (the loop keeps
 * retrying them without blocking the tick); they are never thrown as errors.
 */
export type AgentStatus =
  | { readonly state: 'ready' }
  /** The agent exists but does not answer yet (channel disconnected, socket not there yet). */
  | { readonly state: 'not-ready'; readonly reason: string }
  /** The VM has no agent channel daqs can use; it needs a configuration change. */
  | { readonly state: 'no-agent'; readonly reason: string }
  /** Looking the VM up failed this time; the last known agent and VF are kept. */
  | { readonly state: 'lookup-failed'; readonly code: string; readonly reason: string };

/** Per-VM SLA settings from one source; undefined means "not set there". */
export interface SlaSettings {
  readonly guaranteeBps?: number | undefined;
  readonly maxBps?: number | undefined;
  readonly weight?: number | undefined;
}

/** Where each SLA setting of a VM came from (`daqs status` shows it). */
export type SlaSources = Readonly<Record<'guaranteeBps' | 'maxBps' | 'weight', SettingSource>>;

/** A VM as a source found it, before the config file's settings are applied. */
export interface DiscoveredVm {
  readonly id: VmId;
  readonly origin: InventorySourceName;
  readonly agent: AgentRef | null;
  readonly status: AgentStatus;
  /** The VFs the VM has; the config's `mac` picks one when there are several. */
  readonly vfCandidates: readonly VfRef[];
  /** Settings from libvirt domain metadata, already validated; null when absent or refused. */
  readonly metadata: SlaSettings | null;
  /** Things an operator should fix (malformed metadata, ambiguous VF), as sentences. */
  readonly problems: readonly string[];
}

/** A VM ready for the control loop: its SLA resolved, with the source of each setting. */
export interface InventoryVm {
  readonly id: VmId;
  readonly origin: InventorySourceName;
  readonly sla: Sla;
  readonly slaSource: SlaSources;
  readonly agent: AgentRef | null;
  readonly status: AgentStatus;
  readonly vf: VfRef;
  readonly problems: readonly string[];
}

/** Finds the VMs running now. Throws only when nothing could be listed; one VM's failure is in its status. */
export interface InventorySource {
  readonly name: InventorySourceName;
  discover(signal?: AbortSignal): Promise<DiscoveredVm[]>;
}
