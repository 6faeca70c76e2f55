import type { DaqsConfig } from '../config/schema.ts';
import { mapBounded } from '../util/concurrency.ts';
import { socketStatus } from './socket-status.ts';
import type { DiscoveredVm, InventorySource } from './types.ts';

/** An entry of `inventory.static`: a VM known only by its agent socket. */
export type StaticVmEntry = DaqsConfig['inventory']['static'][number];

/** VMs listed in the config file with their agent sockets (no libvirt). Reads the list anew each time so reloads apply. */
export class StaticSource implements InventorySource {
  readonly name = 'static' as const;

  constructor(private readonly entries: () => readonly StaticVmEntry[]) {}

  /** Every listed VM, ready when its socket exists. */
  discover(): Promise<DiscoveredVm[]> {
    return mapBounded(this.entries(), 16, async (e) => ({
      id: e.name,
      origin: 'static' as const,
      agent: { kind: 'unix' as const, socket: e.socket },
      status: await socketStatus(e.socket),
      vfCandidates: e.mac ? [{ mac: e.mac }] : [],
      metadata: null,
      problems: [],
    }));
  }
}
