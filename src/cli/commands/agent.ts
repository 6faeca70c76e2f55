/**
 * `daqs agent`: talk to one VM's guest agent the way the daemon does, to check a VM by hand:
 * its capabilities, its VF TX counter and rate, and the cap in force (or set one).
 */
import { AgentVmEndpoint } from '../../endpoint/agent-endpoint.ts';
import { checkCapabilities, missingCapabilities, parseGuestInfo } from '../../agent/capabilities.ts';
import { LibvirtAgent } from '../../agent/libvirt-agent.ts';
import { QgaClient } from '../../agent/qga-client.ts';
import type { GuestAgent } from '../../agent/types.ts';
import { RateEstimator } from '../../telemetry/rate-estimator.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { defineCommand, UsageError } from '../define.ts';
import { wholeNumber } from '../values.ts';

function capArg(text: string): number {
  try {
    return parseRateBps(text);
  } catch (err) {
    throw new UsageError(`cap ${JSON.stringify(text)}: ${(err as Error).message}; or none to lift the cap`);
  }
}

/** Runs `daqs agent`. */
export const run = defineCommand({
  name: 'agent',
  description: "Talks to one VM's guest agent the way the daemon does, to check a VM by hand.",
  args: [
    {
      name: 'action',
      choices: {
        info: 'agent version and whether daqs can use it',
        stats: 'VF TX counter and rate (needs --mac or --iface)',
        cap: 'show the cap in force on the VF, or set it (cap RATE, e.g. cap 500mbit) or lift it (cap none)',
      },
    },
    { name: 'RATE|none', optional: true, help: 'cap only: the cap to set, or none to lift it' },
  ],
  options: {
    socket: { type: 'string', value: 'PATH', help: 'qemu-ga unix socket (daqs must be its only client)' },
    domain: { type: 'string', value: 'NAME', help: 'libvirt domain (through virsh qemu-agent-command)' },
    uri: { type: 'string', value: 'URI', help: "libvirt connection URI (default: virsh's)" },
    mac: { type: 'string', value: 'MAC', help: 'VF MAC address in the guest (preferred way to find the VF)' },
    iface: { type: 'string', value: 'NAME', help: 'VF interface name in the guest' },
    count: { type: 'string', value: 'N', default: '5', parse: wholeNumber(1), help: 'stats: samples to take' },
    'interval-ms': { type: 'string', value: 'MS', default: '1000', parse: wholeNumber(1), help: 'stats: time between samples' },
    'timeout-ms': { type: 'string', value: 'MS', default: '900', parse: wholeNumber(1), help: 'bound on each agent call' },
  },
}, async ({ values: o, args }, io) => {
  const [action, arg] = args;
  if (arg !== undefined && action !== 'cap') throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: only cap takes one`);
  const newCapBps = arg === undefined || arg === 'none' ? null : capArg(arg);
  if ((o.socket === undefined) === (o.domain === undefined)) throw new UsageError('give exactly one of --socket PATH or --domain NAME');
  const timeoutMs = o['timeout-ms'];
  const agent: GuestAgent = o.socket !== undefined
    ? new QgaClient({ socketPath: o.socket, defaultTimeoutMs: timeoutMs })
    : new LibvirtAgent({ domain: o.domain ?? '', uri: o.uri, defaultTimeoutMs: timeoutMs });
  try {
    if (action === 'info') {
      const caps = parseGuestInfo(agent.vm, await agent.execute('guest-info'));
      const problems = missingCapabilities(caps);
      io.out(`qemu-ga ${caps.version}: ${problems.length === 0 ? 'usable by daqs' : `NOT usable: ${problems.join('; ')}`}`);
      return problems.length === 0 ? 0 : 1;
    }
    if (o.mac === undefined && o.iface === undefined) throw new UsageError(`${action} needs --mac MAC or --iface NAME to find the VF`);
    const ep = new AgentVmEndpoint({ id: agent.vm, agent, iface: { mac: o.mac, name: o.iface } });
    if (action === 'stats') {
      const count = o.count;
      const intervalMs = o['interval-ms'];
      const est = new RateEstimator();
      for (let i = 0; i < count; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
        const s = await ep.readTx();
        const r = est.update(s);
        io.out(`tx ${s.txBytes} bytes  rate ${r.rateBps === null ? `- (${r.status})` : formatRate(r.rateBps)}`);
      }
      return 0;
    }
    if (arg !== undefined) {
      await checkCapabilities(agent);
      await ep.applyCap(newCapBps);
    }
    const cap = await ep.readCap();
    io.out(`cap ${cap.capBps === null ? 'none' : formatRate(cap.capBps)}  (${cap.detail})`);
    return 0;
  } finally {
    await agent.close();
  }
});
