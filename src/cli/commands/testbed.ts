/** `daqs testbed up|status|down`: the emulated SR-IOV host from the command line. */
import { parseArgs } from 'node:util';
import { agentCall, testbedAttach, testbedDown, testbedUp, type Testbed } from '../../testbed/index.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'bring the emulated SR-IOV host (namespaces, qemu-ga per VM, shaped port) up, show it, take it down';

const USAGE = `usage: daqs testbed <up|status|down> [options]

  up       build the emulated host (idempotent: an instance already up is shown as it is)
  status   show an instance: VMs, agent sockets, whether each agent answers, TX counters
  down     remove every namespace, link, process and file of the instance (also after a crash)

options:
  --name NAME        instance name, 1-8 lowercase letters/digits (default daqs)
  --vms N            number of VMs, 1-250 (up only; default 8)
  --capacity RATE    port capacity, tc units (up only; default 2gbit, standing for the paper's 40)
  --json             print JSON instead of a table
  -h, --help`;

const OPTIONS = {
  name: { type: 'string', default: 'daqs' },
  vms: { type: 'string', default: '8' },
  capacity: { type: 'string', default: '2gbit' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseVms(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`--vms ${JSON.stringify(text)} is not a whole number; use e.g. --vms 8.`);
  return Number(text);
}

function parseCapacity(text: string): number {
  try {
    return parseRateBps(text);
  } catch (e) {
    throw new UsageError(`--capacity: ${(e as Error).message}`);
  }
}

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
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}\n${USAGE}`);
  switch (action) {
    case 'up': {
      const tb = await testbedUp({ name: values.name, vms: parseVms(values.vms), capacityBps: parseCapacity(values.capacity) });
      console.log(values.json ? JSON.stringify(testbedJson(tb), null, 2) : `${renderTestbed(tb)}\ntake it down with: daqs testbed down --name ${tb.name}`);
      return 0;
    }
    case 'status': {
      const tb = await testbedAttach(values.name);
      const agents = await Promise.all(tb.vms.map((vm) => agentCall(vm.agentSocket, undefined, undefined, 2000).then(() => true, () => false)));
      const txBytes = await tb.readAllHostTxBytes();
      console.log(values.json ? JSON.stringify(testbedJson(tb, agents, txBytes), null, 2) : renderTestbed(tb, agents, txBytes));
      return agents.every(Boolean) ? 0 : 1;
    }
    case 'down':
      await testbedDown(values.name);
      if (!values.json) console.log(`testbed ${values.name}: down`);
      return 0;
    default:
      throw new UsageError(`${action === undefined ? 'missing action' : `unknown action ${JSON.stringify(action)}`}: use up, status or down.\n${USAGE}`);
  }
}
