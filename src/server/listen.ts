/**
 * Binds the HTTP server to a TCP address or a unix socket. A socket file left by a daqs that
 * crashed would block every restart, so a unix socket that nobody answers on is replaced;
 * one that answers belongs to a running daemon and is an E_LISTEN_IN_USE error.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { ServerAddressError, type ListenAddress } from '../util/listen-address.ts';
import { listenError } from './address.ts';

/** Listens on `addr`; rejects with the ServerAddressError listenError makes. */
export async function listenOn(server: Server, addr: ListenAddress): Promise<void> {
  try {
    await listenOnce(server, addr);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (addr.kind !== 'unix' || err.code !== 'EADDRINUSE' || (await socketAnswers(addr.path))) throw listenError(err, addr);
    // Only ever remove a socket: a path mistyped onto a regular file must not delete it.
    if (!lstatSync(addr.path).isSocket()) {
      throw new ServerAddressError('E_LISTEN_IN_USE', `cannot listen on unix:${addr.path}: the path exists and is not a socket; choose another path (daemon.status in the config) or remove that file yourself.`, { cause: err });
    }
    unlinkSync(addr.path);
    await listenOnce(server, addr).catch((again: NodeJS.ErrnoException) => {
      throw listenError(again, addr);
    });
  }
}

function listenOnce(server: Server, addr: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (addr.kind === 'unix') server.listen({ path: addr.path }, done);
    else server.listen({ host: addr.host, port: addr.port }, done);
  });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
