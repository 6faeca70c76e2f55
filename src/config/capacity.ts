import type { DaqsConfig } from './schema.ts';

/** Where the port capacity came from, for status and logs. */
export type CapacitySource = 'config' | 'link-speed' | 'testbed';

/** The port's nominal capacity. */
export interface PortCapacity {
  readonly capacityBps: number;
  readonly source: CapacitySource;
}

/** How to learn a capacity the file does not give. */
export interface CapacityDeps {
  /** Link speed of a host interface in bits/s (readLinkSpeedBps). */
  linkSpeedBps(iface: string): Promise<number>;
  /** Port rate of a running emulated host in bits/s. */
  testbedCapacityBps(name: string): Promise<number>;
}

/** The configured capacity, else the interface's link speed, else the testbed's port rate. */
export async function resolvePortCapacity(port: DaqsConfig['port'], deps: CapacityDeps): Promise<PortCapacity> {
  if (port.capacityBps !== null) return { capacityBps: port.capacityBps, source: 'config' };
  if (port.interface !== null) return { capacityBps: await deps.linkSpeedBps(port.interface), source: 'link-speed' };
  if (port.testbed !== null) return { capacityBps: await deps.testbedCapacityBps(port.testbed), source: 'testbed' };
  // The schema refuses a port with neither; this keeps the type honest.
  throw new Error('port has neither interface nor testbed');
}
