/**
 * `npm run bench:agent`: the agent path's cost with real qemu-ga on the emulated host.
 * RTT of one statistics query (sequential, one VM), and the wall time of one observe-and-apply
 * pass (readTx, then applyCap with a new cap, for every VM at once) over 8 and 64 VMs, plus a
 * pass whose caps did not change (no exec at all). Prints one JSON line. Not a test: nothing
 * here passes or fails, the figures go into reports.
 */
import { cpus, loadavg } from 'node:os';
import type { AgentVmEndpoint } from '../src/endpoint/agent-endpoint.ts';
import { endpointForTestbedVm } from '../src/endpoint/testbed.ts';
import { testbedUp, MAX_VMS, type Testbed } from '../src/testbed/index.ts';

const NAME = 'agb';
const PASSES = 9;
const RTT_SAMPLES = 300;

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}
const round = (x: number): number => Math.round(x * 100) / 100;

let failures = 0;
let vmTimes: number[] = [];
const failureCodes: Record<string, number> = {};

// A VM that fails a pass is counted, as the loop would skip it for one tick; the pass still ends.
async function pass(eps: readonly AgentVmEndpoint[], capBps: number | null): Promise<number> {
  const t0 = performance.now();
  const results = await Promise.allSettled(eps.map(async (ep) => {
    await ep.readTx();
    await ep.applyCap(capBps);
    vmTimes.push(performance.now() - t0);
  }));
  for (const r of results) {
    if (r.status === 'rejected') {
      failures++;
      const code = (r.reason as { code?: string }).code ?? 'unknown';
      failureCodes[code] = (failureCodes[code] ?? 0) + 1;
    }
  }
  return performance.now() - t0;
}

// Freshly started agents answer slowly at first: connect and install every qdisc before timing.
async function warmUp(eps: readonly AgentVmEndpoint[]): Promise<void> {
  for (const ep of eps) {
    for (let attempt = 0; ; attempt++) {
      try {
        await ep.readTx();
        await ep.applyCap(200e6);
        break;
      } catch (e) {
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

// Medians over PASSES passes; the cap alternates so every pass really runs tc in every guest.
async function passMedianMs(eps: readonly AgentVmEndpoint[], changing: boolean): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < PASSES; i++) times.push(await pass(eps, changing ? (i % 2 === 0 ? 300e6 : 400e6) : 500e6));
  return quantile(times, 0.5);
}

async function main(): Promise<void> {
  const vms = Math.min(64, MAX_VMS);
  let tb: Testbed | null = null;
  const eps: AgentVmEndpoint[] = [];
  try {
    const tUp = performance.now();
    tb = await testbedUp({ name: NAME, vms, capacityBps: 2e9 });
    const upMs = performance.now() - tUp;
    // Generous deadlines: the pass time should show the work, not be cut off by a deadline on a loaded machine.
    for (const vm of tb.vms) eps.push(endpointForTestbedVm(vm, { client: { defaultTimeoutMs: 3000 }, statsTimeoutMs: 3000, tc: { timeoutMs: 3000 } }));
    const first = eps[0];
    if (!first) throw new Error('testbed has no VMs');

    await warmUp(eps);
    for (let i = 0; i < 20; i++) await first.readTx();
    const rtts: number[] = [];
    for (let i = 0; i < RTT_SAMPLES; i++) {
      const t0 = performance.now();
      await first.agent.execute('guest-network-get-interfaces');
      rtts.push(performance.now() - t0);
    }

    failures = 0;
    for (const k of Object.keys(failureCodes)) delete failureCodes[k];
    const eight = eps.slice(0, 8);
    const passMs8 = await passMedianMs(eight, true);
    vmTimes = [];
    const passMs64 = await passMedianMs(eps, true);
    const vmDone64 = [...vmTimes];
    await pass(eps, 500e6);
    const passMs64Unchanged = await passMedianMs(eps, false);
    const t0 = performance.now();
    await Promise.all(eps.map((ep) => ep.readTx()));
    const readAllMs64 = performance.now() - t0;

    console.log(JSON.stringify({
      rttMsP50: round(quantile(rtts, 0.5)),
      rttMsP99: round(quantile(rtts, 0.99)),
      passMs8: round(passMs8),
      passMs64: round(passMs64),
      passMs64Unchanged: round(passMs64Unchanged),
      // When each VM of the 64 finished within its pass (successful ones): the tail is what a tick waits for.
      vmDoneMs64P50: round(quantile(vmDone64, 0.5)),
      vmDoneMs64P90: round(quantile(vmDone64, 0.9)),
      vmDoneMs64Max: round(Math.max(...vmDone64)),
      readAllMs64: round(readAllMs64),
      failedVmPasses: failures,
      failureCodes,
      vms: eps.length,
      passes: PASSES,
      rttSamples: RTT_SAMPLES,
      testbedUpMs: Math.round(upMs),
      cores: cpus().length,
      // The machine is shared: the load says how much of the CPU the agents and tc actually got.
      loadAvg1: round(loadavg()[0] ?? Number.NaN),
    }));
  } finally {
    await Promise.all(eps.map((ep) => ep.applyCap(null).catch(() => undefined)));
    await Promise.all(eps.map((ep) => ep.close()));
    await tb?.down();
  }
}

main().catch((e: unknown) => {
  console.error('bench:agent failed:', e);
  process.exitCode = 1;
});
