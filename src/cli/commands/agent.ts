/**
 * `daqs agent`: talk to one VM's guest agent the way the daemon does, to check a VM by hand:
 * its capabilities, its VF TX counter and rate, and the cap in force (or set one).
 */
import { parseArgs } from 'node:util';
import { AgentVmEndpoint } from '../../endpoint/agent-endpoint.ts';
import { checkCapabilities, missingCapabilities, parseGuestInfo } from '../../agent/capabilities.ts';
import { LibvirtAgent } from '../../agent/libvirt-agent.ts';
import { QgaClient } from '../../agent/qga-client.ts';
import type { GuestAgent } from '../../agent/types.ts';
import { RateEstimator } from '../../telemetry/rate-estimator.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = "query a VM's guest agent: capabilities, VF TX rate, the tc cap in force (or set it)";

const USAGE = `usage: daqs agent (--socket PATH | --domain NAME [--uri URI]) ACTION [options]

actions:
  info                 agent version and whether daqs can use it
  stats                VF TX counter and rate (needs --mac or --iface)
  cap [RATE|none]      show the cap in force on the VF, or set it (e.g. 500mbit) / lift it (none)

options:
  --socket PATH        qemu-ga unix socket (daqs must be its only client)
  --domain NAME        libvirt domain (through virsh qemu-agent-command)
  --uri URI            libvirt connection URI (default: virsh's)
  --mac MAC            VF MAC address in the guest (preferred way to find the VF)
  --iface NAME         VF interface name in the guest
  --count N            stats: samples to take (default 5)
  --interval-ms MS     stats: time between samples (default 1000)
  --timeout-ms MS      bound on each agent call (default 900)
  -h, --help`;

const OPTIONS = {
  socket: { type: 'string' },
  domain: { type: 'string' },
  uri: { type: 'string' },
  mac: { type: 'string' },
  iface: { type: 'string' },
  count: { type: 'string', default: '5' },
  'interval-ms': { type: 'string', default: '1000' },
  'timeout-ms': { type: 'string', default: '900' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} ${JSON.stringify(v)}: expected a positive whole number`);
  return n;
}

/** Runs `daqs agent`. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const [action, arg, ...extra] = positionals;
  if (!action || !['info', 'stats', 'cap'].includes(action)) throw new UsageError(`expected an action (info, stats or cap)\n${USAGE}`);
  if (extra.length > 0 || (arg !== undefined && action !== 'cap')) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0] ?? arg)}`);
  if ((o.socket === undefined) === (o.domain === undefined)) throw new UsageError('give exactly one of --socket PATH or --domain NAME');
  const timeoutMs = positiveInt('timeout-ms', o['timeout-ms']);
  const agent: GuestAgent = o.socket !== undefined
    ? new QgaClient({ socketPath: o.socket, defaultTimeoutMs: timeoutMs })
    : new LibvirtAgent({ domain: o.domain ?? '', uri: o.uri, defaultTimeoutMs: timeoutMs });
  try {
    if (action === 'info') {
      const caps = parseGuestInfo(agent.vm, await agent.execute('guest-info'));
      const problems = missingCapabilities(caps);
      console.log(`qemu-ga ${caps.version}: ${problems.length === 0 ? 'usable by daqs' : `NOT usable: ${problems.join('; ')}`}`);
      return problems.length === 0 ? 0 : 1;
    }
    if (o.mac === undefined && o.iface === undefined) throw new UsageError(`${action} needs --mac MAC or --iface NAME to find the VF`);
    const ep = new AgentVmEndpoint({ id: agent.vm, agent, iface: { mac: o.mac, name: o.iface } });
    if (action === 'stats') {
      const count = positiveInt('count', o.count);
      const intervalMs = positiveInt('interval-ms', o['interval-ms']);
      const est = new RateEstimator();
      for (let i = 0; i < count; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
        const s = await ep.readTx();
        const r = est.update(s);
        console.log(`tx ${s.txBytes} bytes  rate ${r.rateBps === null ? `- (${r.status})` : formatRate(r.rateBps)}`);
      }
      return 0;
    }
    if (arg !== undefined) {
      await checkCapabilities(agent);
      await ep.applyCap(arg === 'none' ? null : parseRateBps(arg));
    }
    const cap = await ep.readCap();
    console.log(`cap ${cap.capBps === null ? 'none' : formatRate(cap.capBps)}  (${cap.detail})`);
    return 0;
  } finally {
    await agent.close();
  }
}
