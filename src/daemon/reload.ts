/**
 * What a configuration reload can change while daqs runs, key by key. Every key of the file
 * is listed here (a test walks the config schema and fails on a key without a rule), so a new
 * key must say whether the daemon applies it live or needs a restart for it.
 */
import type { LoadedConfig } from '../config/index.ts';
import { formatListenAddress } from '../util/listen-address.ts';

/** `live`: the running daemon applies a new value at once; `restart`: it keeps the old one until restarted. */
export type ReloadEffect = 'live' | 'restart';

/** One key of the file: how to read it from a loaded config, and how a change takes effect. */
export interface ReloadRule {
  /** The key as written in the file, dotted ("port.capacity"); a rule covers everything below it. */
  readonly key: string;
  readonly effect: ReloadEffect;
  /** Its value in a loaded configuration, comparable with JSON.stringify. */
  readonly read: (c: LoadedConfig) => unknown;
  /** What applying it does (live) or why it cannot be applied (restart), for docs and logs. */
  readonly why: string;
}

/** Every key of the configuration file, in file order. */
export const RELOAD_RULES: readonly ReloadRule[] = [
  { key: 'port.interface', effect: 'restart', read: (c) => c.config.port.interface, why: 'the port daqs controls is chosen at start (its inventory, endpoints and lock)' },
  { key: 'port.testbed', effect: 'restart', read: (c) => c.config.port.testbed, why: 'the port daqs controls is chosen at start (its inventory, endpoints and lock)' },
  // The capacity in force, whether written or read from the link: a new link speed counts too.
  { key: 'port.capacity', effect: 'live', read: (c) => c.capacity.capacityBps, why: 'the loop shares out the new capacity from the next tick' },
  { key: 'port.tickMs', effect: 'live', read: (c) => c.config.port.tickMs, why: 'the next tick is scheduled with the new period' },
  { key: 'policy', effect: 'live', read: (c) => c.config.policy, why: 'the new policy decides from the next tick, from its initial state' },
  { key: 'vms', effect: 'live', read: (c) => c.config.vms, why: 'SLAs are merged into the inventory at once and used from the next tick' },
  { key: 'inventory.source', effect: 'restart', read: (c) => c.config.inventory.source, why: 'the inventory source is built at start' },
  { key: 'inventory.static', effect: 'live', read: (c) => c.config.inventory.static, why: 'the static source lists the new entries at its next poll' },
  { key: 'inventory.libvirt.uri', effect: 'restart', read: (c) => c.config.inventory.libvirt.uri, why: 'the libvirt connection is made at start' },
  { key: 'inventory.pollMs', effect: 'live', read: (c) => c.config.inventory.pollMs, why: 'the next inventory poll waits the new interval' },
  { key: 'daemon.onStart', effect: 'live', read: (c) => c.config.daemon.onStart, why: 'applies to VMs first seen after the reload' },
  { key: 'daemon.onStop', effect: 'live', read: (c) => c.config.daemon.onStop, why: 'read when daqs stops' },
  { key: 'daemon.status', effect: 'restart', read: (c) => formatListenAddress(c.config.daemon.status), why: 'the status listener is bound at start' },
  { key: 'daemon.metrics.listen', effect: 'restart', read: (c) => formatListenAddress(c.config.daemon.metrics.listen), why: 'the metrics listener is bound at start' },
  { key: 'daemon.metrics.allowNonLoopback', effect: 'restart', read: (c) => c.config.daemon.metrics.allowNonLoopback, why: 'the metrics listener is bound at start' },
  { key: 'daemon.allowedHosts', effect: 'restart', read: (c) => c.config.daemon.allowedHosts.join(','), why: 'the HTTP listeners take their Host allow-list at start' },
  { key: 'daemon.logLevel', effect: 'live', read: (c) => c.config.daemon.logLevel, why: 'every logger switches at once (unless --log-level or DAQS_LOG_LEVEL fixed it)' },
  { key: 'agent.timeoutMs', effect: 'live', read: (c) => c.config.agent.timeoutMs, why: 'endpoints are rebuilt with the new timeout and observation uses it from the next tick' },
];

/** A key whose value differs between two configurations. */
export interface ConfigChange {
  readonly key: string;
  readonly effect: ReloadEffect;
}

/** The keys whose values differ between `before` and `after`, in file order. */
export function diffConfig(before: LoadedConfig, after: LoadedConfig): ConfigChange[] {
  return RELOAD_RULES.filter((r) => JSON.stringify(r.read(before)) !== JSON.stringify(r.read(after))).map((r) => ({ key: r.key, effect: r.effect }));
}
