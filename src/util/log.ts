import { fstatSync } from 'node:fs';
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
  /**
   * Prefix each JSON line with its syslog priority ("<4>" for warn) so the journal files it at
   * that priority (systemd's SyslogLevelPrefix, on by default). Default: when stdout is the
   * journal (JOURNAL_STREAM names it) and `destination` is not given.
   */
  readonly journal?: boolean;
}

/** Syslog priority of each pino level (sd-daemon(3)): what `journalctl -p` filters on. */
export const JOURNAL_PRIORITY: Readonly<Record<number, number>> = {
  10: 7, // trace -> debug
  20: 7, // debug -> debug
  30: 6, // info -> info
  40: 4, // warn -> warning
  50: 3, // error -> err
  60: 2, // fatal -> crit
};

/**
 * Whether file descriptor `fd` is the journal's stream: systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it connected to stdout/stderr, and a program checks it against
 * its own fd, so a child whose output was redirected elsewhere does not prefix.
 */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** Wraps a destination so every line starts with the sd-daemon priority prefix of its level. */
export function journalDestination(dest: NodeJS.WritableStream): DestinationStream {
  // pino tells a stream marked "needs metadata" the level of the line it is about to write.
  const stream = {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: 30,
    write(line: string): void {
      dest.write(`<${JOURNAL_PRIORITY[stream.lastLevel] ?? 6}>${line}`);
    },
  };
  return stream as unknown as DestinationStream;
}

// Every logger createLogger made, with the children made from it (pino copies the level into
// a child when it is made, so changing the root's level alone would leave them behind).
const families = new WeakMap<Logger, Set<WeakRef<Logger>>>();

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
  const children = new Set<WeakRef<Logger>>();
  let pruneAt = 256;
  const onChild = (child: Logger): void => {
    children.add(new WeakRef(child));
    // Children come and go with VMs: drop the collected ones now and then.
    if (children.size >= pruneAt) {
      for (const ref of children) if (ref.deref() === undefined) children.delete(ref);
      pruneAt = Math.max(256, 2 * children.size);
    }
  };
  let root: Logger;
  if (pretty) {
    // A synchronous in-process stream rather than a worker transport: lines written just
    // before the process exits (a fatal config error) are not lost.
    const stream = pinoPretty({ colorize: opts.destination === undefined, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true, destination });
    root = pino({ level, base: undefined, onChild }, stream);
  } else {
    const journal = opts.journal ?? (opts.destination === undefined && isJournalStream());
    root = pino(
      { level, base: undefined, onChild, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      journal ? journalDestination(destination) : (destination as DestinationStream),
    );
  }
  families.set(root, children);
  return root;
}

/**
 * Changes the level of a logger createLogger made and of every child made from it (a config
 * reload of daemon.logLevel). Loggers not made by createLogger change alone.
 */
export function setLogLevel(logger: Logger, level: LogLevel): void {
  logger.level = level;
  for (const ref of families.get(logger) ?? []) {
    const child = ref.deref();
    if (child) child.level = level;
  }
}

/** A logger that drops everything: the default for library code used from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
