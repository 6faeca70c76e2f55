/**
 * Concurrency and time bounds for calls to VMs: a slow VM must never hold up the others.
 */
import { VmTimeoutError } from './errors.ts';

export { mapBounded } from '../util/concurrency.ts';

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
