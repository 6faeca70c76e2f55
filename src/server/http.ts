/**
 * The daemon's one HTTP server: /metrics for Prometheus, /api/* for `daqs status` and the
 * web view, / for the live view itself. node:http and nothing else: six routes do not need
 * a framework. Every handler only reads the hub, so scrapes and viewers never touch the loop.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { silentLogger, type Logger } from '../util/log.ts';
import { formatHostPort, parseListenAddress } from '../util/listen-address.ts';
import { checkExposure, DEFAULT_ADDRESS } from './address.ts';
import { loadWebAssets, type StaticAsset } from './assets.ts';
import { healthOf } from './health.ts';
import { hostChecker } from './host-check.ts';
import { listenOn } from './listen.ts';
import type { ObservationHub } from './hub.ts';
import { LiveStreams, type StreamOptions, type ViewerStats } from './stream.ts';

/** What startServer needs. */
export interface ServerOptions {
  /** HOST:PORT or a unix socket path, default 127.0.0.1:9310; port 0 picks a free port (tests). */
  readonly address?: string;
  /** Allow a non-loopback address; the endpoints have no authentication. */
  readonly allowNonLoopback?: boolean;
  readonly hub: ObservationHub;
  readonly logger?: Logger;
  /** Pacing of the live view streams. */
  readonly stream?: StreamOptions;
  /** Serve /metrics and nothing else (a listener other hosts can reach: no status, no web view). */
  readonly metricsOnly?: boolean;
  /** Host names answered besides IP literals, localhost and this host's name (daemon.allowedHosts); others get 421. */
  readonly allowedHosts?: readonly string[];
  /** Open connections at most (default 128); more are refused until some close. */
  readonly maxConnections?: number;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:9310 (with the real port when 0 was asked); "unix:PATH" on a unix socket. */
  readonly url: string;
  /** Bound TCP host and port; null on a unix socket. */
  readonly host: string | null;
  readonly port: number | null;
  /** The unix socket path, or null on TCP. */
  readonly socketPath: string | null;
  /** Open live-view streams. */
  viewers(): ViewerStats[];
  /** Ends the streams, closes every connection and stops listening. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Everything is served from here: no CDN, no inline script.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

/** Starts the HTTP server; rejects with E_LISTEN_* errors that name the address and the fix. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const addr = parseListenAddress(opts.address ?? DEFAULT_ADDRESS);
  checkExposure(addr, opts.allowNonLoopback ?? false);
  const logger = opts.logger ?? silentLogger;
  const hub = opts.hub;
  const assets = loadWebAssets();
  const streams = new LiveStreams(hub, logger, opts.stream);
  // A browser cannot reach a unix socket: no rebinding to defend against there.
  const hostAllowed = addr.kind === 'unix' ? () => true : hostChecker(opts.allowedHosts);
  const metricsOnly = opts.metricsOnly ?? false;
  // Set once listening; handlers only run after that.
  let baseUrl = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ op: 'http', code: 'E_HTTP_HANDLER', err, path: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { code: 'E_HTTP_HANDLER', error: 'internal error; see the daemon log' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://daqs.invalid');
    if (!hostAllowed(req.headers.host)) {
      return sendJson(res, 421, { code: 'E_HTTP_HOST', error: `this daqs does not answer to host ${JSON.stringify(req.headers.host?.slice(0, 100))}; use an IP address or localhost, or list the name in daemon.allowedHosts` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { code: 'E_METHOD', error: `${req.method} is not supported; every daqs endpoint is read-only (GET)` });
    }
    if (metricsOnly && url.pathname !== '/metrics') {
      return sendJson(res, 404, { code: 'E_NOT_FOUND', error: 'this listener serves /metrics only; status, events and the live view are on daemon.status (loopback)' });
    }
    switch (url.pathname) {
      case '/metrics': {
        const body = await hub.metrics.render();
        res.writeHead(200, { 'content-type': hub.metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      case '/api/status':
        return sendJson(res, 200, { ...hub.status(), server: { url: baseUrl, viewers: streams.count } });
      case '/api/history':
        return sendJson(res, 200, { ...hub.historySnapshot(), lastSeq: hub.cursors().historySeq });
      case '/api/events': {
        const { items } = hub.eventsSince(0);
        return sendJson(res, 200, { lastSeq: hub.cursors().eventSeq, events: items.map((e) => ({ seq: e.seq, ...e.item })) });
      }
      case '/api/events/stream':
        // A HEAD must not become a viewer that never ends.
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
          res.end();
          return;
        }
        return streams.open(req, res, url.searchParams);
      case '/healthz': {
        const health = healthOf(hub);
        return sendJson(res, health.ok ? 200 : 503, health);
      }
      default: {
        const asset = assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
        if (asset) return sendAsset(req, res, asset);
        return sendJson(res, 404, { code: 'E_NOT_FOUND', error: `no such endpoint ${url.pathname}; try /, /metrics, /api/status, /api/history, /api/events, /api/events/stream` });
      }
    }
  }

  server.maxConnections = opts.maxConnections ?? 128;
  // A client that trickles its request headers (slowloris) is cut off instead of holding a slot.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  try {
    await listenOn(server, addr);
  } catch (err) {
    streams.close();
    throw err;
  }
  server.on('error', (err) => logger.error({ op: 'http', code: 'E_HTTP_SERVER', err }, 'HTTP server error'));

  const bound = server.address();
  const host = typeof bound === 'object' && bound !== null ? bound.address : null;
  const port = typeof bound === 'object' && bound !== null ? bound.port : null;
  baseUrl = host !== null && port !== null ? `http://${formatHostPort(host, port)}` : `unix:${addr.kind === 'unix' ? addr.path : String(bound)}`;
  logger.info({ op: 'listen', url: baseUrl }, `serving metrics at ${baseUrl}/metrics and the live view at ${baseUrl}/`);

  let closing: Promise<void> | null = null;
  return {
    url: baseUrl,
    host,
    port,
    socketPath: addr.kind === 'unix' ? addr.path : null,
    viewers: () => streams.stats(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        streams.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(text);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: StaticAsset): void {
  res.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
