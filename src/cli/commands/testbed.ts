/** `daqs testbed up|status|down`: the emulated SR-IOV host from the command line. */
import { agentCall, testbedAttach, testbedDown, testbedUp, type Testbed } from '../../testbed/index.ts';
import { formatRate } from '../../units/rate.ts';
import { defineCommand } from '../define.ts';
import { rateBps, wholeNumber } from '../values.ts';

/** JSON view of a testbed: what scripts and other tools read. */
export function testbedJson(tb: Testbed, agents?: readonly boolean[], txBytes?: readonly bigint[]): unknown {
  return {
    name: tb.name,
    capacityBps: tb.capacityBps,
    remote: tb.remote,
    vms: tb.vms.map((vm, i) => ({
      ...vm,
      ...(agents ? { agentAnswers: agents[i] } : {}),
      ...(txBytes ? { hostTxBytes: String(txBytes[i]) } : {}),
    })),
  };
}

/** Human view of a testbed: one line per VM with its agent socket. */
export function renderTestbed(tb: Testbed, agents?: readonly boolean[], txBytes?: readonly bigint[]): string {
  const lines = [
    `testbed ${tb.name}: ${tb.vms.length} VMs, port ${formatRate(tb.capacityBps)}, remote ${tb.remote.ip} in ${tb.remote.netns}`,
    ['vm'.padEnd(12), 'ip'.padEnd(11), 'mac'.padEnd(18), agents ? 'agent'.padEnd(6) : '', txBytes ? 'host tx bytes'.padEnd(16) : '', 'agent socket'].filter(Boolean).join(' '),
  ];
  for (const [i, vm] of tb.vms.entries()) {
    lines.push([
      `${vm.id}`.padEnd(12), vm.ip.padEnd(11), vm.mac.padEnd(18),
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
  description: 'The emulated SR-IOV host: a namespace per VM with a real qemu-ga, a shaped port, a remote end.',
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
    json: { type: 'boolean', help: 'print JSON instead of a table' },
  },
}, async ({ values, args }, io) => {
  switch (args[0]) {
    case 'up': {
      const tb = await testbedUp({ name: values.name, vms: values.vms, capacityBps: values.capacity });
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
