/**
 * Concurrency and time bounds for calls to VMs: a slow VM must never hold up the others.
 */
import { VmTimeoutError } from './errors.ts';

/** Runs fn over items with at most `concurrency` calls in flight; results keep input order. */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

/**
 * Runs fn with a signal aborted after timeoutMs (real time: it bounds real I/O) and rejects
 * with VmTimeoutError then, even if fn ignores the signal.
 */
export function withTimeout<T>(vm: string, op: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const ac = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const onParentAbort = (): void => {
      ac.abort(parent?.reason);
      reject(parent?.reason);
    };
    const timer = setTimeout(() => {
      // Built only when it fires: an Error captures a stack, too dear for every call.
      const timeoutErr = new VmTimeoutError(vm, op, timeoutMs);
      ac.abort(timeoutErr);
      reject(timeoutErr);
    }, timeoutMs);
    if (parent?.aborted) onParentAbort();
    else parent?.addEventListener('abort', onParentAbort, { once: true });
    fn(ac.signal).then(
      (v) => {
        clearTimeout(timer);
        parent?.removeEventListener('abort', onParentAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        parent?.removeEventListener('abort', onParentAbort);
        reject(e);
      },
    );
  });
}
