/**
 * A guest is root in its VM and may replace qemu-ga with anything. These scenarios run the
 * real control loop (Controller, daqs policy, AgentVmEndpoint, QgaClient) against scripted
 * agents on real unix sockets that misbehave on purpose: whatever the hostile agent sends
 * stays bounded and clean, lines nobody asked for are never parsed, a renamed VF is capped
 * again, and a tc that never exits does not pile up in the guest. The timing scenarios
 * (floods, an agent that comes back) are in hostile-flood.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPACITY_BPS, controlled, HostileRig, runLoop, UNSAFE } from './helpers/hostile-rig.ts';

let rig: HostileRig;
let seq = 0;
beforeAll(async () => {
  rig = await HostileRig.open();
});
afterAll(async () => {
  await rig.close();
});

describe('lines nobody asked for', () => {
  it('drops lines nobody asked for unparsed, even small valid ones that look like replies', async () => {
    const vm = await rig.startVm('chatty', 1e9);
    await vm.client.execute('guest-info');
    for (let i = 0; i < 50; i++) await vm.agent.send(`{"return": "fake", "id": ${i}}\n[1,2,3]\nnot json\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(await vm.client.execute<{ version: string }>('guest-info')).toMatchObject({ version: '7.2.22' });
    expect(vm.client.ignored.unsolicitedBytes).toBeGreaterThan(50 * 40);
    // Nothing of it was parsed: no garbage lines, no stale replies counted.
    expect(vm.client.ignored).toMatchObject({ garbage: 0, stale: 0 });
  });
});

describe('guest text stays bounded and clean', () => {
  // Just under the 1 MiB reply bound once JSON-escaped: the description itself gets through.
  const NASTY_DESC = `\u001b[2J\u001b]0;owned\u0007${'\u001b[31mEVIL\u202e\r\n'.repeat(100)}${'E'.repeat(1_000_000)}`;

  it.each([
    ['a 1 MB error description with escape sequences', NASTY_DESC],
    ['an error reply over the 1 MiB bound', `\u001b[31m${'\u001b[31mEVIL\u202e\r\n'.repeat(80_000)}`],
  ])('%s reaches the tick report and the log as one short printable line', async (_name, desc) => {
    const evil = await rig.startVm(`liar${seq++}`, 1e9, (h) => (req) => (req.execute === 'guest-network-get-interfaces' ? { error: { class: `Generic\u001b[5mError${'x'.repeat(5000)}`, desc } } : h(req)));
    const run = await runLoop([controlled(evil)], 1200);
    const errors = run.reports.map((r) => r.vms[0]?.error).filter((e) => e !== null && e !== undefined);
    expect(errors.length).toBeGreaterThan(2);
    for (const e of errors) {
      expect(e.message).not.toMatch(UNSAFE);
      expect(e.message.length).toBeLessThan(600);
    }
    const logged = run.logLines.filter((l) => l.includes(evil.id));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      const parsed = JSON.stringify(JSON.parse(line));
      // JSON escapes control characters as \u00XX: none may be there to escape.
      expect(parsed).not.toMatch(/\\u00[01][0-9a-f]|\\u00[89][0-9a-f]|\u202e/);
      expect(line.length).toBeLessThan(4000);
    }
    console.log(`[guard] ${_name}: tick error message ${errors[0]?.message.length} characters: ${JSON.stringify(errors[0]?.message.slice(0, 160))}`);
  });

  it('a guest inflating its counter 1000x reads as the port rate at most', async () => {
    const liar = await rig.startVm('liar2', 5e12);
    const run = await runLoop([controlled(liar)], 1200);
    const rates = run.reports.map((r) => r.vms[0]?.rateBps).filter((x): x is number => typeof x === 'number');
    expect(rates.length).toBeGreaterThan(2);
    expect(Math.max(...rates)).toBe(CAPACITY_BPS);
    expect(Math.max(...run.reports.map((r) => r.port.usedBps))).toBeLessThanOrEqual(CAPACITY_BPS);
  });
});

describe('renamed interfaces', () => {
  // Names the kernel accepts; the old tc plan refused them (E_TC_PLAN every tick), leaving the VM uncapped.
  it.each(['eth0+', 'e;id>x', 'x'.repeat(15), 'vé0', 'e#1', "q'\"z", '\u001b[31mred'])('a VF renamed to %j is capped again', async (name) => {
    const vm = await rig.startVm(`ren${seq++}`, 1e9);
    const ep = controlled(vm).endpoint;
    await ep.readTx();
    await ep.applyCap(300e6);
    vm.guest.renameInterface('eth0', name);
    // The first apply after a rename may fail (cached name); the next one finds the VF by MAC.
    await ep.applyCap(200e6).catch(() => undefined);
    await ep.readTx();
    await ep.applyCap(200e6);
    expect(vm.guest.capOf(name)).toBe(200e6);
    const reading = await ep.readCap();
    expect(reading.capBps).toBe(200e6);
    expect(reading.detail).not.toMatch(UNSAFE);
  });
});

describe('guest-exec bookkeeping', () => {
  it('a tc that never exits is asked about until it does, and no more than 2 are ever outstanding', async () => {
    let hang = true;
    const running = new Set<number>();
    let statusCalls = 0;
    let execs = 0;
    const vm = await rig.startVm('stuck', 1e9, (h) => async (req) => {
      if (req.execute === 'guest-exec') {
        execs++;
        const r = await h(req);
        const pid = r && 'return' in r ? Number((r.return as { pid: number }).pid) : NaN;
        if (hang) running.add(pid);
        return r;
      }
      if (req.execute === 'guest-exec-status') {
        statusCalls++;
        if (running.has(Number(req.arguments.pid))) return hang ? { return: { exited: false } } : (running.delete(Number(req.arguments.pid)), h(req));
      }
      return h(req);
    });
    const ep = controlled(vm).endpoint;
    await ep.readTx();
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(await ep.applyCap(100e6 + i * 10e6).then(() => 'ok', (e: { code?: string }) => e.code ?? '?'));
    console.log(`[guard] hung tc: applies ${codes.join(', ')}; execs started ${execs}`);
    expect(codes.filter((c) => c === 'E_EXEC_TIMEOUT').length).toBeGreaterThanOrEqual(1);
    expect(codes).toContain('E_EXEC_BUSY');
    expect(execs).toBeLessThanOrEqual(2);
    // The programs exit: the background poll collects them and applies work again.
    hang = false;
    const before = statusCalls;
    await new Promise((r) => setTimeout(r, 2500));
    expect(statusCalls).toBeGreaterThan(before);
    expect(running.size).toBe(0);
    await ep.applyCap(500e6);
    expect(vm.guest.capOf('eth0')).toBe(500e6);
  });
});
