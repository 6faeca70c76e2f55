/**
 * `npm run bench:real-guest [-- qemu|libvirt]`: what a real QEMU guest costs in the emulated
 * host, beside a namespace VM of the same instance: time from `testbedUp` to every agent
 * answering, QEMU's (and libvirtd's) RSS, QEMU's CPU when idle and when sending, the RTT of a
 * statistics query and of a cap change (guest-exec of tc) through daqs' own agent client,
 * `virsh qemu-agent-command` per call (libvirt), and TX throughput through the emulated port.
 * Prints one JSON line per mode. Not a test: nothing here passes or fails.
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { endpointForTestbedVm } from '../src/endpoint/testbed.ts';
import { testbedUp, measureRates, type TestbedHost } from '../src/testbed/index.ts';
import { virsh } from '../src/testbed/libvirtd.ts';

const NAME = 'rgb';
const RTT_SAMPLES = 100;
const TICKS_PER_S = 100; // USER_HZ

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rssMiB(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  const kb = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
  return kb ? round(Number(kb) / 1024) : null;
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

/** Share of one core `pid` used over `ms`, in %. */
async function cpuPercent(pid: number, ms: number): Promise<number> {
  const a = await cpuTicks(pid);
  await sleep(ms);
  return round(((await cpuTicks(pid)) - a) / TICKS_PER_S / (ms / 1000) * 100);
}

async function rtts(fn: () => Promise<unknown>, n: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return round(median(xs), 2);
}

async function bench(libvirt: boolean): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const tb = (await testbedUp({ name: NAME, vms: 2, capacityBps: 10e9, real: 1, libvirt })) as TestbedHost;
  const upMs = Math.round(performance.now() - t0);
  try {
    const qemuPid = tb.state.qemuPids[0] ?? null;
    if (qemuPid === null) throw new Error('no QEMU pid recorded');
    await sleep(2000); // let the guest settle after boot
    const idleCpu = await cpuPercent(qemuPid, 5000);
    const [real, ns] = tb.vms.map((vm) => endpointForTestbedVm(vm, { client: { defaultTimeoutMs: 2000 }, statsTimeoutMs: 2000, tc: { timeoutMs: 3000 } }));
    if (!real || !ns) throw new Error('two VMs expected');
    const statsRealMs = await rtts(() => real.readTx(), RTT_SAMPLES);
    const statsNsMs = await rtts(() => ns.readTx(), RTT_SAMPLES);
    // Alternating caps far apart, so every call changes the class (tc through guest-exec).
    let flip = false;
    const nextCap = (): number => {
      flip = !flip;
      return flip ? 300e6 : 600e6;
    };
    await real.applyCap(nextCap());
    const capChangeRealMs = await rtts(() => real.applyCap(nextCap()), 20);
    await ns.applyCap(nextCap());
    const capChangeNsMs = await rtts(() => ns.applyCap(nextCap()), 20);
    await Promise.all([real.applyCap(null), ns.applyCap(null)]);
    const virshCallMs = libvirt && tb.libvirtUri
      ? await rtts(() => virsh(tb.libvirtUri as string, ['qemu-agent-command', tb.vms[0]?.id ?? '', '{"execute":"guest-network-get-interfaces"}']), 10)
      : null;
    // Throughput: each VM alone, 1 iperf thread, 10 Gbit/s port (so the guest is the limit).
    const alone = async (i: number): Promise<{ mbps: number; qemuCpu: number | null }> => {
      const h = await tb.startTraffic(i, { threads: 1 });
      await sleep(1500);
      const [w, cpu] = await Promise.all([measureRates(tb, 4000), i === 0 ? cpuPercent(qemuPid, 4000) : Promise.resolve(null)]);
      await h.stop();
      await sleep(500);
      return { mbps: round((w.vmRatesBps[i] ?? 0) / 1e6, 0), qemuCpu: cpu };
    };
    const realTx = await alone(0);
    const nsTx = await alone(1);
    await Promise.all([real.close(), ns.close()]);
    return {
      mode: libvirt ? 'libvirt' : 'qemu',
      upMs,
      guestMemoryMiB: tb.state.guestMemoryMiB,
      qemuRssMiB: await rssMiB(qemuPid),
      libvirtdRssMiB: await rssMiB(tb.state.libvirtdPid),
      qemuIdleCpuPct: idleCpu,
      statsRttMs: { real: statsRealMs, namespace: statsNsMs },
      capChangeMs: { real: capChangeRealMs, namespace: capChangeNsMs },
      virshQemuAgentCommandMs: virshCallMs,
      txMbit1Thread: { real: realTx.mbps, namespace: nsTx.mbps },
      qemuCpuSendingPct: realTx.qemuCpu,
    };
  } finally {
    await tb.down();
  }
}

const modes = process.argv.slice(2).filter((a) => a === 'qemu' || a === 'libvirt');
for (const mode of modes.length > 0 ? modes : ['qemu', 'libvirt']) {
  const result = await bench(mode === 'libvirt');
  console.log(JSON.stringify({ ...result, cores: cpus().length, loadavg1: round(loadavg()[0] ?? 0, 2) }));
}
