/** `daqs run --config FILE`: the daemon in the foreground (systemd-friendly), or `--check` it. */
import { readFile } from 'node:fs/promises';
import { loadConfig, parseConfigText, type LoadedConfig } from '../../config/index.ts';
import { loadWebAssets } from '../../server/assets.ts';
import { formatRate } from '../../units/rate.ts';
import { formatListenAddress } from '../../util/listen-address.ts';
import { createLogger, LOG_LEVELS, parseLogLevel } from '../../util/log.ts';
import { defineCommand, type CommandIo } from '../define.ts';
import { oneOf } from '../values.ts';

/** Runs the daemon until SIGTERM/SIGINT, or validates its configuration (--check). */
export const run = defineCommand({
  name: 'run',
  description: `Runs the control loop in the foreground. Logs are JSON lines on stdout (human-readable on a
terminal). SIGHUP or a change of FILE reloads the configuration; a bad file is refused and
the running one stays. SIGTERM or Ctrl-C stops, lifting the caps daqs set (daemon.onStop);
a second one does not interrupt that, a third (or 20 s) exits at once.
Status, metrics and the live view are served on daemon.status (default 127.0.0.1:9310).
With --check, loads FILE as the daemon would (every rule, the port capacity, admission
control), prints what it would run with and exits: 0 when the daemon would start with it.`,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', required: true, help: 'the configuration file (an example: deploy/daqs.example.yaml)' },
    check: { type: 'boolean', help: 'validate FILE (and this installation\'s web files) and exit, touching no VM' },
    'log-level': { type: 'string', value: 'LEVEL', parse: oneOf(LOG_LEVELS), help: `overrides daemon.logLevel and DAQS_LOG_LEVEL, also on reload: ${LOG_LEVELS.join(', ')}` },
    listen: { type: 'string', value: 'ADDR', help: 'serve status, metrics and the live view on ADDR instead of daemon.status and daemon.metrics.listen' },
  },
}, async ({ values }, io) => {
  if (values.check) return check(values.config, io);
  // Imported here so that `--check` and `--help` do not load the whole daemon.
  const [{ Daemon }, { stopOnSignals }] = await Promise.all([import('../../daemon/daemon.ts'), import('../../daemon/signals.ts')]);
  // The flag, else DAQS_LOG_LEVEL, fixes the level; otherwise the file's applies, also on reload.
  // A broken file is reported by the daemon's own load below with every problem named.
  const override = values['log-level'] ?? (process.env.DAQS_LOG_LEVEL ? parseLogLevel(process.env.DAQS_LOG_LEVEL, 'DAQS_LOG_LEVEL') : undefined);
  const fileLevel = await readFile(values.config, 'utf8').then((t) => parseConfigText(t, values.config).daemon.logLevel, () => undefined);
  const logger = createLogger({ level: override ?? fileLevel ?? 'info' });
  const daemon = await Daemon.start({ configPath: values.config, logger, ...(values.listen ? { listen: values.listen } : {}), ...(override ? { logLevelOverride: override } : {}) });
  return stopOnSignals(daemon, logger);
});

// `daqs run --check`: what the daemon loads at start, without starting anything. A bad file
// throws its ConfigError (every problem named), which the CLI prints with exit code 1.
async function check(path: string, io: CommandIo): Promise<number> {
  const loaded = await loadConfig(path);
  loadWebAssets();
  for (const line of describeConfig(loaded)) io.out(line);
  return 0;
}

/** What `daqs run --check` says about a configuration that would start. */
export function describeConfig(loaded: LoadedConfig): string[] {
  const c = loaded.config;
  const vms = Object.entries(c.vms);
  const guaranteed = vms.filter(([, v]) => (v.guaranteeBps ?? 0) > 0);
  const sumBps = guaranteed.reduce((s, [, v]) => s + (v.guaranteeBps ?? 0), 0);
  const capacity = `${formatRate(loaded.capacity.capacityBps)} (${loaded.capacity.source === 'config' ? 'port.capacity' : loaded.capacity.source})`;
  const inventory = c.inventory.source === 'libvirt' ? `libvirt ${c.inventory.libvirt.uri}` : c.inventory.source === 'static' ? `static, ${c.inventory.static.length} agent sockets` : 'testbed';
  return [
    `${loaded.path}: OK, daqs run would start with it`,
    `  port ${c.port.interface ?? `testbed ${c.port.testbed ?? ''}`}, capacity ${capacity}, tick ${c.port.tickMs} ms, policy ${c.policy}`,
    `  ${vms.length} VMs in the file: ${guaranteed.length} with a guarantee (${formatRate(sumBps)} of ${formatRate(loaded.capacity.capacityBps)}), every other VM found is Best-Effort`,
    `  inventory ${inventory} every ${c.inventory.pollMs} ms; status ${formatListenAddress(c.daemon.status)}, metrics ${formatListenAddress(c.daemon.metrics.listen)}; log level ${c.daemon.logLevel}`,
  ];
}
