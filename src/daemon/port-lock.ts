/**
 * One daemon per port: two daemons on the same NIC fight over every guest's cap. The lock is a
 * unix socket in Linux's abstract namespace ("\0daqs/port/NAME"): binding it is atomic, and the
 * kernel releases it the moment its holder dies, SIGKILL included, so there is never a stale
 * lock file to clean up (and no race between two starters both deciding a pid file is stale).
 * The holder answers on it with its pid, config path and start time, so a second `daqs run`
 * can say who holds the port. Node has no flock(); this has flock's semantics without a file.
 *
 * Abstract sockets are per network namespace: daqs runs in the host's (it manages the host's
 * NIC), so every daqs that could touch the port sees the same lock.
 */
import { createServer, connect, type Server } from 'node:net';

/** Who holds a port's lock, as the holder tells it. */
export interface PortLockHolder {
  readonly pid: number;
  readonly port: string;
  readonly configPath: string | null;
  readonly startedAtEpochMs: number;
}

/** The port is controlled by another daqs (or its lock cannot be taken). */
export class PortLockError extends Error {
  readonly code = 'E_PORT_LOCKED';
  constructor(message: string, readonly holder: PortLockHolder | null, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PortLockError';
  }
}

/** A held lock; release() lets the next daemon in. */
export interface PortLock {
  readonly port: string;
  release(): Promise<void>;
}

/** The lock's name for a port: its interface, or an emulated host (which has no interface of its own). */
export function portLockName(port: { readonly interface: string | null; readonly testbed: string | null }): string {
  return port.interface !== null ? `if/${port.interface}` : `testbed/${port.testbed ?? ''}`;
}

const address = (name: string): string => `\0daqs/port/${name}`;

/** Takes the port's lock or throws E_PORT_LOCKED naming the daemon that holds it. */
export async function acquirePortLock(name: string, info: { readonly configPath: string | null }): Promise<PortLock> {
  const me: PortLockHolder = { pid: process.pid, port: name, configPath: info.configPath, startedAtEpochMs: Date.now() };
  const server: Server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.end(`${JSON.stringify(me)}\n`);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: address(name) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'EADDRINUSE') throw new PortLockError(`cannot take the lock of port ${name}: ${err.message}`, null, { cause: e });
    const holder = await askHolder(name);
    const who = holder
      ? `daqs pid ${holder.pid}${holder.configPath ? ` (config ${holder.configPath})` : ''}, running since ${new Date(holder.startedAtEpochMs).toISOString()}`
      : 'another process (it did not say which; `ss -xlp | grep daqs/port` shows it)';
    throw new PortLockError(`port ${name} is already controlled by ${who}: one daemon per port. Stop it first (systemctl stop daqs, or kill ${holder?.pid ?? 'PID'}), or point this one at another port.`, holder);
  }
  // The lock must not keep the process alive by itself.
  server.unref();
  let released: Promise<void> | null = null;
  return {
    port: name,
    release: () => (released ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

// Reads the holder's self-description; null when it does not answer within a second.
function askHolder(name: string): Promise<PortLockHolder | null> {
  return new Promise((resolve) => {
    let text = '';
    const sock = connect({ path: address(name) });
    const done = (v: PortLockHolder | null): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), 1000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      if (text.length > 4096) done(null);
    });
    sock.on('end', () => {
      try {
        const v = JSON.parse(text) as Partial<PortLockHolder>;
        done(typeof v.pid === 'number' ? { pid: v.pid, port: String(v.port ?? name), configPath: typeof v.configPath === 'string' ? v.configPath : null, startedAtEpochMs: Number(v.startedAtEpochMs ?? 0) } : null);
      } catch {
        done(null);
      }
    });
    sock.on('error', () => done(null));
  });
}
