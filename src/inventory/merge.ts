/**
 * Merges what sources found with the config file: the file wins where both set a value, and
 * every setting records its source. Pure, so the rules are table-tested.
 */
import type { VmSettings } from '../config/schema.ts';
import type { SettingSource, Sla, VmId } from '../core/types.ts';
import { formatRate } from '../units/rate.ts';
import type { DiscoveredVm, InventoryVm, SlaSettings, SlaSources, VfRef } from './types.ts';

/** The SLA of a VM nobody configured: Best-Effort, no maximum, weight 1. */
export const DEFAULT_SLA: Sla = { guaranteeBps: 0, maxBps: null, weight: 1 };

/** A VM's SLA from the file and libvirt metadata, with the source of each setting. */
export function resolveSla(file: Partial<VmSettings> | undefined, metadata: SlaSettings | null): { sla: Sla; slaSource: SlaSources; problems: string[] } {
  const problems: string[] = [];
  const pick = <K extends keyof SlaSettings>(key: K): { value: SlaSettings[K]; source: SettingSource } => {
    if (file?.[key] !== undefined) return { value: file[key], source: 'config' };
    if (metadata?.[key] !== undefined) return { value: metadata[key], source: 'libvirt-metadata' };
    return { value: undefined, source: 'default' };
  };
  let guarantee = pick('guaranteeBps');
  let max = pick('maxBps');
  const weight = pick('weight');
  // Each source is valid on its own; mixed, a metadata guarantee may exceed a file max (or the
  // reverse). The file wins: the metadata value is dropped.
  if (guarantee.value !== undefined && max.value !== undefined && guarantee.value > max.value && guarantee.source !== max.source) {
    if (guarantee.source === 'libvirt-metadata') {
      problems.push(`libvirt metadata guarantee ${formatRate(guarantee.value)} is above max ${formatRate(max.value)} from the config file: metadata guarantee ignored`);
      guarantee = { value: undefined, source: 'default' };
    } else {
      problems.push(`libvirt metadata max ${formatRate(max.value)} is below guarantee ${formatRate(guarantee.value)} from the config file: metadata max ignored`);
      max = { value: undefined, source: 'default' };
    }
  }
  return {
    sla: {
      guaranteeBps: guarantee.value ?? DEFAULT_SLA.guaranteeBps,
      maxBps: max.value ?? DEFAULT_SLA.maxBps,
      weight: weight.value ?? DEFAULT_SLA.weight,
    },
    slaSource: { guaranteeBps: guarantee.source, maxBps: max.source, weight: weight.source },
    problems,
  };
}

/** Picks the VM's VF: the one with the configured MAC, else the only one; the file's interface name wins. */
export function chooseVf(candidates: readonly VfRef[], file: Partial<VmSettings> | undefined): { vf: VfRef; problems: string[] } {
  const problems: string[] = [];
  let vf: VfRef | undefined;
  if (file?.mac !== undefined) {
    vf = candidates.find((c) => c.mac === file.mac);
    if (!vf) {
      if (candidates.length > 0) problems.push(`configured mac ${file.mac} matches none of the VM's VFs (${candidates.map((c) => c.mac ?? c.pciAddress ?? '?').join(', ')})`);
      vf = { mac: file.mac };
    }
  } else {
    vf = candidates[0];
    if (candidates.length > 1) problems.push(`the VM has ${candidates.length} VFs; using the first (${vf?.mac ?? vf?.pciAddress ?? '?'}): set its mac in the config to choose`);
  }
  const iface = file?.iface ?? vf?.iface;
  // A plain <hostdev> carries no MAC, and the guest names its interfaces itself: without one
  // of the two the enforcer cannot tell which guest interface is the VF.
  if (vf && vf.mac === undefined && iface === undefined) {
    const which = vf.pciAddress ? `the VF ${vf.pciAddress}` : 'the VF';
    problems.push(`${which} has no MAC in the domain XML (plain <hostdev>): set the VM's mac or interface in the config so daqs can find it in the guest`);
  }
  return { vf: { ...(vf ?? {}), ...(iface !== undefined ? { iface } : {}) }, problems };
}

