import type { DaqsConfig } from '../config/schema.ts';
import type { Logger } from '../util/log.ts';
import { LibvirtSource, type VirshRunner } from './libvirt-source.ts';
import { StaticSource } from './static-source.ts';
import type { TestbedAttach } from '../testbed/attach-view.ts';
import { TestbedSource } from './testbed-source.ts';
import type { InventorySource } from './types.ts';

/** Overrides for the sources' side effects (tests, the simulator). */
export interface SourceDeps {
  readonly logger?: Logger;
  readonly virsh?: VirshRunner;
  readonly attachTestbed?: TestbedAttach;
  /** The static list to read at each poll (so reloads apply); default: the given config's list. */
  readonly staticEntries?: () => DaqsConfig['inventory']['static'];
}

/** The source `inventory.source` names. A change of source needs a new poller (restart or re-create). */
export function createInventorySource(config: DaqsConfig, deps: SourceDeps = {}): InventorySource {
  switch (config.inventory.source) {
    case 'libvirt':
      return new LibvirtSource({ uri: config.inventory.libvirt.uri, ...(deps.virsh ? { run: deps.virsh } : {}), ...(deps.logger ? { logger: deps.logger } : {}) });
    case 'static':
      return new StaticSource(deps.staticEntries ?? (() => config.inventory.static));
    case 'testbed':
      // The schema guarantees port.testbed for this source.
      return new TestbedSource(config.port.testbed ?? '', deps.attachTestbed);
  }
}
