/**
 * `daqs run`: the configuration, the inventory, one endpoint per VM, the control loop and the
 * observation server, wired together. Signals: SIGHUP reloads the configuration (a bad file is
 * refused and the running one stays; every key that can change live does, the others are named
 * as needing a restart: ./reload.ts), SIGTERM/SIGINT stop cleanly, lifting the caps daqs set
 * unless `daemon.onStop: keep`.
 */
import { ConfigWatcher, isLoopback, type LoadedConfig, type ReloadTrigger } from '../config/index.ts';
import type { Clock, DaemonEvent } from '../core/types.ts';
import type { Controller, StopResult } from '../controller/index.ts';
import { createInventorySource, InventoryPoller, type InventorySource } from '../inventory/index.ts';
import { createPolicy } from '../policy/index.ts';
import { formatListenAddress } from '../util/listen-address.ts';
import { ObservationHub, startServer, type RunningServer } from '../server/index.ts';
import { systemClock } from '../telemetry/clock.ts';
import { setLogLevel, type Logger, type LogLevel } from '../util/log.ts';
import type { EndpointPool, EndpointPoolOptions } from '../endpoint/pool.ts';
import { createLoop, loopSettingsOf } from './loop.ts';
import { diffConfig } from './reload.ts';
import { acquirePortLock, portLockName, type PortLock } from './port-lock.ts';

/** What a daemon needs; side effects can be replaced for tests. */
export interface DaemonOptions {
  readonly configPath: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Load the config differently (tests pass capacity deps). */
  readonly load?: (path: string) => Promise<LoadedConfig>;
  /** Replace the inventory source (tests). */
  readonly source?: InventorySource;
  /** Replace how endpoints are built (tests, simulator). */
  readonly createEndpoint?: EndpointPoolOptions['create'];
  /** Override the listen address of the status/metrics/web server (tests use port 0). */
  readonly listen?: string;
  /** Watch the config file for changes (default true). */
  readonly watchFile?: boolean;
  /**
   * The log level was fixed outside the file (--log-level, DAQS_LOG_LEVEL): daemon.logLevel is
   * then ignored, also on reload. Otherwise a reload applies the file's level to `logger`.
   */
  readonly logLevelOverride?: LogLevel;
}

/** The name of the port a configuration controls: its interface, or "testbed:NAME"; the metrics' `port` label. */
export function portNameOf(cfg: LoadedConfig['config']): string {
  return cfg.port.interface ?? `testbed:${cfg.port.testbed ?? ''}`;
}

/** A running daemon. */
export class Daemon {
  private stopping: Promise<StopResult> | null = null;

  private constructor(
    readonly controller: Controller,
    readonly hub: ObservationHub,
    readonly servers: readonly RunningServer[],
    private readonly watcher: ConfigWatcher,
    private readonly poller: InventoryPoller,
    private readonly pool: EndpointPool,
    private readonly log: Logger,
    private readonly lock: PortLock,
  ) {}

  /** The configuration in force (the last one a reload accepted). */
  get config(): LoadedConfig {
    return this.watcher.current;
  }

