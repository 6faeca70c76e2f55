/** Turns what a domain's XML says into a DiscoveredVm: which agent to use, its VFs, its metadata. Pure. */
import { DAQS_AGENT_CHANNEL, GUEST_AGENT_CHANNEL } from '../core/libvirt-names.ts';
import type { DomainInfo } from './domain-xml.ts';
import { parseSlaAttributes } from './metadata.ts';
import type { AgentRef, AgentStatus, DiscoveredVm, SlaSettings } from './types.ts';

export { DAQS_AGENT_CHANNEL, GUEST_AGENT_CHANNEL };

/**
 * Prefers daqs' dedicated channel: daqs owns its socket alone and talks to qemu-ga directly,
 * without a virsh process per request. Falls back to the standard agent through libvirt,
 * which owns that socket.
 */
export function chooseAgent(info: DomainInfo, uri: string): { agent: AgentRef | null; status: AgentStatus; problems: string[] } {
  const problems: string[] = [];
  const own = info.channels.find((c) => c.name === DAQS_AGENT_CHANNEL);
  if (own) {
    if (own.path && own.mode !== 'connect') {
      return {
        agent: { kind: 'unix', socket: own.path },
        status: own.state === 'disconnected'
          ? { state: 'not-ready', reason: `channel ${DAQS_AGENT_CHANNEL} is disconnected: the guest has not opened it (is daqs' qemu-ga instance running in the guest?)` }
          : { state: 'ready' },
        problems,
      };
    }
    problems.push(`channel ${DAQS_AGENT_CHANNEL} is unusable (${own.path ? "source mode='connect'" : 'no source path'}): give it <source mode='bind' path='/run/daqs/agents/${info.name}.sock'/>; using ${GUEST_AGENT_CHANNEL} instead`);
  }
  const ga = info.channels.find((c) => c.name === GUEST_AGENT_CHANNEL);
  if (ga) {
    return {
      agent: { kind: 'libvirt', uri, domain: info.name },
      status: ga.state === 'disconnected'
        ? { state: 'not-ready', reason: `channel ${GUEST_AGENT_CHANNEL} is disconnected: qemu-ga is not running in the guest (yet)` }
        : { state: 'ready' },
      problems,
    };
  }
  return {
    agent: null,
    status: {
      state: 'no-agent',
      reason: `domain has no guest agent channel: add <channel type='unix'><target type='virtio' name='${GUEST_AGENT_CHANNEL}'/></channel> (or daqs' own ${DAQS_AGENT_CHANNEL} with a source path) and install qemu-guest-agent in the guest`,
    },
    problems,
  };
}

/** A running domain as the inventory reports it. */
export function describeDomain(info: DomainInfo, uri: string): DiscoveredVm {
  const { agent, status, problems } = chooseAgent(info, uri);
  let metadata: SlaSettings | null = null;
  if (info.slaMetadata) {
    const parsed = parseSlaAttributes(info.slaMetadata);
    if (parsed.ok) metadata = parsed.settings;
    else problems.push(...parsed.problems.map((p) => `libvirt metadata <daqs:sla> ignored: ${p}`));
  }
  return {
    id: info.name,
    origin: 'libvirt',
    agent,
    status,
    vfCandidates: info.vfs.map((vf) => ({ ...(vf.mac ? { mac: vf.mac } : {}), ...(vf.pciAddress ? { pciAddress: vf.pciAddress } : {}) })),
    metadata,
    problems,
  };
}
