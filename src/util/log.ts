import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Log levels accepted by the CLI and the config file. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The process-wide structured logger: JSON lines on stdout (systemd and log shippers read them),
 * a human-readable form when stdout is a terminal. Fields: vm, op, code, err.
 */
export function createLogger(opts: { level?: LevelWithSilent; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? ((process.env.DAQS_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info');
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && opts.destination === undefined);
  if (pretty) {
    return pino({ level, base: undefined, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, (opts.destination ?? process.stdout) as DestinationStream);
}

/** A logger that drops everything: the default for library code used from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
