import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/** Log levels accepted by the CLI and the config file. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Error for a log level that is not one of LOG_LEVELS. */
export class LogLevelError extends Error {
  readonly code = 'E_LOG_LEVEL';
  constructor(readonly input: string, source: string) {
    super(`${source}: ${JSON.stringify(input)} is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
    this.name = 'LogLevelError';
  }
}

/** Parses a log level from a flag or environment variable; `source` names it in the error. */
export function parseLogLevel(text: string, source = 'log level'): LogLevel {
  const level = text.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new LogLevelError(text, source);
  return level as LogLevel;
}

/** How createLogger is set up; everything has a sensible default. */
export interface LoggerOptions {
  /** Default: $DAQS_LOG_LEVEL, else info. A flag or the config file passes it here. */
  readonly level?: LevelWithSilent;
  /** Human-readable lines instead of JSON; default: when stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where lines go; default stdout (systemd's journal reads it). */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The process-wide structured logger: JSON lines on stdout (systemd and log shippers read
 * them), a human-readable form when stdout is a terminal. Fields by convention: vm, op, code,
 * err (errors keep their code and cause). Levels are written as names ("level":"warn") so
 * `journalctl -o cat | jq 'select(.level=="error")'` works without a lookup table.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? (process.env.DAQS_LOG_LEVEL ? parseLogLevel(process.env.DAQS_LOG_LEVEL, 'DAQS_LOG_LEVEL') : 'info');
  const destination = opts.destination ?? process.stdout;
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  if (pretty) {
    // A synchronous in-process stream rather than a worker transport: lines written just
    // before the process exits (a fatal config error) are not lost.
    const stream = pinoPretty({ colorize: opts.destination === undefined, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true, destination });
    return pino({ level, base: undefined }, stream);
  }
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination as DestinationStream,
  );
}

/** A logger that drops everything: the default for library code used from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
