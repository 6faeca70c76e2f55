/** `daqs run --config FILE`: the daemon in the foreground (systemd-friendly). */
import { parseArgs } from 'node:util';
import { Daemon } from '../../daemon/daemon.ts';
import { createLogger, LOG_LEVELS } from '../../util/log.ts';
import { parseConfigText } from '../../config/index.ts';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'run the daemon in the foreground: daqs run --config FILE [--log-level LEVEL]';

const HELP = `usage: daqs run --config FILE [--log-level trace|debug|info|warn|error] [--listen ADDR]

Runs the control loop in the foreground. Logs are JSON lines on stdout (human-readable on a
terminal). SIGHUP or a change of FILE reloads the configuration; a bad file is refused and
the running one stays. SIGTERM or Ctrl-C stops, lifting the caps daqs set (daemon.onStop).
Status, metrics and the live view are served on daemon.status (default 127.0.0.1:9310).`;

/** Runs the daemon until SIGTERM/SIGINT. */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' }, listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.config) throw new UsageError(`--config FILE is required (an example: deploy/daqs.example.yaml)\n${HELP}`);
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  // The file's level applies unless the flag says otherwise; a broken file is reported by the
  // daemon's own load below with every problem named.
  const fileLevel = await readFile(values.config, 'utf8').then((t) => parseConfigText(t, values.config).daemon.logLevel, () => undefined);
  const logger = createLogger({ level: (level ?? fileLevel ?? 'info') as (typeof LOG_LEVELS)[number] });
  const daemon = await Daemon.start({ configPath: values.config, logger, ...(values.listen ? { listen: values.listen } : {}) });
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ op: 'signal', signal }, 'stopping');
      daemon.stop().then(
        (r) => resolve(r.failed.length > 0 ? 1 : 0),
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => daemon.reload());
  });
}
