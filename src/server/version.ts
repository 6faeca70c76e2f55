/** The daqs version from package.json, read once (the CLI runs from the source tree via tsx). */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** Returns package.json's version, or "unknown" if it cannot be read. */
export function daqsVersion(): string {
  if (cached === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
