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
  // VMs whose endpoint could not be built, with the key that failed (reported once per key).
  readonly #failed = new Map<VmId, string>();
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

  /**
   * Brings the pool in line with the inventory and returns what the loop should control. A VM
   * whose endpoint cannot be built is left out (reported once) and never stops the others.
   */
  sync(vms: readonly InventoryVm[]): ControlledVm[] {
    if (vms === this.#lastInput) return this.#lastOutput;
    // Without an agent channel there is nothing to measure or enforce: the inventory reports
    // the problem; the loop leaves the VM alone.
    const wanted = new Map(vms.filter((vm) => vm.agent !== null).map((vm) => [vm.id, vm]));
    // Close what went away or changed first: a VM renamed in the same pass may take over its
    // socket, which the old endpoint must have released.
    for (const [id, entry] of this.#entries) {
      const vm = wanted.get(id);
      if (!vm || entry.key !== endpointKey(vm, this.#agentTimeoutMs)) {
        this.#entries.delete(id);
        void this.#close(entry.endpoint, id);
      }
    }
    for (const id of this.#failed.keys()) if (!wanted.has(id)) this.#failed.delete(id);
    const out: ControlledVm[] = [];
    for (const vm of wanted.values()) {
      let entry = this.#entries.get(vm.id);
      if (!entry) {
        const key = endpointKey(vm, this.#agentTimeoutMs);
        try {
          entry = { key, endpoint: (this.#opts.create ?? ((v) => this.#createAgentEndpoint(v)))(vm) };
          this.#failed.delete(vm.id);
        } catch (err) {
          if (this.#failed.get(vm.id) !== key) this.#opts.logger.error({ vm: vm.id, op: 'endpoint', code: (err as { code?: string }).code, err }, 'cannot reach this VM\'s agent; the other VMs are controlled as usual');
          this.#failed.set(vm.id, key);
          continue;
        }
        this.#entries.set(vm.id, entry);
      }
      out.push({ id: vm.id, sla: vm.sla, slaSource: vm.slaSource, endpoint: entry.endpoint });
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
