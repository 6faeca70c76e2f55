import { describe, expect, it } from 'vitest';
import type { StopResult } from '../../src/controller/index.ts';
import { stopOnSignals, type SignalSeams } from '../../src/daemon/signals.ts';
import { silentLogger } from '../../src/util/log.ts';

// Signals delivered by hand; exit() recorded instead of ending the test process.
function seams(): SignalSeams & { send(s: NodeJS.Signals): void; exits: number[] } {
  const handlers = new Map<NodeJS.Signals, Set<() => void>>();
  const exits: number[] = [];
  return {
    exits,
    on: (s, fn) => void (handlers.get(s) ?? handlers.set(s, new Set()).get(s))?.add(fn),
    off: (s, fn) => void handlers.get(s)?.delete(fn),
    exit: (code) => void exits.push(code),
    send: (s) => [...(handlers.get(s) ?? [])].forEach((fn) => fn()),
  };
}

// A daemon whose stop (the lift) takes until finishLift() is called.
function slowDaemon() {
  let finishLift: (r: StopResult) => void = () => undefined;
  let stops = 0;
  let reloads = 0;
  return {
    get stops() { return stops; },
    get reloads() { return reloads; },
    finishLift: (r: StopResult) => finishLift(r),
    stop: () => { stops++; return new Promise<StopResult>((resolve) => { finishLift = resolve; }); },
    reload: () => { reloads++; },
  };
}

describe('stop signals', () => {
  it('a second SIGTERM does not interrupt the lift: the daemon finishes stopping and exits 0', async () => {
    const s = seams();
    const d = slowDaemon();
    const code = stopOnSignals(d, silentLogger, { seams: s });
    s.send('SIGTERM');
    s.send('SIGINT');
    expect(d.stops).toBe(1);
    expect(s.exits).toEqual([]);
    d.finishLift({ lifted: ['vm1'], failed: [] });
    expect(await code).toBe(0);
  });

  it('a third signal forces the exit at once', () => {
    const s = seams();
    const d = slowDaemon();
    void stopOnSignals(d, silentLogger, { seams: s });
    s.send('SIGINT');
    s.send('SIGINT');
    s.send('SIGINT');
    expect(s.exits).toEqual([1]);
  });

  it('so does a lift that does not finish in time', async () => {
    const s = seams();
    void stopOnSignals(slowDaemon(), silentLogger, { seams: s, forceAfterMs: 30 });
    s.send('SIGTERM');
    await new Promise((r) => setTimeout(r, 80));
    expect(s.exits).toEqual([1]);
  });

  it('exits 1 when a cap could not be lifted, and reloads on SIGHUP only while running', async () => {
    const s = seams();
    const d = slowDaemon();
    const code = stopOnSignals(d, silentLogger, { seams: s });
    s.send('SIGHUP');
    s.send('SIGTERM');
    s.send('SIGHUP');
    d.finishLift({ lifted: [], failed: ['vm2'] });
    expect(await code).toBe(1);
    expect(d.reloads).toBe(1);
  });
});
