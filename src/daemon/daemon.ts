/**
 * `daqs run`: the configuration, the inventory, one endpoint per VM, the control loop and the
 * observation server, wired together. Signals: SIGHUP reloads the configuration (a bad file is
 * refused and the running one stays), SIGTERM/SIGINT stop cleanly, lifting the caps daqs set
 * unless `daemon.onStop: keep`.
 */
import { ConfigWatcher, type LoadedConfig, type ReloadTrigger } from '../config/index.ts';
import type { Clock, DaemonEvent } from '../core/types.ts';
import type { Controller, StopResult } from '../controller/index.ts';
import { createInventorySource, InventoryPoller, type InventorySource } from '../inventory/index.ts';
import { createPolicy } from '../policy/index.ts';
import { formatListenAddress } from '../util/listen-address.ts';
import { ObservationHub, startServer, type RunningServer } from '../server/index.ts';
import { systemClock } from '../telemetry/clock.ts';
import type { Logger } from '../util/log.ts';
import type { EndpointPool, EndpointPoolOptions } from '../endpoint/pool.ts';
import { createLoop, loopSettingsOf } from './loop.ts';

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
  ) {}

  /** Loads the config (a bad one throws its ConfigError), starts the inventory, the loop and the server. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const log = opts.logger;
    const clock = opts.clock ?? systemClock;
    const hub = new ObservationHub({ logger: log });
    const emit = (kind: DaemonEvent['kind'], message: string): void => hub.publishEvent({ atEpochMs: Date.now(), kind, message });
    // Callbacks below need the controller, which needs the first config: late-bound.
    let onReload: (next: LoadedConfig, trigger: ReloadTrigger) => void = () => undefined;
    const watcher = await ConfigWatcher.open({
      path: opts.configPath,
      logger: log,
      ...(opts.load ? { load: opts.load } : {}),
      watchFile: opts.watchFile ?? true,
      onReload: (next, _prev, trigger) => onReload(next, trigger),
      onReject: (error, trigger) => {
        log.error({ op: 'config', code: (error as { code?: string }).code, trigger }, `configuration refused, the running one stays: ${error.message}`);
        emit('config-rejected', error.message);
      },
    });
    const first = watcher.current;
    const cfg = first.config;
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
    onReload = (next, trigger) => {
      const policyChanged = next.config.policy !== controller.policyName();
      controller.setConfig({
        capacityBps: next.capacity.capacityBps,
        tickMs: next.config.port.tickMs,
        ...(policyChanged ? { policy: createPolicy(next.config.policy) } : {}),
      });
      poller.remerge();
      hub.setInfo({ policy: next.config.policy, tickPeriodMs: next.config.port.tickMs });
      log.info({ op: 'config', trigger }, 'configuration reloaded');
    };
    hub.setInfo({
      policy: cfg.policy,
      configPath: first.path,
      tickPeriodMs: cfg.port.tickMs,
      portName: cfg.port.interface ?? `testbed ${cfg.port.testbed ?? ''}`,
    });

    const servers: RunningServer[] = [];
    try {
      const statusAddr = opts.listen ?? formatListenAddress(cfg.daemon.status);
      servers.push(await startServer({ address: statusAddr, hub, logger: log }));
      const metricsAddr = formatListenAddress(cfg.daemon.metrics.listen);
      if (opts.listen === undefined && metricsAddr !== statusAddr) {
        servers.push(await startServer({ address: metricsAddr, allowNonLoopback: cfg.daemon.metrics.allowNonLoopback, hub, logger: log }));
      }
    } catch (err) {
      await Promise.all(servers.map((s) => s.close()));
      watcher.close();
      await pool.closeAll();
      throw err;
    }
    poller.start();
    controller.start();
    log.info({ op: 'start', policy: cfg.policy, capacityBps: first.capacity.capacityBps, tickMs: cfg.port.tickMs, vms: poller.vms.length, urls: servers.map((s) => s.url) }, 'daqs running');
    return new Daemon(controller, hub, servers, watcher, poller, pool, log);
  }

  /** Re-reads the configuration (SIGHUP). */
  reload(): void {
    void this.watcher.reload('sighup');
  }

  /** Stops the loop (lifting caps unless configured to keep them), the inventory and the server. */
  stop(): Promise<StopResult> {
    this.stopping ??= (async () => {
      this.watcher.close();
      this.poller.stop();
      const result = await this.controller.stop();
      await this.pool.closeAll();
      await Promise.all(this.servers.map((s) => s.close()));
      this.log.info({ op: 'stop', lifted: result.lifted.length, failed: result.failed }, 'daqs stopped');
      return result;
    })();
    return this.stopping;
  }
}
