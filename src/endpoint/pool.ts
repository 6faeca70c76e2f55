/**
 * Keeps one VmEndpoint per inventory VM, built from where its agent is and which VF is its:
 * a VM whose agent or VF changes gets a new endpoint (the old one is closed), a VM that
 * disappears has its endpoint closed. The loop only ever sees the current set.
 */
import { LibvirtAgent } from '../agent/libvirt-agent.ts';
import { QgaClient } from '../agent/qga-client.ts';
import type { GuestAgent } from '../agent/types.ts';
import type { Clock, VmEndpoint, VmId } from '../core/types.ts';
import type { ControlledVm } from '../controller/index.ts';
import type { InventoryVm } from '../inventory/index.ts';
import type { Logger } from '../util/log.ts';
import { AgentVmEndpoint } from './agent-endpoint.ts';
import { CapabilityCheckedEndpoint } from './capability-check.ts';

/** Settings endpoints are built with. */
export interface EndpointPoolOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Bound on one agent request. */
  readonly agentTimeoutMs: number;
  /** Builds an endpoint for a VM (tests and the simulator pass their own). */
  readonly create?: (vm: InventoryVm) => VmEndpoint;
}

interface Entry {
  readonly key: string;
  readonly endpoint: VmEndpoint;
}

// What identifies an endpoint: a change here means the old connection is of no use.
function endpointKey(vm: InventoryVm, agentTimeoutMs: number): string {
  return JSON.stringify([vm.agent, vm.vf.mac ?? null, vm.vf.iface ?? null, agentTimeoutMs]);
}

/** The endpoints of the VMs the inventory knows now. */
export class EndpointPool {
  readonly #entries = new Map<VmId, Entry>();
  readonly #opts: EndpointPoolOptions;
  #agentTimeoutMs: number;
  // The loop asks every tick; the inventory changes every few seconds at most.
  #lastInput: readonly InventoryVm[] | null = null;
  #lastOutput: ControlledVm[] = [];

  constructor(opts: EndpointPoolOptions) {
    this.#opts = opts;
    this.#agentTimeoutMs = opts.agentTimeoutMs;
  }

  /** A new bound on one agent request (a config reload): every endpoint is rebuilt with it at the next sync. */
  setAgentTimeoutMs(ms: number): void {
    if (ms === this.#agentTimeoutMs) return;
    this.#agentTimeoutMs = ms;
    this.#lastInput = null;
  }

  /** Brings the pool in line with the inventory and returns what the loop should control. */
  sync(vms: readonly InventoryVm[]): ControlledVm[] {
    if (vms === this.#lastInput) return this.#lastOutput;
    const seen = new Set<VmId>();
    const out: ControlledVm[] = [];
    for (const vm of vms) {
      // Without an agent channel there is nothing to measure or enforce: the inventory
      // reports the problem; the loop leaves the VM alone.
      if (vm.agent === null) continue;
      seen.add(vm.id);
      const key = endpointKey(vm, this.#agentTimeoutMs);
      let entry = this.#entries.get(vm.id);
      if (entry && entry.key !== key) {
        void this.#close(entry.endpoint, vm.id);
        entry = undefined;
      }
      if (!entry) {
        entry = { key, endpoint: (this.#opts.create ?? ((v) => this.#createAgentEndpoint(v)))(vm) };
        this.#entries.set(vm.id, entry);
      }
      out.push({ id: vm.id, sla: vm.sla, slaSource: vm.slaSource, endpoint: entry.endpoint });
    }
    for (const [id, entry] of this.#entries) {
      if (!seen.has(id)) {
        this.#entries.delete(id);
        void this.#close(entry.endpoint, id);
      }
    }
    this.#lastInput = vms;
    this.#lastOutput = out;
    return out;
  }

  /** Closes every endpoint (the daemon is stopping). */
  async closeAll(): Promise<void> {
    const all = [...this.#entries];
    this.#entries.clear();
    this.#lastInput = null;
    this.#lastOutput = [];
    await Promise.all(all.map(([id, e]) => this.#close(e.endpoint, id)));
  }

  #createAgentEndpoint(vm: InventoryVm): VmEndpoint {
    const { logger, clock } = this.#opts;
    const agentTimeoutMs = this.#agentTimeoutMs;
    const ref = vm.agent;
    if (ref === null) throw new Error(`VM ${vm.id} has no agent`);
    const agent: GuestAgent = ref.kind === 'unix'
      ? new QgaClient({ socketPath: ref.socket, vm: vm.id, logger, defaultTimeoutMs: agentTimeoutMs })
      : new LibvirtAgent({ domain: ref.domain, uri: ref.uri });
    const iface = { ...(vm.vf.mac ? { mac: vm.vf.mac } : {}), ...(vm.vf.iface ? { name: vm.vf.iface } : {}) };
    return new CapabilityCheckedEndpoint(new AgentVmEndpoint({ id: vm.id, agent, iface, clock, logger, statsTimeoutMs: agentTimeoutMs }), clock, logger);
  }

  async #close(endpoint: VmEndpoint, id: VmId): Promise<void> {
    try {
      await endpoint.close();
    } catch (err) {
      this.#opts.logger.warn({ vm: id, op: 'close', err }, 'closing the endpoint failed');
    }
  }
}
