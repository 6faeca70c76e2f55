/** Debian's chromium, headless, driven by playwright-core (its own browser downloads fail offline). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** A headless browser context with a fresh profile; close() removes the profile too. */
export interface HeadlessBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches chromium as root in a container: no sandbox, no GPU, no network side-traffic. */
export async function launchChromium(viewport = { width: 1600, height: 1000 }): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: install Debian's chromium package (npm run setup installs it)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'daqs-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return {
      context,
      close: async () => {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
