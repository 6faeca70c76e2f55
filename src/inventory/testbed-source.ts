import { mapBounded } from '../util/concurrency.ts';
import { socketStatus } from './socket-status.ts';
import { attachTestbed, type TestbedAttach } from '../testbed/attach-view.ts';
import type { DiscoveredVm, InventorySource } from './types.ts';

/**
 * VMs of an emulated host: a thin adapter over the testbed's own description (testbedAttach),
 * re-read on every poll so VMs added to or removed from the testbed show up.
 */
export class TestbedSource implements InventorySource {
  readonly name = 'testbed' as const;

  constructor(
    private readonly testbed: string,
    private readonly attach: TestbedAttach = attachTestbed,
  ) {}

  /** Throws TestbedAttachError when the testbed is not up. */
  async discover(): Promise<DiscoveredVm[]> {
    const tb = await this.attach(this.testbed);
    return mapBounded(tb.vms, 16, async (vm) => ({
      id: vm.id,
      origin: 'testbed' as const,
      agent: { kind: 'unix' as const, socket: vm.agentSocket },
      status: await socketStatus(vm.agentSocket),
      vfCandidates: [{ mac: vm.mac.toLowerCase(), iface: vm.iface }],
      metadata: null,
      problems: [],
    }));
  }
}
