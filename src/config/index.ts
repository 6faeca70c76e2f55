/** The configuration file: schema, loading, reload, admission control. */
export { checkAdmission, type GuaranteeClaim } from './admission.ts';
export { resolvePortCapacity, type CapacityDeps, type CapacitySource, type PortCapacity } from './capacity.ts';
export { ConfigError, formatIssue, type ConfigErrorCode, type ConfigIssue } from './errors.ts';
export { isLoopback, type ListenAddress } from './fields.ts';
export { configJsonSchema } from './json-schema.ts';
export { LinkSpeedError, readLinkSpeedBps, SYSFS_NET } from './link-speed.ts';
export { completeConfig, defaultCapacityDeps, loadConfig, parseConfigText, type LoadedConfig } from './load.ts';
export {
  configSchema,
  DEFAULT_AGENT_TIMEOUT_MS,
  DEFAULT_LIBVIRT_URI,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_STATUS_LISTEN,
  DEFAULT_TICK_MS,
  INVENTORY_SOURCES,
  vmSettingsSchema,
  type DaqsConfig,
  type DaqsConfigInput,
  type InventorySourceName,
  type VmSettings,
} from './schema.ts';
export { ConfigWatcher, type ConfigWatcherOptions, type ReloadOutcome, type ReloadTrigger } from './watcher.ts';
