/**
 * Where daqs serves metrics, status and the web view: HOST:PORT, or a unix socket path (the
 * config's daemon.status may be one). These endpoints have no authentication, so anything
 * but loopback or a unix socket needs an explicit opt-in.
 */
import { DEFAULT_STATUS_ADDRESS, describeAddress, isLoopbackHost, ServerAddressError, type ListenAddress } from '../util/listen-address.ts';

/** Where daqs listens when nothing else is configured. */
export const DEFAULT_ADDRESS = DEFAULT_STATUS_ADDRESS;

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
