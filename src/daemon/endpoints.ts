/**
 * Keeps one VmEndpoint per inventory VM, built from where its agent is and which VF is its:
 * a VM whose agent or VF changes gets a new endpoint (the old one is closed), a VM that
 * disappears has its endpoint closed. The loop only ever sees the current set.
 */
import { checkCapabilities } from '../agent/capabilities.ts';
import { AgentVmEndpoint } from '../agent/endpoint.ts';
import { LibvirtAgent } from '../agent/libvirt-agent.ts';
import { QgaClient } from '../agent/qga-client.ts';
import type { GuestAgent } from '../agent/types.ts';
import type { CapReading, Clock, TxSample, VmEndpoint, VmId } from '../core/types.ts';
import type { ControlledVm } from '../controller/index.ts';
import type { InventoryVm } from '../inventory/index.ts';
import type { Logger } from '../util/log.ts';

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
function endpointKey(vm: InventoryVm): string {
  return JSON.stringify([vm.agent, vm.vf.mac ?? null, vm.vf.iface ?? null]);
}

/** The endpoints of the VMs the inventory knows now. */
export class EndpointPool {
  readonly #entries = new Map<VmId, Entry>();
  readonly #opts: EndpointPoolOptions;
  // The loop asks every tick; the inventory changes every few seconds at most.
  #lastInput: readonly InventoryVm[] | null = null;
  #lastOutput: ControlledVm[] = [];

  constructor(opts: EndpointPoolOptions) {
    this.#opts = opts;
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
      const key = endpointKey(vm);
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
    const { logger, clock, agentTimeoutMs } = this.#opts;
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

/** How long a VM whose agent lacks what daqs needs is left alone before it is checked again. */
const RECHECK_MS = 60_000;

/**
 * Checks once, from guest-info, that the agent has guest-exec and interface statistics
 * enabled before the loop relies on it. A missing or disabled command is an operator's
 * choice: reported once per VM as a configuration problem, and not asked again for a minute
 * (never in a hot loop); meanwhile the VM is skipped with E_AGENT_CAPABILITY.
 */
export class CapabilityCheckedEndpoint implements VmEndpoint {
  readonly id: VmId;
  #checked = false;
  #failure: { error: Error; atMs: number } | null = null;
  #reported = false;

  constructor(private readonly inner: AgentVmEndpoint, private readonly clock: Clock, private readonly logger: Logger) {
    this.id = inner.id;
  }

  async #ensure(signal?: AbortSignal): Promise<void> {
    if (this.#checked) return;
    if (this.#failure && this.clock.nowMs() - this.#failure.atMs < RECHECK_MS) throw this.#failure.error;
    try {
      await checkCapabilities(this.inner.agent, signal ? { signal } : {});
      this.#checked = true;
      this.#failure = null;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only a definite answer is a configuration problem; a timeout is retried next tick.
      if (code === 'E_AGENT_CAPABILITY' || code === 'E_AGENT_DISABLED' || code === 'E_AGENT_NOT_FOUND') {
        this.#failure = { error: err as Error, atMs: this.clock.nowMs() };
        if (!this.#reported) {
          this.#reported = true;
          this.logger.error({ vm: this.id, op: 'capabilities', code, err }, 'the guest agent cannot be used by daqs: fix its configuration (qemu-ga --allow-rpcs / qemu-ga.conf)');
        }
      }
      throw err;
    }
  }

  /** Reads the VF's TX counter once the agent is known to be usable. */
  async readTx(signal?: AbortSignal): Promise<TxSample> {
    await this.#ensure(signal);
    return this.inner.readTx(signal);
  }

  /** Applies a cap once the agent is known to be usable. */
  async applyCap(capBps: number | null, signal?: AbortSignal): Promise<void> {
    await this.#ensure(signal);
    return this.inner.applyCap(capBps, signal);
  }

  /** Reads the cap back once the agent is known to be usable. */
  async readCap(signal?: AbortSignal): Promise<CapReading> {
    await this.#ensure(signal);
    return this.inner.readCap(signal);
  }

  /** Closes the agent connection. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
