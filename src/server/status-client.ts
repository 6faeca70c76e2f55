/**
 * Reads /api/status (or any endpoint) from a running daemon, over TCP or its unix socket. node:http rather than
 * fetch: fetch cannot reach a unix socket and hides the connect error under "fetch failed".
 */
import { request } from 'node:http';
import { describeAddress, parseListenAddress } from '../util/listen-address.ts';
import type { StatusSnapshot } from './hub.ts';

/** Error reaching the daemon; the message says how to start one or where to point. */
export class StatusClientError extends Error {
  constructor(readonly code: 'E_NO_DAEMON' | 'E_DAEMON_TIMEOUT' | 'E_NOT_DAQS', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatusClientError';
  }
}

/** /api/status as the daemon sends it (the snapshot plus where it is served). */
export type StatusResponse = StatusSnapshot & { readonly server?: { readonly url: string; readonly viewers: number } };

/** Fetches the status snapshot from `address` ("127.0.0.1:9310" or a unix socket path). */
export async function fetchStatus(address: string, timeoutMs = 3000): Promise<StatusResponse> {
  const addr = parseListenAddress(address);
  const body = await fetchFromDaemon(address, '/api/status', timeoutMs);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new StatusClientError('E_NOT_DAQS', `${describeAddress(addr)} answered /api/status with something that is not JSON: is another program listening there? Point --address at the daqs daemon.`, { cause: err });
  }
  const s = parsed as Partial<StatusSnapshot> | null;
  if (!s || typeof s !== 'object' || !s.info || !('latest' in s)) {
    throw new StatusClientError('E_NOT_DAQS', `${describeAddress(addr)} answered /api/status without daqs's status fields: is another program listening there? Point --address at the daqs daemon.`);
  }
  return s as StatusResponse;
}

/** GETs `path` (e.g. "/metrics") from the daemon at `address`, TCP or unix socket; rejects with StatusClientError. */
export function fetchFromDaemon(address: string, path: string, timeoutMs = 3000): Promise<string> {
  const addr = parseListenAddress(address);
  const where = describeAddress(addr);
  return new Promise((resolve, reject) => {
    const target = addr.kind === 'unix' ? { socketPath: addr.path } : { host: addr.host, port: addr.port };
    const req = request({ ...target, path, method: 'GET', headers: { accept: '*/*' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(text);
        else reject(new StatusClientError('E_NOT_DAQS', `${where} answered ${path} with HTTP ${res.statusCode}: is it the daqs daemon? Point --address at it.`));
      });
    });
    req.on('timeout', () => {
      req.destroy(new StatusClientError('E_DAEMON_TIMEOUT', `the daqs daemon at ${where} did not answer within ${timeoutMs} ms; it may be overloaded or stuck (see \`journalctl -u daqs\`).`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof StatusClientError) return reject(err);
      const why = err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'nothing listens there' : err.code ?? err.message;
      reject(new StatusClientError('E_NO_DAEMON',
        `no daqs daemon answers at ${where} (${why}). Start one with \`daqs run --config /etc/daqs/daqs.yaml\` (or \`systemctl start daqs\`), ` +
        'or pass --address with the status address from its config (daemon.status).', { cause: err }));
    });
    req.end();
  });
}
