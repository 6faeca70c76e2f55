/**
 * `npm run bench:qga-survival` (root, under the heavy lock): can daqs' traffic kill or wedge
 * qemu-ga? On a 64-VM emulated host (real qemu-ga 7.2 in every VM), two halves get the same
 * storm for the same time:
 * - VMs 0-31 from a client that closes the way daqs' client used to after a timeout: a
 *   request sent, then the socket destroyed a few milliseconds later, reply or not;
 * - VMs 32-63 from daqs' QgaClient and GuestExecutor, pushed as hard: timeouts of a few
 *   milliseconds (so nearly every call times out and resyncs, 0xFF included), clients closed
 *   and reopened every round (connection churn), and guest-exec floods.
 * Then every agent is asked for guest-ping: how many are still alive in each half, and do the
 * survivors answer promptly (not wedged)? Prints one JSON line. Not a test.
 */
import { connect } from 'node:net';
import { GuestExecutor } from '../src/agent/guest-exec.ts';
import { QgaClient } from '../src/agent/qga-client.ts';
import { agentCall, testbedUp, type Testbed } from '../src/testbed/index.ts';

const NAME = 'gdsurv';
const VMS = 64;
const STORM_MS = Number(process.env.STORM_MS ?? 20_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// The old client's close after a timeout: request out, socket destroyed `afterMs` later.
function abruptCall(socket: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(socket);
    s.on('error', () => resolve());
    s.on('connect', () => {
      s.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"execute":"guest-sync-delimited","arguments":{"id":${Math.floor(Math.random() * 1e9)}}}\n{"execute":"guest-network-get-interfaces"}\n`)]));
      setTimeout(() => {
        s.destroy();
        resolve();
      }, afterMs);
    });
  });
}

async function abruptStorm(tb: Testbed, until: number): Promise<number> {
  let calls = 0;
  await Promise.all(tb.vms.slice(0, VMS / 2).map(async (vm) => {
    while (performance.now() < until) {
      await abruptCall(vm.agentSocket, Math.random() * 8);
      calls++;
    }
  }));
  return calls;
}

async function daqsStorm(tb: Testbed, until: number): Promise<{ calls: number; codes: Record<string, number>; execs: number }> {
  let calls = 0;
  let execs = 0;
  const codes: Record<string, number> = {};
  const note = (e: unknown): void => {
    const code = (e as { code?: string }).code ?? 'other';
    codes[code] = (codes[code] ?? 0) + 1;
  };
  await Promise.all(tb.vms.slice(VMS / 2).map(async (vm) => {
    while (performance.now() < until) {
      // A new client each round: connection churn, each ended the way daqs ends it.
      const client = new QgaClient({ socketPath: vm.agentSocket, vm: vm.id, defaultTimeoutMs: 3 + Math.random() * 10 });
      const exec = new GuestExecutor(client, { reapIntervalMs: 50 });
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        work.push(client.execute('guest-network-get-interfaces').catch(note));
        work.push(client.execute('guest-info', undefined, { timeoutMs: 1 + Math.random() * 3 }).catch(note));
        if (i % 3 === 0) work.push(exec.run({ path: '/bin/true', timeoutMs: 5 + Math.random() * 20 }).then(() => execs++, note));
        calls += 2;
      }
      await Promise.all(work);
      await client.close();
    }
  }));
  return { calls, codes, execs };
}

async function alive(tb: Testbed, from: number, to: number): Promise<{ alive: number; slowestPingMs: number }> {
  let n = 0;
  let slowest = 0;
  await Promise.all(tb.vms.slice(from, to).map(async (vm) => {
    const t0 = performance.now();
    const ok = await agentCall(vm.agentSocket, 'guest-ping', undefined, 5000).then(() => true, () => false);
    if (ok) {
      n++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
  }));
  return { alive: n, slowestPingMs: Math.round(slowest) };
}

async function main(): Promise<void> {
  const tb = await testbedUp({ name: NAME, vms: VMS, capacityBps: 2e9 });
  try {
    const before = await alive(tb, 0, VMS);
    const until = performance.now() + STORM_MS;
    const [abruptCalls, daqs] = await Promise.all([abruptStorm(tb, until), daqsStorm(tb, until)]);
    // Let agents finish what they were doing before asking.
    await sleep(2000);
    const abrupt = await alive(tb, 0, VMS / 2);
    const ours = await alive(tb, VMS / 2, VMS);
    console.log(JSON.stringify({
      vms: VMS,
      stormMs: STORM_MS,
      aliveBefore: before.alive,
      abruptClose: { agents: VMS / 2, calls: abruptCalls, alive: abrupt.alive, exited: VMS / 2 - abrupt.alive, slowestPingMs: abrupt.slowestPingMs },
      daqsClient: { agents: VMS / 2, calls: daqs.calls, execsFinished: daqs.execs, errorCodes: daqs.codes, alive: ours.alive, exited: VMS / 2 - ours.alive, slowestPingMs: ours.slowestPingMs },
    }));
  } finally {
    await tb.down();
  }
}

await main();
