/**
 * How `daqs run` reacts to signals. SIGHUP reloads. The first SIGTERM or SIGINT stops the
 * daemon, which lifts the caps it set through every guest's agent: that takes a moment, and
 * an impatient second Ctrl-C (or a supervisor that signals twice) must not cut it short and
 * leave guests capped with nobody to lift the caps. So:
 * - the second stop signal only says that the lift is under way and how to force an exit;
 * - the third forces the exit at once (exit code 1), leaving whatever is not lifted yet;
 * - and so does forceAfterMs after the first signal (default 20 s, under systemd's 30 s
 *   TimeoutStopSec, so daqs says which VMs kept a cap before systemd SIGKILLs it).
 */
import type { StopResult } from '../controller/index.ts';
import type { Logger } from '../util/log.ts';

/** What stopOnSignals needs of the daemon. */
export interface Stoppable {
  stop(): Promise<StopResult>;
  reload(): void | Promise<void>;
}

/** The process-side seams, replaced in tests. */
export interface SignalSeams {
  readonly on: (signal: NodeJS.Signals, fn: () => void) => void;
  readonly off: (signal: NodeJS.Signals, fn: () => void) => void;
  readonly exit: (code: number) => void;
}

/** Options of stopOnSignals. */
export interface StopOnSignalsOptions {
  /** Forced exit this long after the first stop signal (default 20 000 ms). */
  readonly forceAfterMs?: number;
  readonly seams?: SignalSeams;
}

const processSeams: SignalSeams = {
  on: (signal, fn) => process.on(signal, fn),
  off: (signal, fn) => process.off(signal, fn),
  exit: (code) => process.exit(code),
};

/** Serves SIGHUP/SIGTERM/SIGINT for a running daemon; resolves with the exit code once it stopped. */
export function stopOnSignals(daemon: Stoppable, logger: Logger, opts: StopOnSignalsOptions = {}): Promise<number> {
  const seams = opts.seams ?? processSeams;
  const forceAfterMs = opts.forceAfterMs ?? 20_000;
  return new Promise<number>((resolve) => {
    let signals = 0;
    let forceTimer: NodeJS.Timeout | null = null;
    const force = (why: string): void => {
      logger.error({ op: 'signal', code: 'E_STOP_FORCED' }, `${why}: exiting now; caps not lifted yet stay in the guests (daqs adopts or resets them at its next start, daemon.onStart)`);
      seams.exit(1);
    };
    const onStop = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        logger.info({ op: 'signal', signal }, 'stopping: lifting the caps daqs set');
        forceTimer = setTimeout(() => force(`the stop did not finish within ${forceAfterMs} ms`), forceAfterMs);
        forceTimer.unref();
        daemon.stop().then(
          (r) => {
            if (r.failed.length > 0) logger.warn({ op: 'stop', failed: r.failed }, 'some caps could not be lifted');
            finish(r.failed.length > 0 ? 1 : 0);
          },
          (err: unknown) => {
            logger.error({ err }, 'stop failed');
            finish(1);
          },
        );
      } else if (signals === 2) {
        logger.warn({ op: 'signal', signal }, 'already stopping: the caps are being lifted; send the signal once more to exit at once without lifting the rest');
      } else {
        force(`${signal} received ${signals} times`);
      }
    };
    const onTerm = (): void => onStop('SIGTERM');
    const onInt = (): void => onStop('SIGINT');
    const onHup = (): void => {
      if (signals === 0) void Promise.resolve(daemon.reload()).catch((err: unknown) => logger.error({ op: 'reload', err }, 'reload failed'));
    };
    const finish = (code: number): void => {
      if (forceTimer) clearTimeout(forceTimer);
      seams.off('SIGTERM', onTerm);
      seams.off('SIGINT', onInt);
      seams.off('SIGHUP', onHup);
      resolve(code);
    };
    seams.on('SIGTERM', onTerm);
    seams.on('SIGINT', onInt);
    seams.on('SIGHUP', onHup);
  });
}