  /** Loads the config (a bad one throws its ConfigError), starts the inventory, the loop and the server. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const log = opts.logger;
    const clock = opts.clock ?? systemClock;
    const hub = new ObservationHub({ logger: log });
    const emit = (kind: DaemonEvent['kind'], message: string): void => hub.publishEvent({ atEpochMs: Date.now(), kind, message });
    // Callbacks below need the controller, which needs the first config: late-bound.
    let onReload: (next: LoadedConfig, previous: LoadedConfig, trigger: ReloadTrigger) => void = () => undefined;
    const watcher = await ConfigWatcher.open({
      path: opts.configPath,
      logger: log,
      ...(opts.load ? { load: opts.load } : {}),
      watchFile: opts.watchFile ?? true,
      onReload: (next, prev, trigger) => onReload(next, prev, trigger),
      onReject: (error, trigger) => {
        log.error({ op: 'config', code: (error as { code?: string }).code, trigger }, `configuration refused, the running one stays: ${error.message}`);
        emit('config-rejected', error.message);
      },
    });
    const first = watcher.current;
    const cfg = first.config;
    // Before anything touches a guest: a second daemon on this port would fight the first.
    let lock: PortLock;
    try {
      lock = await acquirePortLock(portLockName(cfg.port), { configPath: first.path });
    } catch (err) {
      watcher.close();
      throw err;
    }
    const source = opts.source ?? createInventorySource(cfg, { logger: log, staticEntries: () => watcher.current.config.inventory.static });
    const poller = new InventoryPoller({
      source,
      settings: () => ({ vms: watcher.current.config.vms, capacityBps: watcher.current.capacity.capacityBps }),
      intervalMs: cfg.inventory.pollMs,
      logger: log,
      // The loop reports VMs appearing and disappearing when it starts or stops controlling
      // them; here only the inventory's own view is logged.
      onChange: (change) => {
        for (const vm of change.appeared) log.debug({ op: 'inventory', vm: vm.id, agent: vm.status.state }, 'found');
        for (const id of change.disappeared) log.debug({ op: 'inventory', vm: id }, 'gone');
      },
      onError: (err) => log.warn({ op: 'inventory', err }, 'inventory lookup failed; keeping the previous list'),
      onHealth: (health) => hub.setInventory(health),
    });
    await poller.refresh();
    const { controller, pool } = createLoop(loopSettingsOf(first), {
      logger: log,
      clock,
      // The poller refreshes in the background; a tick only reads its last result.
      vms: () => poller.vms,
      ...(opts.createEndpoint ? { createEndpoint: opts.createEndpoint } : {}),
    });
    controller.on('tick', (r) => hub.publishTick(r));
    controller.on('event', (e) => {
      hub.publishEvent(e);
      log.info({ op: 'event', vm: e.vm, kind: e.kind }, e.message);
    });
    onReload = (next, prev, trigger) => {
      const changes = diffConfig(prev, next);
      const changed = new Set(changes.map((c) => c.key));
      const applied = changes.filter((c) => c.effect === 'live').map((c) => c.key);
      const restart = changes.filter((c) => c.effect === 'restart').map((c) => c.key);
      const n = next.config;
      // A new port is not controlled before a restart: a capacity read from its link is not this port's.
      const capacityApplies = changed.has('port.capacity') && (!restart.some((k) => k.startsWith('port.')) || next.capacity.source === 'config');
      if (changed.has('port.capacity') && !capacityApplies) {
        applied.splice(applied.indexOf('port.capacity'), 1);
        restart.push('port.capacity');
      }
      controller.setConfig({
        ...(capacityApplies ? { capacityBps: next.capacity.capacityBps } : {}),
        ...(changed.has('port.tickMs') ? { tickMs: n.port.tickMs } : {}),
        ...(changed.has('policy') ? { policy: createPolicy(n.policy) } : {}),
        ...(changed.has('daemon.onStart') ? { onStart: n.daemon.onStart } : {}),
        ...(changed.has('agent.timeoutMs') ? { perVmTimeoutMs: n.agent.timeoutMs } : {}),
      });
      if (changed.has('agent.timeoutMs')) pool.setAgentTimeoutMs(n.agent.timeoutMs);
      if (changed.has('inventory.pollMs')) poller.setIntervalMs(n.inventory.pollMs);
      const ignored: string[] = [];
      if (changed.has('daemon.logLevel')) {
        if (opts.logLevelOverride === undefined) setLogLevel(log, n.daemon.logLevel);
        else {
          applied.splice(applied.indexOf('daemon.logLevel'), 1);
          ignored.push(`daemon.logLevel (the level ${opts.logLevelOverride} was fixed by --log-level or DAQS_LOG_LEVEL)`);
        }
      }
      // SLAs, static entries and the capacity admission counts against are merged at once.
      poller.remerge();
      hub.setInfo({ policy: controller.policyName(), tickPeriodMs: n.port.tickMs });
      const appliedText = (applied.length > 0 ? `applied ${applied.join(', ')}` : 'no setting changed') + (ignored.length > 0 ? `; ignored ${ignored.join(', ')}` : '');
      log.info({ op: 'config', trigger, applied, restartNeeded: restart }, `configuration reloaded: ${appliedText}`);
      emit('config-reloaded', `${trigger}: ${appliedText}`);
      if (restart.length > 0) {
        const text = `changed but only take effect after a restart (systemctl restart daqs): ${restart.join(', ')}; the running values stay`;
        log.warn({ op: 'config', trigger, restartNeeded: restart }, text);
        emit('config-restart-needed', text);
      }
    };
    hub.setInfo({
      policy: cfg.policy,
      configPath: first.path,
      tickPeriodMs: cfg.port.tickMs,
      portName: portNameOf(cfg),
    });

    const servers: RunningServer[] = [];
    try {
      const statusAddr = opts.listen ?? formatListenAddress(cfg.daemon.status);
      const allowedHosts = cfg.daemon.allowedHosts;
      servers.push(await startServer({ address: statusAddr, hub, logger: log, allowedHosts }));
      const metricsAddr = formatListenAddress(cfg.daemon.metrics.listen);
      if (opts.listen === undefined && metricsAddr !== statusAddr) {
        // Reachable from other hosts: /metrics only, never the status or the web view.
        const metricsOnly = !isLoopback(cfg.daemon.metrics.listen);
        servers.push(await startServer({ address: metricsAddr, allowNonLoopback: cfg.daemon.metrics.allowNonLoopback, hub, logger: log, allowedHosts, metricsOnly }));
      }
    } catch (err) {
      await Promise.all(servers.map((s) => s.close()));
      watcher.close();
      await pool.closeAll();
      await lock.release();
      throw err;
    }
    poller.start();
    controller.start();
    log.info({ op: 'start', policy: cfg.policy, capacityBps: first.capacity.capacityBps, tickMs: cfg.port.tickMs, vms: poller.vms.length, urls: servers.map((s) => s.url) }, 'daqs running');
    return new Daemon(controller, hub, servers, watcher, poller, pool, log, lock);
  }

  /** Re-reads the configuration (SIGHUP); resolves when the new one is in force or refused. */
  async reload(): Promise<void> {
    await this.watcher.reload('sighup');
  }

  /** Stops the loop (lifting caps unless configured to keep them), the inventory and the server. */
  stop(): Promise<StopResult> {
    this.stopping ??= (async () => {
      this.watcher.close();
      this.poller.stop();
      // daemon.onStop as it is now: a reload may have changed it.
      const result = await this.controller.stop({ liftCaps: this.watcher.current.config.daemon.onStop === 'lift' });
      await this.pool.closeAll();
      await Promise.all(this.servers.map((s) => s.close()));
      // Last: the caps are lifted, so the next daemon starts from a clean port.
      await this.lock.release();
      this.log.info({ op: 'stop', lifted: result.lifted.length, failed: result.failed }, 'daqs stopped');
      return result;
    })();
    return this.stopping;
  }
}
