import { describe, expect, it } from 'vitest';
import { capChanged, mapBounded, withTimeout } from '../../src/controller/index.ts';

describe('capChanged', () => {
  it.each([
    { from: null, to: null, want: false },
    { from: null, to: 100, want: true },
    { from: 100, to: null, want: true },
    { from: 1000, to: 1004, want: false },
    { from: 1000, to: 1006, want: true },
    { from: 1000, to: 994, want: true },
  ])('$from -> $to at 0.5%: $want', ({ from, to, want }) => {
    expect(capChanged(from, to, 0.005)).toBe(want);
  });
});

describe('mapBounded', () => {
  it('keeps input order and never runs more than the bound at once', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (x) => {
      inFlight++;
      most = Math.max(most, inFlight);
      for (let i = 0; i < x; i++) await Promise.resolve();
      inFlight--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});

describe('withTimeout', () => {
  it('rejects with E_VM_TIMEOUT and aborts the call when it does not answer', async () => {
    let aborted = false;
    const p = withTimeout('vm1', 'readTx', 5, (signal) => new Promise<never>(() => signal.addEventListener('abort', () => (aborted = true))));
    await expect(p).rejects.toMatchObject({ code: 'E_VM_TIMEOUT', vm: 'vm1', op: 'readTx' });
    expect(aborted).toBe(true);
  });

  it('passes a result and an error through', async () => {
    await expect(withTimeout('v', 'op', 1000, async () => 7)).resolves.toBe(7);
    await expect(withTimeout('v', 'op', 1000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
