/** The emulated host's public types (re-exported by index.ts). */

/** What to build: instance name, VM count, port capacity, and where its state lives. */
export interface TestbedOptions {
  /** Short instance name (lowercase letters/digits, ≤ 8 chars); prefixes every namespace. */
  name: string;
  vms: number;
  capacityBps: number;
  /** Parent of the instance directory; default /run/daqs/testbed. */
  stateDir?: string;
  /** How many VMs (0..real-1) are real QEMU guests instead of namespaces; default 0. */
  real?: number;
  /** Start the real guests through the instance's own libvirtd (domains defined from XML) instead of QEMU directly. */
  libvirt?: boolean;
  /** Guest RAM per real guest, MiB (default DEFAULT_GUEST_MEMORY_MIB, 128). */
  guestMemoryMiB?: number;
  /** `<daqs:sla>` attributes written into each libvirt domain's metadata, by VM index (verbatim, as an operator would). */
  domainSla?: Readonly<Record<number, Readonly<Record<string, string>>>>;
}

/** How a VM is emulated: a namespace with qemu-ga beside it, or a real QEMU guest (started directly or by libvirt). */
export type TestbedVmKind = 'namespace' | 'qemu' | 'libvirt';

/** One emulated VM: a namespace with a "VF" and a real qemu-ga, or a real QEMU guest whose NIC is a tap on the switch. */
export interface TestbedVm {
  index: number;
  /** `${name}-vm${index}`, used as the VmId (and the libvirt domain name). */
  id: string;
  /** How the VM is emulated (absent: a namespace, as before real guests existed). */
  kind?: TestbedVmKind;
  /** The VM's namespace ('' for a real guest: it has its own kernel) and its "VF" interface inside it. */
  netns: string;
  iface: string;
  /** VF MAC (unique, fixed plan) and IPv4. */
  mac: string;
  ip: string;
  /** Unix socket of the real qemu-ga serving this VM. */
  agentSocket: string;
}

/** iperf2 sender settings: threads (-P), optional per-thread rate (-b), duration (-t; default until stopped). */
export interface TrafficOptions {
  threads: number;
  perThreadRateBps?: number;
  durationS?: number;
}

/** A running sender; `stop` is safe to repeat. */
export interface TrafficHandle {
  stop(): Promise<void>;
  /** Resolves with iperf's exit code when it ends by itself or is stopped (additive to the agreed API). */
  readonly exited?: Promise<number | null>;
}

/** An emulated SR-IOV host. */
export interface Testbed {
  readonly name: string;
  readonly capacityBps: number;
  readonly vms: readonly TestbedVm[];
  readonly remote: { netns: string; ip: string };
  /** URI of the instance's own libvirtd when its real guests run under libvirt, else null or absent. */
  readonly libvirtUri?: string | null;
  /** iperf2 client(s) in the VM (-P threads, -b per-thread rate), to the iperf2 server in the remote namespace. */
  startTraffic(vmIndex: number, opts: TrafficOptions): Promise<TrafficHandle>;
  stopAllTraffic(): Promise<void>;
  /** Switch-side counter of that VF (the host's trusted view). */
  readHostTxBytes(vmIndex: number): Promise<bigint>;
  /** One command for all VFs (cheap, for per-tick sampling); index i is VM i. */
  readAllHostTxBytes(): Promise<bigint[]>;
  /** Bytes the port delivered toward the remote host (additive to the agreed API). */
  readPortTxBytes(): Promise<bigint>;
  /** Emulated `ip link set PF vf N max_tx_rate`; null lifts the limit. */
  setVfLimit(vmIndex: number, capBps: number | null): Promise<void>;
  /** "Oracle": per-VF HTB classes on the port (rate given, ceil = capacity, leftover VFs share the rest); null restores the single port class. */
  setPortScheduler(classes: { vmIndex: number; rateBps: number }[] | null): Promise<void>;
  down(): Promise<void>;
}
