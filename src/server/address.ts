/**
 * Where daqs serves metrics, status and the web view: HOST:PORT, or a unix socket path (the
 * config's daemon.status may be one). These endpoints have no authentication, so anything
 * but loopback or a unix socket needs an explicit opt-in.
 */
import { isIP } from 'node:net';

/** Where daqs listens when nothing else is configured. */
export const DEFAULT_ADDRESS = '127.0.0.1:9310';

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

/** Throws E_LISTEN_NON_LOOPBACK unless the address is loopback, a unix socket, or the caller opted in. */
export function checkExposure(addr: ListenAddress, allowNonLoopback: boolean): void {
  if (allowNonLoopback || addr.kind === 'unix' || isLoopbackHost(addr.host)) return;
  throw new ServerAddressError('E_LISTEN_NON_LOOPBACK',
    `refusing to serve metrics, status and the web view on ${describeAddress(addr)}: it is not a loopback address and these endpoints have no authentication. ` +
    `Listen on 127.0.0.1:${addr.port} (and let Prometheus or an SSH tunnel reach it), or opt in deliberately with daemon.metrics.allowNonLoopback: true in the config.`);
}

/** Turns a listen() failure into an error that names the address and the fix. */
export function listenError(err: NodeJS.ErrnoException, addr: ListenAddress): ServerAddressError {
  const where = describeAddress(addr);
  const who = addr.kind === 'unix' ? `\`ss -lxp | grep ${addr.path}\`` : `\`ss -ltnp 'sport = :${addr.port}'\``;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ServerAddressError('E_LISTEN_IN_USE',
        `cannot listen on ${where}: the address is already in use (another daqs, or another program: see ${who}). ` +
        'Stop it, or choose another address (daemon.metrics.listen or daemon.status in the config, or --address HOST:PORT).', { cause: err });
    case 'EACCES':
      return new ServerAddressError('E_LISTEN_DENIED', addr.kind === 'unix'
        ? `cannot listen on ${where}: permission denied; create its directory writable for daqs (systemd: RuntimeDirectory=daqs gives /run/daqs) or choose another path.`
        : `cannot listen on ${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE). Choose a port above 1024, such as 9310.`, { cause: err });
    case 'ENOENT':
      return new ServerAddressError('E_LISTEN_UNAVAILABLE', `cannot listen on ${where}: its directory does not exist; create it or choose another path.`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ServerAddressError('E_LISTEN_UNAVAILABLE', `cannot listen on ${where}: no local interface has this address (${err.code}). Use 127.0.0.1 or an address of this host.`, { cause: err });
    default:
      return new ServerAddressError('E_LISTEN_UNAVAILABLE', `cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}
