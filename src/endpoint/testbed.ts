/**
 * Endpoints for emulated VMs (src/testbed) and any VM reached by a unix agent socket: each
 * gets its own QgaClient, and its VF is chosen by MAC. Only the few fields needed are taken,
 * so this folder does not depend on the testbed's types.
 */
import { QgaClient, type QgaClientOptions } from '../agent/qga-client.ts';
import type { VmId } from '../core/types.ts';
import { HostTxSource, type HostCounterReader } from '../telemetry/sources.ts';
import { AgentVmEndpoint, type AgentEndpointOptions } from './agent-endpoint.ts';

/** Where a VM's agent listens and which guest interface is its VF (a testbed VM has these). */
export interface SocketVm {
  readonly id: VmId;
  readonly agentSocket: string;
  readonly mac: string;
}

/** Options for endpoints built from a testbed VM. */
export type TestbedEndpointOptions = Omit<AgentEndpointOptions, 'id' | 'agent' | 'iface' | 'txSource'> & { readonly client?: Partial<QgaClientOptions> };

/** An endpoint for an emulated VM: its own QgaClient on vm.agentSocket, VF chosen by vm.mac. */
export function endpointForTestbedVm(vm: SocketVm, opts: TestbedEndpointOptions = {}): AgentVmEndpoint {
  const agent = new QgaClient({ socketPath: vm.agentSocket, vm: vm.id, logger: opts.logger, ...opts.client });
  return new AgentVmEndpoint({ ...opts, id: vm.id, agent, iface: { mac: vm.mac } });
}

/** Like endpointForTestbedVm, but TX is read from the switch-side counter of the VF (the host's trusted view). */
export function hostCountedEndpointForTestbedVm(host: HostCounterReader, vm: SocketVm & { readonly index: number }, opts: TestbedEndpointOptions = {}): AgentVmEndpoint {
  const agent = new QgaClient({ socketPath: vm.agentSocket, vm: vm.id, logger: opts.logger, ...opts.client });
  return new AgentVmEndpoint({ ...opts, id: vm.id, agent, iface: { mac: vm.mac }, txSource: new HostTxSource(vm.id, host, vm.index, { clock: opts.clock }) });
}
