#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json) and copies the web
// view's files beside the compiled server (dist/server/assets.js reads ../web/ as
// src/server/assets.ts does). Last, dist/.built gets the time the build STARTED: bin/daqs.js
// runs dist/ only when no source file is newer than that, so an edit made during the build
// is never hidden behind older output.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const startedAt = new Date();

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error(`daqs build: tsc failed (exit ${r.status ?? r.signal}); dist/ is incomplete, bin/daqs.js will keep running the sources through tsx`);
  process.exit(1);
}
cpSync(join(root, 'src', 'web'), join(dist, 'web'), { recursive: true });
const stamp = join(dist, '.built');
writeFileSync(stamp, `${startedAt.toISOString()}\n`);
utimesSync(stamp, startedAt, startedAt);
