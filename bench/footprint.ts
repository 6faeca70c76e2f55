/**
 * `npm run bench:footprint [-- 8 64]`: what `daqs run` costs the host. For each VM count, an
 * emulated host with that many VMs (real qemu-ga each), one Guarantee VM sending with 1 iperf
 * thread against one Best-Effort VM with 5 (so caps are computed and applied), and the daemon
 * as an operator starts it (`node bin/daqs.js run`). After a warm-up minute, one minute is
 * measured from /proc/PID: CPU time (utime + stime) over wall time, RSS at the end and its
 * peak (VmHWM); the tick duration and agent errors come from its /metrics over the same minute.
 * Prints one JSON line per VM count. Needs root; run it under the shared lock:
 *   flock /tmp/daqs-heavy.lock npm run bench:footprint
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testbedUp } from '../src/testbed/index.ts';
import { freePort } from '../test/support/free-port.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WARMUP_MS = Number(process.env.FOOTPRINT_WARMUP_MS ?? 60_000);
const MEASURE_MS = Number(process.env.FOOTPRINT_MEASURE_MS ?? 60_000);
const TICKS_PER_S = 100; // USER_HZ: /proc/PID/stat counts CPU time in these

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function measure(vms: number): Promise<Record<string, unknown>> {
  const name = `opsfp${vms}`;
  const tb = await testbedUp({ name, vms, capacityBps: 2e9 });
  const dir = await mkdtemp(join(tmpdir(), 'daqs-footprint-'));
  let child: ReturnType<typeof spawn> | null = null;
  try {
    const port = await freePort();
    const config = join(dir, 'daqs.yaml');
    await writeFile(config, ['port:', `  testbed: ${name}`, 'policy: daqs', 'vms:', `  ${tb.vms[0]!.id}:`, '    guarantee: 800mbit', 'daemon:', `  status: 127.0.0.1:${port}`, '  metrics:', `    listen: 127.0.0.1:${port}`, '  logLevel: warn', ''].join('\n'));
    await tb.startTraffic(0, { threads: 1 });
    await tb.startTraffic(1, { threads: 5 });
    const startedAt = performance.now();
    child = spawn(process.execPath, ['bin/daqs.js', 'run', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = child.pid!;
    const url = `http://127.0.0.1:${port}`;
    await sleep(WARMUP_MS);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const ticks0 = await metric(url, 'daqs_ticks_total');
    const tickS0 = await metric(url, 'daqs_tick_duration_seconds_sum');
    const overruns0 = await metric(url, 'daqs_tick_overruns_total');
    const errors0 = await metric(url, 'daqs_agent_errors_total');
    await sleep(MEASURE_MS);
    const cpu1 = cpuSeconds(pid);
    const wallS = (performance.now() - t0) / 1000;
    const ticks = (await metric(url, 'daqs_ticks_total')) - ticks0;
    const result = {
      vms,
      warmupS: WARMUP_MS / 1000,
      measuredS: Math.round(wallS),
      cpuPercentOfOneCore: Math.round((1000 * (cpu1 - cpu0)) / wallS) / 10,
      rssMiB: Math.round(statusKb(pid, 'VmRSS') / 102.4) / 10,
      peakRssMiB: Math.round(statusKb(pid, 'VmHWM') / 102.4) / 10,
      ticks,
      meanTickMs: Math.round((1e4 * ((await metric(url, 'daqs_tick_duration_seconds_sum')) - tickS0)) / ticks) / 10,
      overruns: (await metric(url, 'daqs_tick_overruns_total')) - overruns0,
      agentErrors: (await metric(url, 'daqs_agent_errors_total')) - errors0,
      sinceStartS: Math.round((performance.now() - startedAt) / 1000),
      cores: cpus().length,
      loadavg1: Math.round(loadavg()[0]! * 100) / 100,
    };
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    return result;
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await tb.stopAllTraffic().catch(() => undefined);
    await tb.down();
    await rm(dir, { recursive: true, force: true });
  }
}

const counts = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
for (const vms of counts.length > 0 ? counts : [8, 64]) {
  process.stdout.write(`${JSON.stringify(await measure(vms))}\n`);
}
