#!/usr/bin/env node
// The daqs command. An installed package runs the compiled dist/. A development checkout (one
// with src/) runs dist/ only when `npm run build` is newer than every file under src/, and
// otherwise the sources through tsx: a checkout works without a build and never runs stale
// output. DAQS_FROM_SOURCE=1 forces the sources (development, timing the two).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distMain = join(root, 'dist', 'cli', 'main.js');
const stamp = join(root, 'dist', '.built');
const src = join(root, 'src');

// True when no file or folder under src/ changed since the build started (a deleted file
// changes its folder's mtime). About 150 stats: a few milliseconds.
function distIsCurrent() {
  if (!existsSync(stamp)) return false;
  const builtMs = statSync(stamp).mtimeMs;
  if (statSync(src).mtimeMs > builtMs) return false;
  for (const entry of readdirSync(src, { recursive: true })) {
    if (statSync(join(src, String(entry))).mtimeMs > builtMs) return false;
  }
  return true;
}

const hasSources = existsSync(src);
const useDist = process.env.DAQS_FROM_SOURCE !== '1' && existsSync(distMain) && (!hasSources || distIsCurrent());
let main;
if (useDist) {
  main = await import(pathToFileURL(distMain).href);
} else if (!hasSources) {
  console.error('daqs: this installation has neither dist/ nor src/; reinstall the package (npm install -g daqs-<version>.tgz)');
  process.exit(1);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('daqs: dist/ is missing or older than src/, and tsx (a development dependency) is not installed: run `npm run build`, or `npm ci` to run from the sources');
    process.exit(1);
  }
  register();
  main = await import(pathToFileURL(join(src, 'cli', 'main.ts')).href);
}
await main.runMain(process.argv.slice(2));
