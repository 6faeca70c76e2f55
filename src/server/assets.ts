/**
 * The web view's files, loaded into memory once at start: the page and its script from
 * src/web, the chart library (uPlot) straight from node_modules so the view works offline
 * and always matches the version in package-lock.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the server answers with. */
export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** Error for a missing web view file (a broken install). */
export class WebAssetError extends Error {
  readonly code = 'E_WEB_ASSETS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebAssetError';
  }
}

const WEB_DIR = new URL('../web/', import.meta.url);

const FILES: readonly { path: string; source: () => string; contentType: string }[] = [
  { path: '/', source: () => fileURLToPath(new URL('index.html', WEB_DIR)), contentType: 'text/html; charset=utf-8' },
  { path: '/assets/app.js', source: () => fileURLToPath(new URL('assets/app.js', WEB_DIR)), contentType: 'text/javascript; charset=utf-8' },
  { path: '/assets/app.css', source: () => fileURLToPath(new URL('assets/app.css', WEB_DIR)), contentType: 'text/css; charset=utf-8' },
  { path: '/assets/favicon.svg', source: () => fileURLToPath(new URL('assets/favicon.svg', WEB_DIR)), contentType: 'image/svg+xml' },
  { path: '/assets/vendor/uPlot.iife.min.js', source: () => resolveModuleFile('uplot/dist/uPlot.iife.min.js'), contentType: 'text/javascript; charset=utf-8' },
  { path: '/assets/vendor/uPlot.min.css', source: () => resolveModuleFile('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
];

/** Reads every web view file; throws E_WEB_ASSETS naming the missing file and the fix. */
export function loadWebAssets(): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const f of FILES) {
    let file = f.path;
    try {
      file = f.source();
      assets.set(f.path, { contentType: f.contentType, body: readFileSync(file) });
    } catch (err) {
      throw new WebAssetError(`web view file ${file} cannot be read (${(err as Error).message}); reinstall daqs's dependencies with \`npm ci\` (or \`npm run setup\`)`, { cause: err });
    }
  }
  return assets;
}

function resolveModuleFile(spec: string): string {
  return createRequire(import.meta.url).resolve(spec);
}
