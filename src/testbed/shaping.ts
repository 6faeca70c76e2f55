/**
 * tc programs of the emulated NIC, as pure argv lists (fed to `tc -batch`): the port's HTB
 * at line rate, the per-VF hardware limiter (IFB + HTB) and the "oracle" per-VF scheduler.
 */
import { tcRate } from '../units/rate.ts';
import { TestbedError } from './errors.ts';
import { IFACES, limiterIface, switchVfIface, vmIp } from './plan.ts';

/** One tc command without the leading `tc`. */
export type TcArgv = readonly string[];

/** Largest skb TCP over veth hands to a qdisc (GSO): every burst must hold at least a couple. */
const GSO_MAX_BYTES = 65_536;

/** Burst and queue of an HTB class emulating a hardware rate, sized from its rate. */
export interface ShaperSizing {
  readonly burstBytes: number;
  readonly queueBytes: number;
  readonly quantumBytes: number;
}

/**
 * Sizes an HTB class so TCP keeps it full: burst of ~2 ms at rate (at least two GSO skbs,
 * since HTB cannot send a packet larger than its burst smoothly), and a byte FIFO of ~10 ms
 * (at least eight GSO skbs): with 4 ms, six flows' slow start and sawtooth drained it and a
 * single flow starved for seconds. Measured figures: docs/testbed.md.
 */
export function sizeShaper(rateBps: number): ShaperSizing {
  const bytesPerMs = rateBps / 8 / 1000;
  return {
    burstBytes: Math.max(2 * GSO_MAX_BYTES, Math.round(bytesPerMs * 2)),
    queueBytes: Math.max(8 * GSO_MAX_BYTES, Math.round(bytesPerMs * 10)),
    // Equal quanta: classes borrowing from the port share the excess equally, as a
    // hardware round-robin between VFs would. Explicit, so HTB never warns about r2q.
    quantumBytes: GSO_MAX_BYTES,
  };
}

function htbClass(dev: string, parent: string, classid: string, rateBps: number, ceilBps: number, s: ShaperSizing): TcArgv {
  return ['class', 'add', 'dev', dev, 'parent', parent, 'classid', classid, 'htb',
    'rate', tcRate(rateBps), 'ceil', tcRate(ceilBps), 'burst', String(s.burstBytes), 'cburst', String(s.burstBytes),
    'quantum', String(s.quantumBytes)];
}

function bfifo(dev: string, parent: string, handle: string, s: ShaperSizing): TcArgv {
  return ['qdisc', 'add', 'dev', dev, 'parent', parent, 'handle', handle, 'bfifo', 'limit', String(s.queueBytes)];
}

/** A guaranteed share of the port for one VF, for the oracle scheduler. */
export interface PortClass {
  readonly vmIndex: number;
  readonly rateBps: number;
}

// Class ids are hex in tc; VF classes start at 0x100 so they never meet 1:1 and 1:2.
const vfClassMinor = (vmIndex: number): string => (0x100 + vmIndex).toString(16);

/**
 * The port program on the switch uplink. Without classes: one class at capacity that every
 * VF shares first come, first served (a plain NIC port). With classes: each listed VF gets
 * its own class at its rate with ceil = capacity, the other VFs share a leftover class;
 * excess is split equally by quantum (what mlx5 min_tx_rate / devlink tx_share approximate).
 * Assumes the root qdisc was deleted first.
 */
export function portProgram(capacityBps: number, vms: number, classes: readonly PortClass[] | null): TcArgv[] {
  const dev = IFACES.uplink;
  const s = sizeShaper(capacityBps);
  const prog: TcArgv[] = [
    ['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '2'],
    htbClass(dev, '1:', '1:1', capacityBps, capacityBps, s),
  ];
  const listed = classes ?? [];
  const seen = new Set<number>();
  let guaranteedBps = 0;
  for (const c of listed) {
    if (!Number.isInteger(c.vmIndex) || c.vmIndex < 0 || c.vmIndex >= vms) {
      throw new TestbedError('E_TESTBED_VM_INDEX', `port class for VM index ${c.vmIndex}: the testbed has VMs 0..${vms - 1}.`);
    }
    if (seen.has(c.vmIndex)) throw new TestbedError('E_TESTBED_RATE', `port classes list VM index ${c.vmIndex} twice; give one rate per VM.`);
    seen.add(c.vmIndex);
    if (!Number.isFinite(c.rateBps) || c.rateBps <= 0) {
      throw new TestbedError('E_TESTBED_RATE', `port class rate ${c.rateBps} bit/s for VM index ${c.vmIndex}: must be a positive number of bit/s.`);
    }
    guaranteedBps += c.rateBps;
  }
  if (guaranteedBps > capacityBps) {
    throw new TestbedError('E_TESTBED_RATE', `port class rates add up to ${guaranteedBps} bit/s, more than the port capacity ${capacityBps} bit/s; lower them.`);
  }
  // HTB needs a positive rate; a leftover class squeezed to 0.1% still borrows up to ceil.
  const leftoverBps = Math.max(capacityBps - guaranteedBps, capacityBps / 1000);
  prog.push(htbClass(dev, '1:1', '1:2', leftoverBps, capacityBps, s), bfifo(dev, '1:2', '2:', s));
  for (const c of listed) {
    const minor = vfClassMinor(c.vmIndex);
    prog.push(
      htbClass(dev, '1:1', `1:${minor}`, c.rateBps, capacityBps, s),
      bfifo(dev, `1:${minor}`, `${minor}:`, s),
      ['filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
        'match', 'ip', 'src', `${vmIp(c.vmIndex)}/32`, 'flowid', `1:${minor}`],
    );
  }
  return prog;
}

/**
 * The VF limiter (what `ip link set PF vf N max_tx_rate` does in hardware): everything the
 * VF sends enters the switch on vfN, is redirected to ifbN and shaped there by HTB at the cap,
 * outside the guest. Assumes vfN has no ingress qdisc yet and ifbN exists and is up.
 */
export function vfLimiterProgram(vmIndex: number, capBps: number): TcArgv[] {
  const vf = switchVfIface(vmIndex);
  const ifb = limiterIface(vmIndex);
  const s = sizeShaper(capBps);
  return [
    ['qdisc', 'add', 'dev', ifb, 'root', 'handle', '1:', 'htb', 'default', '1'],
    htbClass(ifb, '1:', '1:1', capBps, capBps, s),
    bfifo(ifb, '1:1', '2:', s),
    ['qdisc', 'add', 'dev', vf, 'handle', 'ffff:', 'ingress'],
    ['filter', 'add', 'dev', vf, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'u32',
      'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb],
  ];
}

/** Changes an installed VF limiter's cap in place: HTB keeps its queue, the redirect stays. */
export function vfLimitChangeProgram(vmIndex: number, capBps: number): TcArgv[] {
  const ifb = limiterIface(vmIndex);
  const s = sizeShaper(capBps);
  return [
    ['class', 'change', 'dev', ifb, 'parent', '1:', 'classid', '1:1', 'htb',
      'rate', tcRate(capBps), 'ceil', tcRate(capBps), 'burst', String(s.burstBytes), 'cburst', String(s.burstBytes),
      'quantum', String(s.quantumBytes)],
    ['qdisc', 'change', 'dev', ifb, 'parent', '1:1', 'handle', '2:', 'bfifo', 'limit', String(s.queueBytes)],
  ];
}

/** Renders argv lists as `tc -batch` input; every word is a name or number we generated. */
export function renderBatch(prog: readonly TcArgv[]): string {
  return prog.map((argv) => `${argv.join(' ')}\n`).join('');
}
