/** `daqs testbed up|status|down`: the emulated SR-IOV host from the command line. */
import { agentCall, testbedAttach, testbedDown, testbedUp, type Testbed } from '../../testbed/index.ts';
import { formatRate } from '../../units/rate.ts';
import { createLogger, silentLogger } from '../../util/log.ts';
import { defineCommand, UsageError } from '../define.ts';
import { rateBps, wholeNumber } from '../values.ts';

/** One `--sla 0:guarantee=500mbit,max=1gbit` -> [0, {guarantee: '500mbit', max: '1gbit'}]; the values are checked by daqs when it reads the metadata. */
export function parseSlaFlag(text: string): [number, Record<string, string>] {
  const m = /^([0-9]+):(.+)$/.exec(text);
  if (!m) throw new Error(`${JSON.stringify(text)}: expected VM:KEY=VALUE[,KEY=VALUE], e.g. --sla 0:guarantee=500mbit`);
  const attrs: Record<string, string> = {};
  for (const pair of (m[2] as string).split(',')) {
    const kv = /^([a-z]+)=(.+)$/.exec(pair);
    if (!kv) throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(pair)} is not KEY=VALUE (keys: guarantee, max, weight)`);
    attrs[kv[1] as string] = kv[2] as string;
  }
  return [Number(m[1]), attrs];
}

/** Parsed `--sla` values merged per VM index (a later key wins). */
export function mergeSlaFlags(parsed: readonly (readonly [number, Readonly<Record<string, string>>])[]): Record<number, Record<string, string>> {
  const out: Record<number, Record<string, string>> = {};
  for (const [vm, attrs] of parsed) out[vm] = { ...out[vm], ...attrs };
  return out;
}

/** Every `--sla` text merged per VM index. */
export function parseSlaFlags(flags: readonly string[]): Record<number, Record<string, string>> {
  return mergeSlaFlags(flags.map(parseSlaFlag));
}

/** JSON view of a testbed: what scripts and other tools read. */
export function testbedJson(tb: Testbed, agents?: readonly boolean[], txBytes?: readonly bigint[]): unknown {
  return {
    name: tb.name,
    capacityBps: tb.capacityBps,
    remote: tb.remote,
    libvirtUri: tb.libvirtUri ?? null,
    vms: tb.vms.map((vm, i) => ({
      ...vm,
      ...(agents ? { agentAnswers: agents[i] } : {}),
      ...(txBytes ? { hostTxBytes: String(txBytes[i]) } : {}),
    })),
  };
}

/** Human view of a testbed: one line per VM with its agent socket. */
export function renderTestbed(tb: Testbed, agents?: readonly boolean[], txBytes?: readonly bigint[]): string {
  // The kind column only where there is something to tell apart (real guests).
  const kinds = tb.vms.some((vm) => (vm.kind ?? 'namespace') !== 'namespace');
  const lines = [
    `testbed ${tb.name}: ${tb.vms.length} VMs, port ${formatRate(tb.capacityBps)}, remote ${tb.remote.ip} in ${tb.remote.netns}`,
    ...(tb.libvirtUri ? [`libvirt: ${tb.libvirtUri}`] : []),
    ['vm'.padEnd(12), kinds ? 'kind'.padEnd(9) : '', 'ip'.padEnd(11), 'mac'.padEnd(18), agents ? 'agent'.padEnd(6) : '', txBytes ? 'host tx bytes'.padEnd(16) : '', 'agent socket'].filter(Boolean).join(' '),
  ];
  for (const [i, vm] of tb.vms.entries()) {
    lines.push([
      `${vm.id}`.padEnd(12), kinds ? (vm.kind ?? 'namespace').padEnd(9) : '', vm.ip.padEnd(11), vm.mac.padEnd(18),
      agents ? (agents[i] ? 'ok' : 'DOWN').padEnd(6) : '',
      txBytes ? String(txBytes[i]).padEnd(16) : '',
      vm.agentSocket,
    ].filter(Boolean).join(' '));
  }
  return lines.join('\n');
}

/** Runs `daqs testbed ...`. */
export const run = defineCommand({
  name: 'testbed',
  description: 'The emulated SR-IOV host: a namespace per VM with a real qemu-ga (or a real QEMU guest), a shaped port, a remote end.',
  args: [{
    name: 'action',
    choices: {
      up: 'build the emulated host (idempotent: an instance already up is shown as it is)',
      status: 'show an instance: VMs, agent sockets, whether each agent answers, TX counters',
      down: 'remove every namespace, link, process and file of the instance (also after a crash)',
    },
  }],
  options: {
    name: { type: 'string', value: 'NAME', default: 'daqs', help: 'instance name, 1-8 lowercase letters/digits' },
    // The range is the testbed's own rule (E_TESTBED_VMS names it); here only "a whole number".
    vms: { type: 'string', value: 'N', default: '8', parse: wholeNumber(0), help: 'up: number of VMs, 1-250' },
    capacity: { type: 'string', value: 'RATE', default: '2gbit', parse: rateBps({ minBps: 1e6 }), help: "up: port capacity, tc units (standing for the paper's 40gbit)" },
    real: { type: 'string', value: 'K', default: '0', parse: wholeNumber(0), help: 'up: VMs 0..K-1 are real QEMU guests (TCG, Debian kernel, busybox initramfs cached in /var/cache/daqs/guest)' },
    libvirt: { type: 'boolean', help: "up: start the real guests through the testbed's own libvirtd (domains defined from XML); prints its URI" },
    'guest-memory': { type: 'string', value: 'MIB', parse: wholeNumber(0), help: 'up: RAM of each real guest (default 128)' },
    sla: { type: 'string', value: 'I:KEY=V[,KEY=V]', multiple: true, parse: parseSlaFlag, help: 'up --libvirt: <daqs:sla> metadata of domain I, e.g. 0:guarantee=500mbit' },
    json: { type: 'boolean', help: 'print JSON instead of a table' },
  },
}, async ({ values, args }, io) => {
  switch (args[0]) {
    case 'up': {
      const domainSla = mergeSlaFlags(values.sla);
      if (Object.keys(domainSla).length > 0 && !values.libvirt) throw new UsageError('--sla writes libvirt domain metadata: use it with --libvirt.');
      // Building a guest image and booting guests takes seconds: say what happens, on stderr.
      const log = values.real > 0 ? createLogger({ destination: process.stderr, pretty: process.stderr.isTTY === true }) : silentLogger;
      const tb = await testbedUp({
        name: values.name,
        vms: values.vms,
        capacityBps: values.capacity,
        real: values.real,
        libvirt: values.libvirt,
        ...(values['guest-memory'] === undefined ? {} : { guestMemoryMiB: values['guest-memory'] }),
        domainSla,
      }, { log });
      io.out(values.json ? JSON.stringify(testbedJson(tb), null, 2) : `${renderTestbed(tb)}\ntake it down with: daqs testbed down --name ${tb.name}`);
      return 0;
    }
    case 'status': {
      const tb = await testbedAttach(values.name);
      const agents = await Promise.all(tb.vms.map((vm) => agentCall(vm.agentSocket, undefined, undefined, 2000).then(() => true, () => false)));
      const txBytes = await tb.readAllHostTxBytes();
      io.out(values.json ? JSON.stringify(testbedJson(tb, agents, txBytes), null, 2) : renderTestbed(tb, agents, txBytes));
      return agents.every(Boolean) ? 0 : 1;
    }
    case 'down':
    default: // 'down', the only other choice
      await testbedDown(values.name);
      if (!values.json) io.out(`testbed ${values.name}: down`);
      return 0;
  }
});
