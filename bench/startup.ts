/**
 * `npm run bench:startup`: how long the CLI takes to start, as an operator runs it:
 * `daqs --help` (to exit) and `daqs run` (to its "daqs running" log line, with the status
 * server listening), each through bin/daqs.js, from the compiled dist/ and from the sources
 * through tsx (DAQS_FROM_SOURCE=1). The daemon gets a static inventory whose one agent socket
 * does not exist, so it needs no root and no VM: what is timed is loading and wiring.
 * BASELINE_BIN=<other checkout>/bin/daqs.js adds that checkout as a third variant (before/after).
 * Runs the variants interleaved (the machine is shared) and prints median and min in ms.
 * Not a test: nothing passes or fails here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'daqs.js');
const RUNS = Number(process.env.RUNS ?? 10);

function timeHelp(bin: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, '--help'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`daqs --help exited ${r.status}: ${String(r.stderr)}`);
  return ms;
}

// Time from spawn to the daemon's "daqs running" line, then SIGTERM and wait for the exit.
function timeRun(bin: string, env: NodeJS.ProcessEnv, config: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let readyMs: number | null = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (readyMs === null && out.includes('"daqs running"')) {
        readyMs = performance.now() - t0;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      if (readyMs === null) reject(new Error(`daqs run never reported running:\n${out}`));
      else resolve(readyMs);
    });
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { medianMs: Math.round(s[Math.floor(s.length / 2)] ?? NaN), minMs: Math.round(s[0] ?? NaN) };
};

const dir = await mkdtemp(join(tmpdir(), 'daqs-startup-'));
try {
  const config = join(dir, 'daqs.yaml');
  await writeFile(config, [
    'port: { interface: bench0, capacity: 10gbit }',
    'vms: { vm0: { guarantee: 1gbit } }',
    `inventory: { source: static, static: [{ name: vm0, socket: ${join(dir, 'none.sock')} }] }`,
    // Port 0: any free port, so runs never collide with a daemon already on 9310.
    'daemon: { status: "127.0.0.1:0", metrics: { listen: "127.0.0.1:0" }, logLevel: info }',
    '',
  ].join('\n'));
  const variants: [string, string, NodeJS.ProcessEnv][] = [['tsx', BIN, { ...process.env, DAQS_FROM_SOURCE: '1' }]];
  if (existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) variants.unshift(['dist', BIN, { ...process.env, DAQS_FROM_SOURCE: '' }]);
  else console.error('no dist/: run `npm run build` first to time the compiled CLI');
  if (process.env.BASELINE_BIN) variants.push(['baseline', process.env.BASELINE_BIN, process.env]);
  const help = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  const run = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (const [, bin, env] of variants) timeHelp(bin, env); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, bin, env] of variants) {
      help.get(name)?.push(timeHelp(bin, env));
      run.get(name)?.push(await timeRun(bin, env, config));
    }
  }
  const nodeOnly = stats(Array.from({ length: RUNS }, () => {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    return performance.now() - t0;
  }));
  console.log(JSON.stringify({
    runs: RUNS,
    cpus: cpus().length,
    loadavg1: Number(loadavg()[0]?.toFixed(2)),
    node: { version: process.version, emptyStart: nodeOnly },
    help: Object.fromEntries([...help].map(([n, xs]) => [n, stats(xs)])),
    run: Object.fromEntries([...run].map(([n, xs]) => [n, stats(xs)])),
  }, null, 2));
} finally {
  await rm(dir, { recursive: true, force: true });
}
