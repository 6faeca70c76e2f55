/**
 * Reads what daqs needs from a live domain XML (`virsh dumpxml DOM`, format documented at
 * libvirt.org/formatdomain.html): name, VFs (`<interface type='hostdev'>` with MAC and PCI
 * source, plain `<hostdev type='pci'>`), unix channels (guest agent and daqs' own), and the
 * `<metadata>` element in daqs' namespace. Pure: XML text in, DomainInfo out.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { InventoryError } from './errors.ts';
import { DAQS_METADATA_ELEMENT, DAQS_METADATA_NS } from './metadata.ts';

/** A VF attached to a domain. */
export interface DomainVf {
  /** Only `<interface type='hostdev'>` has a MAC; a plain `<hostdev>` gets its MAC from the host. */
  readonly mac?: string;
  readonly pciAddress?: string;
  /** 'interface' or 'hostdev': which element it came from. */
  readonly element: 'interface' | 'hostdev';
}

/** A `<channel type='unix'>`. */
export interface DomainChannel {
  /** Target name seen by the guest: org.qemu.guest_agent.0, org.daqs.agent.0, ... */
  readonly name: string;
  readonly path?: string;
  /** 'bind' (QEMU listens: a client may connect) or 'connect'. */
  readonly mode?: string;
  /** Live XML only: whether the guest has opened its end (qemu-ga running). */
  readonly state?: 'connected' | 'disconnected';
}

/** What daqs reads from a domain's XML. */
export interface DomainInfo {
  readonly name: string;
  /** Live XML of a running domain carries its id; an inactive definition does not. */
  readonly running: boolean;
  readonly uuid?: string;
  readonly vfs: readonly DomainVf[];
  readonly channels: readonly DomainChannel[];
  /** Attributes of <sla> in daqs' namespace (xmlns attributes removed); null when absent. */
  readonly slaMetadata: Readonly<Record<string, string>> | null;
}

type XmlNode = Record<string, unknown>;

const ATTR = '@_';
// Elements that may repeat; forcing arrays spares every reader a "one or many" check.
const ALWAYS_ARRAY = new Set(['domain.devices.interface', 'domain.devices.hostdev', 'domain.devices.channel']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  isArray: (_name, jpath) => ALWAYS_ARRAY.has(String(jpath)),
});

/** Parses live domain XML; throws InventoryError E_DOMAIN_XML (with the line) when it is not a domain. */
export function parseDomainXml(xml: string, vmHint = '?'): DomainInfo {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new InventoryError('E_DOMAIN_XML', `domain XML of ${vmHint} is not well-formed: ${valid.err.msg} (line ${valid.err.line})`, vmHint);
  }
  const doc = parser.parse(xml) as XmlNode;
  const domain = asNode(doc.domain);
  const name = text(domain?.name);
  if (!domain || !name) throw new InventoryError('E_DOMAIN_XML', `XML of ${vmHint} is not a libvirt domain (no <domain><name>)`, vmHint);
  const devices = asNode(domain.devices) ?? {};
  const vfs: DomainVf[] = [];
  for (const iface of nodes(devices.interface)) {
    if (attr(iface, 'type') !== 'hostdev') continue;
    const mac = attr(asNode(iface.mac), 'address')?.toLowerCase();
    const pciAddress = pciOf(asNode(asNode(iface.source)?.address));
    vfs.push({ element: 'interface', ...(mac ? { mac } : {}), ...(pciAddress ? { pciAddress } : {}) });
  }
  for (const dev of nodes(devices.hostdev)) {
    if (attr(dev, 'mode') !== 'subsystem' || attr(dev, 'type') !== 'pci') continue;
    const pciAddress = pciOf(asNode(asNode(dev.source)?.address));
    vfs.push({ element: 'hostdev', ...(pciAddress ? { pciAddress } : {}) });
  }
  const channels: DomainChannel[] = [];
  for (const ch of nodes(devices.channel)) {
    if (attr(ch, 'type') !== 'unix') continue;
    const target = asNode(ch.target);
    const source = asNode(ch.source);
    const chName = attr(target, 'name');
    if (!chName) continue;
    const state = attr(target, 'state');
    channels.push({
      name: chName,
      ...(attr(source, 'path') ? { path: attr(source, 'path') } : {}),
      ...(attr(source, 'mode') ? { mode: attr(source, 'mode') } : {}),
      ...(state === 'connected' || state === 'disconnected' ? { state } : {}),
    });
  }
  const uuid = text(domain.uuid);
  return { name, running: attr(domain, 'id') !== undefined, ...(uuid ? { uuid } : {}), vfs, channels, slaMetadata: findSlaMetadata(domain) };
}

// Namespaces are matched by URI, not prefix: `virsh metadata --key` picks the prefix, and an
// element from someone else's namespace may also be called "sla".
function findSlaMetadata(domain: XmlNode): Record<string, string> | null {
  const metadata = asNode(domain.metadata);
  if (!metadata) return null;
  const inherited = { ...namespaces(domain), ...namespaces(metadata) };
  for (const [qname, value] of Object.entries(metadata)) {
    if (qname.startsWith(ATTR) || qname === '#text') continue;
    const [prefix, local] = qname.includes(':') ? (qname.split(':', 2) as [string, string]) : ['', qname];
    if (local !== DAQS_METADATA_ELEMENT) continue;
    for (const el of nodes(value)) {
      const ns = { ...inherited, ...namespaces(el) };
      if (ns[prefix] !== DAQS_METADATA_NS) continue;
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(el)) {
        if (k.startsWith(ATTR) && !k.startsWith(`${ATTR}xmlns`) && typeof v === 'string') attrs[k.slice(ATTR.length)] = v;
      }
      return attrs;
    }
  }
  return null;
}

function namespaces(node: XmlNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(node)) {
    if (typeof v !== 'string') continue;
    if (k === `${ATTR}xmlns`) out[''] = v;
    else if (k.startsWith(`${ATTR}xmlns:`)) out[k.slice(ATTR.length + 'xmlns:'.length)] = v;
  }
  return out;
}

// libvirt writes PCI addresses as hex attributes: domain='0x0000' bus='0x03' slot='0x10' function='0x1'.
function pciOf(address: XmlNode | undefined): string | undefined {
  if (!address) return undefined;
  const type = attr(address, 'type');
  if (type !== undefined && type !== 'pci') return undefined;
  const parts = ['domain', 'bus', 'slot', 'function'].map((k) => Number.parseInt(attr(address, k) ?? '', 16));
  const [dom, bus, slot, fn] = parts;
  if (parts.some((p) => !Number.isInteger(p)) || dom === undefined || bus === undefined || slot === undefined || fn === undefined) return undefined;
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(dom, 4)}:${hex(bus, 2)}:${hex(slot, 2)}.${fn.toString(16)}`;
}

function asNode(v: unknown): XmlNode | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as XmlNode) : undefined;
}

function nodes(v: unknown): XmlNode[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  // `<metadata><daqs:sla/></metadata>`: an empty element parses as "", not an object.
  return list.map((x) => asNode(x) ?? {});
}

function attr(node: XmlNode | undefined, name: string): string | undefined {
  const v = node?.[`${ATTR}${name}`];
  return typeof v === 'string' ? v : undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const t = asNode(v)?.['#text'];
  return typeof t === 'string' ? t : undefined;
}
