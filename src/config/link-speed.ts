import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the kernel publishes network interfaces; tests point this at a directory of their own. */
export const SYSFS_NET = '/sys/class/net';

/** The link speed of an interface could not be read; the fix is to set port.capacity. */
export class LinkSpeedError extends Error {
  readonly code = 'E_LINK_SPEED_UNKNOWN';
  constructor(readonly iface: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot read the link speed of ${iface}: ${reason}; set port.capacity (e.g. capacity: 40gbit) in the config`, options);
    this.name = 'LinkSpeedError';
  }
}

/**
 * Reads an interface's negotiated speed from sysfs (`speed` is in Mbit/s) as bits/s.
 * The kernel answers EINVAL when the link is down and -1 (SPEED_UNKNOWN) for devices that do
 * not know their speed; both are errors here because a wrong capacity breaks every decision.
 */
export async function readLinkSpeedBps(iface: string, sysfsNet = SYSFS_NET): Promise<number> {
  // The name becomes a path component: refuse anything that could leave the directory.
  if (!/^[^\s/:]{1,15}$/.test(iface) || iface === '.' || iface === '..') throw new LinkSpeedError(iface, 'not a valid interface name');
  let text: string;
  try {
    text = await readFile(join(sysfsNet, iface, 'speed'), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LinkSpeedError(iface, `no such interface (${join(sysfsNet, iface)} does not exist)`, { cause: e });
    if (code === 'EINVAL') throw new LinkSpeedError(iface, 'the kernel reports no speed (link down, or a virtual device)', { cause: e });
    throw new LinkSpeedError(iface, (e as Error).message, { cause: e });
  }
  const mbit = Number(text.trim());
  if (!Number.isInteger(mbit) || mbit <= 0 || mbit === 0xffffffff) {
    throw new LinkSpeedError(iface, `the kernel reports speed ${JSON.stringify(text.trim())} Mbit/s (unknown)`);
  }
  return mbit * 1e6;
}
