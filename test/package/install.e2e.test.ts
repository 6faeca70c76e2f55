/**
 * The package as a host installs it: `npm pack` (which builds dist/ through prepack), then
 * `npm install -g --prefix <tmp>` of the tarball (its dependencies from the npm cache or the
 * registry), then the installed `daqs` run from that prefix: it must work without the source
 * tree, tsx or any development dependency.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function ran(file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  try {
    const r = await exec(file, [...args], { ...opts, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('the npm package, installed into a clean prefix', () => {
  let dir: string;
  let daqs: string;
  let installed: string;
  let tarball: string;
  let version: string;

  beforeAll(async () => {
    version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    dir = await mkdtemp(join(tmpdir(), 'daqs-pkg-'));
    const pack = await ran('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
    expect(pack.code, pack.stderr).toBe(0);
    tarball = join(dir, (JSON.parse(pack.stdout) as { filename: string }[])[0]?.filename ?? '');
    const prefix = join(dir, 'prefix');
    // The cache first: CI's `npm ci` has just put every dependency there.
    const install = await ran('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball]);
    expect(install.code, install.stderr).toBe(0);
    daqs = join(prefix, 'bin', 'daqs');
    installed = join(prefix, 'lib', 'node_modules', 'daqs');
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ships the compiled code, the web view, deploy/ and the docs, and none of the tests, benchmarks or sources', async () => {
    const list = await ran('tar', ['-tzf', tarball]);
    const files = list.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/daqs.js', 'dist/cli/main.js', 'dist/web/index.html', 'dist/web/assets/app.js', 'deploy/daqs.service', 'deploy/daqs.example.yaml', 'docs/operations.md']) {
      expect(files).toContain(f);
    }
    const outside = files.filter((f) => !/^(dist|bin|deploy|docs)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f));
    expect(outside).toEqual([]);
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
  });

  it('daqs --version and daqs version print the package version', async () => {
    for (const args of [['--version'], ['version']]) {
      const r = await ran(daqs, args);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
    }
  });

  it('daqs schema prints the configuration schema', async () => {
    const r = await ran(daqs, ['schema', '--compact']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { required: string[] }).required).toEqual(['port']);
  });

  it('daqs plan runs the policy on the example config shipped in deploy/', async () => {
    const r = await ran(daqs, ['plan', '--config', join(installed, 'deploy', 'daqs.example.yaml'), '--rate', 'web1=12gbit', '--rate', 'batch1=35gbit']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^web1\s+guarantee\s+10gbit/m);
    expect(r.stdout).toMatch(/^batch1\s+best-effort/m);
  });

  it('daqs run --check finds the web view files in the installed package', async () => {
    const r = await ran(daqs, ['run', '--check', '--config', join(installed, 'deploy', 'daqs.example.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('OK, daqs run would start with it');
  });

  it('daqs --help loads no command module (each is imported only when its command runs)', async () => {
    // A module hook that appends every file the CLI loads to a list.
    const loaded = join(dir, 'loaded.txt');
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(loaded)}, url + '\\n');\n  return next(url, context);\n}\n`);
    const register = join(dir, 'register.mjs');
    await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    const run = async (args: string[]): Promise<string[]> => {
      await writeFile(loaded, '');
      const r = await ran(process.execPath, ['--import', `file://${register}`, join(installed, 'bin', 'daqs.js'), ...args]);
      expect(r.code, r.stderr).toBe(0);
      return (await readFile(loaded, 'utf8')).split('\n').filter((u) => u.includes('/node_modules/daqs/'));
    };
    const help = await run(['--help']);
    expect(help.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(help.filter((u) => u.includes('/dist/cli/commands/'))).toEqual([]);
    // The same hook sees a command's module when that command runs.
    expect((await run(['schema', '--help'])).filter((u) => u.includes('/dist/cli/commands/'))).toEqual([expect.stringMatching(/\/dist\/cli\/commands\/schema\.js$/)]);
  });
});
