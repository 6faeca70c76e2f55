/**
 * Reading guest-network-get-interfaces and choosing the VF among the guest's interfaces by
 * its MAC (or a configured name), never by position: guests add bridges, VLANs and tunnels,
 * and "the last interface" is whatever the guest created last.
 *
 * The reply is the guest's: an interface's name is kept exactly (tc must be given the very
 * name the kernel has, whatever its characters) but only when the kernel could have it, and
 * it is cleaned (src/util/guest-text.ts) wherever it goes into a message. Entries the kernel
 * cannot have (IPv4 alias labels like "eth0:1", which getifaddrs lists with the MAC of their
 * device; over-long or empty names) are skipped, so they can neither hide the VF behind an
 * ambiguous MAC nor be handed to tc.
 */
import { guestText } from '../util/guest-text.ts';
import { isKernelIfaceName } from '../util/iface-name.ts';
import { toCounter, type JsonValue } from '../util/json.ts';
import { TelemetryError } from './errors.ts';

/** Counters of one guest interface (exact 64-bit values). */
export interface InterfaceStats {
  readonly txBytes: bigint;
  readonly rxBytes: bigint;
  readonly txPackets: bigint | null;
  readonly txDropped: bigint | null;
}

/** One guest interface as the agent reported it. */
export interface GuestInterface {
  /** Exactly as the guest's kernel has it (any characters a kernel name may have): for tc's argv, never for messages. */
  readonly name: string;
  /** Lowercase "aa:bb:..."; null when the agent gave none. */
  readonly mac: string | null;
  /** null when the agent reported no statistics for it (old agent, or e.g. an ifb). */
  readonly stats: InterfaceStats | null;
}

/** Which guest interface is the VM's VF. */
export interface IfaceSelector {
  /** VF MAC address (any case); preferred. */
  readonly mac?: string;
  /** Interface name in the guest; used when no MAC is given, or to break a MAC tie. */
  readonly name?: string;
}

/** Normalises a MAC to lowercase colon form; null if it is not a 6-byte MAC. */
export function normalizeMac(mac: string): string | null {
  const hex = mac.toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  return hex.match(/../g)?.join(':') ?? null;
}

/** Parses a guest-network-get-interfaces reply; a reply that is not a list is E_TELEMETRY_BAD_REPLY. */
export function parseGuestInterfaces(vm: string, reply: JsonValue): GuestInterface[] {
  if (!Array.isArray(reply)) throw new TelemetryError('E_TELEMETRY_BAD_REPLY', vm, 'guest-network-get-interfaces did not return a list');
  const out: GuestInterface[] = [];
  for (const it of reply) {
    if (!it || typeof it !== 'object' || Array.isArray(it) || typeof it.name !== 'string' || !isKernelIfaceName(it.name)) continue;
    const hw = it['hardware-address'];
    const st = it.statistics;
    let stats: InterfaceStats | null = null;
    if (st && typeof st === 'object' && !Array.isArray(st)) {
      const tx = toCounter(st['tx-bytes']);
      const rx = toCounter(st['rx-bytes']);
      if (tx !== null && rx !== null) stats = { txBytes: tx, rxBytes: rx, txPackets: toCounter(st['tx-packets']), txDropped: toCounter(st['tx-dropped']) };
    }
    out.push({ name: it.name, mac: typeof hw === 'string' ? normalizeMac(hw) : null, stats });
  }
  return out;
}

/** Picks the VF interface; errors name what was looked for, what exists, and how to fix it. */
export function pickInterface(vm: string, ifaces: readonly GuestInterface[], sel: IfaceSelector): GuestInterface {
  const seen = describeInterfaces(ifaces);
  let found: GuestInterface[];
  let wanted: string;
  if (sel.mac !== undefined) {
    const mac = normalizeMac(sel.mac);
    if (!mac) throw new TelemetryError('E_TELEMETRY_SELECTOR', vm, `invalid VF MAC ${JSON.stringify(sel.mac)}: expected six hex bytes like 52:54:00:12:34:56`);
    found = ifaces.filter((i) => i.mac === mac);
    if (found.length > 1 && sel.name !== undefined) found = found.filter((i) => i.name === sel.name);
    wanted = `MAC ${mac}${sel.name ? ` and name ${sel.name}` : ''}`;
  } else if (sel.name !== undefined) {
    found = ifaces.filter((i) => i.name === sel.name);
    wanted = `name ${sel.name}`;
  } else {
    throw new TelemetryError('E_TELEMETRY_SELECTOR', vm, 'no VF interface selector: configure the VF MAC (preferred) or the guest interface name');
  }
  const [first, second] = found;
  if (!first) throw new TelemetryError('E_TELEMETRY_NO_IFACE', vm, `no guest interface with ${wanted}; the guest has: ${seen}. Check the VF MAC in the configuration`);
  if (second) throw new TelemetryError('E_TELEMETRY_AMBIGUOUS_IFACE', vm, `${found.length} guest interfaces have ${wanted} (${describeInterfaces(found, false)}): configure the interface name too`);
  return first;
}

/** The guest's interfaces for a message: names cleaned, at most 8 listed (a guest may have thousands). */
export function describeInterfaces(ifaces: readonly GuestInterface[], withMac = true): string {
  const shown = ifaces.slice(0, 8).map((i) => `${ifaceLabel(i.name)}${withMac && i.mac ? ` (${i.mac})` : ''}`);
  if (ifaces.length > shown.length) shown.push(`and ${ifaces.length - shown.length} more`);
  return shown.join(', ') || 'none';
}

/** An interface name as messages show it: cleaned, quoted when cleaning changed it. */
export function ifaceLabel(name: string): string {
  const clean = guestText(name, 32);
  return clean === name ? name : JSON.stringify(clean);
}
