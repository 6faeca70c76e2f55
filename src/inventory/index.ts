/** The inventory: which VMs run, how to reach their agent, which VF is theirs, and their SLA. */
export { createInventorySource, type SourceDeps } from './create-source.ts';
export { parseDomainXml, type DomainChannel, type DomainInfo, type DomainVf } from './domain-xml.ts';
export { countInventoryStatuses, inventoryStatusOf } from './health.ts';
export { InventoryError, type InventoryErrorCode } from './errors.ts';
export { chooseAgent, DAQS_AGENT_CHANNEL, describeDomain, GUEST_AGENT_CHANNEL } from './libvirt-describe.ts';
export { LibvirtSource, runVirsh, type LibvirtSourceOptions, type VirshRunner } from './libvirt-source.ts';
export { buildInventory, carryOver, chooseVf, DEFAULT_SLA, resolveSla, type BuildInventoryInput } from './merge.ts';
export { DAQS_METADATA_ELEMENT, DAQS_METADATA_KEY, DAQS_METADATA_NS, parseSlaAttributes } from './metadata.ts';
export { diffInventory, InventoryPoller, type InventoryChange, type InventoryPollerOptions, type InventorySettings } from './poller.ts';
export { StaticSource, type StaticVmEntry } from './static-source.ts';
export { attachTestbed, TestbedAttachError, type TestbedAttach, type TestbedView, type TestbedVmView } from '../testbed/attach-view.ts';
export { TestbedSource } from './testbed-source.ts';
export type { AgentRef, AgentStatus, DiscoveredVm, InventorySource, InventoryVm, SlaSettings, SlaSources, VfRef } from './types.ts';
export { isDomainGone, parseDomainList, virshErrorText } from './virsh-output.ts';