/**
 * Keeps the last good lookup of a VM whose lookup failed this time, so one failing `virsh`
 * call does not make a VM lose its agent, VF and SLA.
 */
export function carryOver(found: readonly DiscoveredVm[], previous: readonly DiscoveredVm[]): DiscoveredVm[] {
  const before = new Map(previous.map((vm) => [vm.id, vm]));
  return found.map((vm) => {
    const last = before.get(vm.id);
    if (vm.status.state !== 'lookup-failed' || !last) return vm;
    return { ...(last.status.state === 'lookup-failed' ? vm : last), status: vm.status };
  });
}

/** Inputs of buildInventory. */
export interface BuildInventoryInput {
  /** `vms` of the config file. */
  readonly vms: Readonly<Record<string, Partial<VmSettings>>>;
  /** Port capacity admission control counts against. */
  readonly capacityBps: number;
  /** The inventory before this one: metadata guarantees admitted then stay admitted first. */
  readonly previous?: readonly InventoryVm[];
}

/**
 * Resolves each discovered VM's SLA and VF. Guarantees from the file were admitted when it
 * loaded; a guarantee from metadata is admitted only while all guarantees still fit the port,
 * else the VM runs Best-Effort and the problem says so with the numbers.
 */
export function buildInventory(found: readonly DiscoveredVm[], input: BuildInventoryInput): InventoryVm[] {
  const fileTotalBps = Object.values(input.vms).reduce((s, v) => s + (v.guaranteeBps ?? 0), 0);
  const resolved = [...found]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((d) => {
      const file = input.vms[d.id];
      const sla = resolveSla(file, d.metadata);
      const vf = chooseVf(d.vfCandidates, file);
      return { d, ...sla, vf: vf.vf, problems: [...d.problems, ...sla.problems, ...vf.problems] };
    });
  const wasAdmitted = new Set<VmId>((input.previous ?? []).filter((vm) => vm.slaSource.guaranteeBps === 'libvirt-metadata' && vm.sla.guaranteeBps > 0).map((vm) => vm.id));
  const claims = resolved
    .filter((r) => r.slaSource.guaranteeBps === 'libvirt-metadata' && r.sla.guaranteeBps > 0)
    .sort((a, b) => Number(wasAdmitted.has(b.d.id)) - Number(wasAdmitted.has(a.d.id)));
  let totalBps = fileTotalBps;
  for (const r of claims) {
    if (totalBps + r.sla.guaranteeBps <= input.capacityBps) {
      totalBps += r.sla.guaranteeBps;
      continue;
    }
    r.problems.push(
      `libvirt metadata guarantee ${formatRate(r.sla.guaranteeBps)} refused by admission control: guarantees already admitted add up to ` +
        `${formatRate(totalBps)} of the port's ${formatRate(input.capacityBps)}; the VM runs Best-Effort`,
    );
    r.sla = { ...r.sla, guaranteeBps: 0 };
    r.slaSource = { ...r.slaSource, guaranteeBps: 'default' };
  }
  // qemu-ga serves one client, and a second VM on the same socket would take the first one's
  // replies for its own: the first VM (by name) keeps the socket, the others get none.
  const socketOwner = new Map<string, VmId>();
  return resolved.map((r) => {
    let agent = r.d.agent;
    let status = r.d.status;
    const problems = [...r.problems];
    if (agent?.kind === 'unix') {
      const owner = socketOwner.get(agent.socket);
      if (owner === undefined) {
        socketOwner.set(agent.socket, r.d.id);
      } else {
        const reason = `agent socket ${agent.socket} is also the agent socket of VM ${owner}: each VM needs its own; daqs leaves this VM alone until that is fixed`;
        problems.push(reason);
        agent = null;
        status = { state: 'no-agent', reason };
      }
    }
    return { id: r.d.id, origin: r.d.origin, sla: r.sla, slaSource: r.slaSource, agent, status, vf: r.vf, problems };
  });
}
