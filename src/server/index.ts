/**
 * Public API of daqs' observation side: the daemon creates one ObservationHub, feeds it
 * every TickReport and DaemonEvent, and serves it with startServer.
 */
export { ObservationHub, type DaemonInfo, type HubOptions, type StatusSnapshot, type HistorySnapshot, type ConfigReloadStats } from './hub.ts';
export { startServer, type RunningServer, type ServerOptions } from './http.ts';
export { DEFAULT_ADDRESS } from './address.ts';
export { ServerAddressError, parseListenAddress, isLoopbackHost } from '../util/listen-address.ts';
export { DaqsMetrics } from './metrics.ts';
export type { HistoryPoint, VmPoint } from './history.ts';
export type { StreamOptions } from './stream.ts';
