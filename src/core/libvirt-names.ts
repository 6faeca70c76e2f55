/**
 * Names daqs shares with guests and libvirt: virtio-serial channel names and the domain
 * metadata namespace. They live here, at the bottom of the import graph, because both the
 * inventory (which reads them) and the emulated host (which writes them into guests and
 * domain XML) need the same strings.
 */

/** Target name of the standard guest agent channel (libvirt connects to it itself). */
export const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';
/** Target name of daqs' dedicated channel, served in the guest by a second qemu-ga. */
export const DAQS_AGENT_CHANNEL = 'org.daqs.agent.0';
/** daqs' metadata namespace URI (`virsh metadata DOM URI`). */
export const DAQS_METADATA_NS = 'https://daqs.dev/xmlns/sla/1';
/** The element name inside that namespace. */
export const DAQS_METADATA_ELEMENT = 'sla';
