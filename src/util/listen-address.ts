/**
 * Listen addresses as the config file, the daemon and `daqs status` write them: HOST:PORT, or
 * a unix socket path. Parsing and formatting live here, below both src/config and src/server,
 * so the config can validate an address without depending on the server.
 */
import { isIP } from 'node:net';

/** Where daqs serves status and the web view when nothing else is configured. */
export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:9310';

/** Error with a stable code for a listen address that is malformed, refused or unavailable. */
export class ServerAddressError extends Error {
  constructor(readonly code: 'E_LISTEN_ADDRESS' | 'E_LISTEN_NON_LOOPBACK' | 'E_LISTEN_IN_USE' | 'E_LISTEN_DENIED' | 'E_LISTEN_UNAVAILABLE', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerAddressError';
  }
}

/** A parsed listen address: TCP (host without brackets) or a unix socket path. */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** Parses "127.0.0.1:9310", "[::1]:9310", "localhost:9310", ":9310" (loopback) or "/run/daqs/status.sock". */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('/')) return { kind: 'unix', path: text };
  const m = /^\s*(?:\[([^\]]+)\]|([^:[\]\s]*)):(\d{1,5})\s*$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ServerAddressError('E_LISTEN_ADDRESS', `invalid listen address ${JSON.stringify(text)}: expected HOST:PORT with a port from 0 to 65535, for example "127.0.0.1:9310" or "[::1]:9310"`);
  }
  const host = m[1] ?? (m[2] || '127.0.0.1');
  if (m[1] !== undefined && isIP(host) !== 6) {
    throw new ServerAddressError('E_LISTEN_ADDRESS', `invalid listen address ${JSON.stringify(text)}: brackets are for IPv6 addresses, for example "[::1]:9310"`);
  }
  return { kind: 'tcp', host, port };
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Formats a TCP address as a URL host part ("127.0.0.1:9310", "[::1]:9310"). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Formats an address the way startServer and `daqs status --address` take it back ("127.0.0.1:9310", "/run/daqs/status.sock"). */
export function formatListenAddress(addr: ListenAddress): string {
  return addr.kind === 'unix' ? addr.path : formatHostPort(addr.host, addr.port);
}

/** Formats an address for messages ("127.0.0.1:9310", "unix:/run/daqs/status.sock"). */
export function describeAddress(addr: ListenAddress): string {
  return addr.kind === 'unix' ? `unix:${addr.path}` : formatHostPort(addr.host, addr.port);
}
