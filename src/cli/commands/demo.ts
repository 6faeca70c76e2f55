/**
 * `daqs demo`: for now, the emulated host carrying real traffic — a 1-thread VM against a
 * 5-thread VM with no control, then with a VF limit, then with the oracle port scheduler —
 * with live per-VM rates from the host's counters. Always takes the host down, also on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { testbedUp, type Testbed } from '../../testbed/index.ts';
import { formatRate, parseRateBps } from '../../units/rate.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'show the emulated host carrying traffic: no control, a VF limit, the oracle scheduler (~15 s)';

const USAGE = `usage: daqs demo [options]

Brings up a 2-VM emulated host, runs iperf2 traffic (VM 0: 1 thread, VM 1: 5 threads) in three
phases, prints live per-VM rates read on the switch side, and takes the host down.

options:
  --capacity RATE      emulated port speed (default 2gbit)
  --phase-seconds S    length of each of the three phases (default 5)
  -h, --help`;

const OPTIONS = {
  capacity: { type: 'string', default: '2gbit' },
  'phase-seconds': { type: 'string', default: '5' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const SAMPLE_MS = 500;
const BAR_CHARS = 30;

/** A bar of `BAR_CHARS` for `rateBps` out of `capacityBps`. */
export function renderBar(rateBps: number, capacityBps: number): string {
  const filled = Math.max(0, Math.min(BAR_CHARS, Math.round((rateBps / capacityBps) * BAR_CHARS)));
  return `${'#'.repeat(filled)}${'.'.repeat(BAR_CHARS - filled)}`;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

// Prints one line per sample for `seconds`, rates from counter differences.
async function showRates(tb: Testbed, seconds: number, signal: AbortSignal): Promise<void> {
  let prev = { vms: await tb.readAllHostTxBytes(), port: await tb.readPortTxBytes(), at: performance.now() };
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end && !signal.aborted) {
    await sleep(SAMPLE_MS, signal);
    const cur = { vms: await tb.readAllHostTxBytes(), port: await tb.readPortTxBytes(), at: performance.now() };
    const secs = (cur.at - prev.at) / 1000;
    const rate = (a: bigint, b: bigint): number => (Number(b - a) * 8) / secs;
    const vmCols = cur.vms.map((b, i) => `vm${i} ${formatRate(rate(prev.vms[i] ?? b, b)).padStart(9)} ${renderBar(rate(prev.vms[i] ?? b, b), tb.capacityBps)}`);
    console.log(`  ${vmCols.join('  ')}  port ${formatRate(rate(prev.port, cur.port)).padStart(9)}`);
    prev = cur;
  }
}

/** Runs the demo. */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let capacityBps: number;
  try {
    capacityBps = parseRateBps(values.capacity);
  } catch (e) {
    throw new UsageError(`--capacity: ${(e as Error).message}`);
  }
  const phaseSeconds = Number(values['phase-seconds']);
  if (!Number.isFinite(phaseSeconds) || phaseSeconds <= 0 || phaseSeconds > 600) {
    throw new UsageError(`--phase-seconds ${JSON.stringify(values['phase-seconds'])}: use a number of seconds between 0 and 600.`);
  }

  // A name of its own per run, so two demos (or a demo and a test) never share an instance.
  const name = `demo${process.pid % 10000}`;
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    console.log(`\n${sig}: stopping, taking the emulated host down...`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let tb: Testbed | undefined;
  try {
    console.log(`bringing up emulated host ${name}: 2 VMs, port ${formatRate(capacityBps)}`);
    tb = await testbedUp({ name, vms: 2, capacityBps });
    for (const vm of tb.vms) console.log(`  ${vm.id}: ${vm.ip} ${vm.mac}, qemu-ga at ${vm.agentSocket}`);
    await tb.startTraffic(0, { threads: 1 });
    await tb.startTraffic(1, { threads: 5 });

    const phases: { title: string; setup: (t: Testbed) => Promise<void> }[] = [
      { title: 'no control: the port is shared per TCP flow, so the 1-thread VM gets about a sixth', setup: async () => undefined },
      { title: `VF limit on vm1 at ${formatRate(capacityBps / 4)} (emulated max_tx_rate): vm0 takes the rest`, setup: (t) => t.setVfLimit(1, capacityBps / 4) },
      { title: `oracle port scheduler, vm0 guaranteed ${formatRate(capacityBps / 2)}, limit lifted`, setup: async (t) => { await t.setVfLimit(1, null); await t.setPortScheduler([{ vmIndex: 0, rateBps: capacityBps / 2 }]); } },
    ];
    for (const phase of phases) {
      if (abort.signal.aborted) break;
      console.log(`\n${phase.title}`);
      await phase.setup(tb);
      await showRates(tb, phaseSeconds, abort.signal);
    }
    return abort.signal.aborted ? 130 : 0;
  } finally {
    if (tb) await tb.down();
    else await import('../../testbed/index.ts').then((m) => m.testbedDown(name)).catch(() => undefined);
    console.log(`emulated host ${name} is down`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
