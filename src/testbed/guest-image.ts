/**
 * The real test guest's boot image, built from Debian packages into a cache: Debian's kernel
 * extracted from the linux-image .deb (nothing is installed on the host), and an initramfs
 * (cpio newc) with busybox-static, qemu-ga, tc, iperf, their shared libraries and the virtio
 * and HTB modules. The cache key hashes every input, so the image is rebuilt only when one
 * changes (a new kernel in the apt lists, an upgraded qemu-ga or library, a new /init).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { runChecked } from '../util/exec.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { TestbedError } from './errors.ts';
import { GUEST_INIT, GUEST_MODULE_LIST } from './guest-init.ts';

/** Where built images live by default, one directory per input hash. */
export const DEFAULT_GUEST_CACHE_DIR = '/var/cache/daqs/guest';

/** Debian's kernel metapackage; its dependency names the kernel package actually used. */
export const KERNEL_METAPACKAGE = 'linux-image-amd64';

/**
 * Modules the guest loads, dependencies resolved from each module's own `depends=` (the .deb
 * ships no modules.dep): virtio over PCI, the serial ports qemu-ga talks on, the NIC, and HTB
 * for daqs' in-guest cap (its leaf qdisc, pfifo, is built in).
 */
export const GUEST_MODULE_ROOTS = ['virtio_pci', 'virtio_console', 'virtio_net', 'sch_htb'] as const;

// Bumped whenever the layout of the image changes in a way the hashed inputs do not show.
const IMAGE_FORMAT = 1;

const CMD_TIMEOUT_MS = 120_000;

/** A built guest image. */
export interface GuestImage {
  readonly dir: string;
  readonly hash: string;
  /** bzImage to pass as -kernel / <kernel>. */
  readonly kernel: string;
  /** Uncompressed cpio newc archive to pass as -initrd / <initrd>. */
  readonly initrd: string;
  readonly kernelPackage: string;
  readonly kernelVersion: string;
  /** Modules in the order /init loads them. */
  readonly modules: readonly string[];
}

/** Programs copied into the guest (host path, path in the guest). busybox must be the static one. */
interface GuestProgram {
  readonly bin: string;
  readonly pkg: string;
  readonly guestPath: string;
}

const GUEST_PROGRAMS: readonly GuestProgram[] = [
  { bin: 'busybox', pkg: 'busybox-static', guestPath: '/bin/busybox' },
  { bin: 'qemu-ga', pkg: 'qemu-guest-agent', guestPath: '/usr/sbin/qemu-ga' },
  { bin: 'tc', pkg: 'iproute2', guestPath: '/usr/sbin/tc' },
  { bin: 'iperf', pkg: 'iperf', guestPath: '/usr/bin/iperf' },
];

function which(bin: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (dir === '') continue;
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Shared libraries `ldd` lists for `program` (absolute paths; the vdso has none). */
export function parseLdd(text: string): string[] {
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    const m = /=>\s*(\/\S+)\s*\(/.exec(line) ?? /^\s*(\/\S+)\s*\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Names of `depends=` in `modinfo -F depends` output ("a,b" or empty). */
export function parseModuleDepends(text: string): string[] {
  return text.trim().split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Module names in load order: each after all it depends on, roots in the order given. */
export function moduleLoadOrder(roots: readonly string[], dependsOf: (name: string) => readonly string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: readonly string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new TestbedError('E_TESTBED_BUILD', `guest image: module dependency cycle ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of dependsOf(name)) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const root of roots) visit(root, []);
  return order;
}

// Module file names use '-' and '_' interchangeably; the kernel's own name uses '_'.
const moduleKey = (name: string): string => name.replace(/-/g, '_');

/** The kernel package the metapackage depends on, and its candidate version, from apt's lists. */
async function resolveKernelPackage(): Promise<{ pkg: string; version: string }> {
  const show = (pkg: string): Promise<string> => runChecked(['apt-cache', 'show', '--no-all-versions', pkg], { timeoutMs: 30_000 }).catch((e: unknown) => {
    throw new TestbedError('E_TESTBED_BUILD', `guest image: apt knows no package ${pkg} (${(e as Error).message.slice(0, 200)}). Run \`apt-get update\` (the guest kernel comes from Debian's ${KERNEL_METAPACKAGE}).`, { cause: e });
  });
  const meta = await show(KERNEL_METAPACKAGE);
  const dep = /^Depends:\s*(linux-image-[^\s,(]+)/m.exec(meta)?.[1];
  if (!dep) throw new TestbedError('E_TESTBED_BUILD', `guest image: ${KERNEL_METAPACKAGE} names no linux-image package in its Depends; cannot choose a guest kernel.`);
  const version = /^Version:\s*(\S+)/m.exec(await show(dep))?.[1];
  if (!version) throw new TestbedError('E_TESTBED_BUILD', `guest image: apt shows no version for ${dep}.`);
  return { pkg: dep, version };
}

interface ImageInputs {
  readonly kernel: { pkg: string; version: string };
  /** Guest path -> host path, programs and libraries. */
  readonly files: ReadonlyMap<string, string>;
}

async function collectInputs(): Promise<ImageInputs> {
  const files = new Map<string, string>();
  const missing: string[] = [];
  for (const prog of GUEST_PROGRAMS) {
    const host = which(prog.bin);
    if (!host) {
      missing.push(`${prog.bin} (Debian package ${prog.pkg})`);
      continue;
    }
    files.set(prog.guestPath, host);
    const ldd = await runChecked(['ldd', host], { timeoutMs: 30_000 }).catch(() => '');
    if (prog.bin === 'busybox') {
      if (parseLdd(ldd).length > 0) missing.push('a static busybox (Debian package busybox-static; the dynamic "busybox" package is installed instead)');
      continue;
    }
    for (const lib of parseLdd(ldd)) files.set(lib, lib);
  }
  if (missing.length > 0) {
    throw new TestbedError('E_TESTBED_MISSING_BINARY', `the real guest's image needs ${missing.join(', ')}. Install them (\`node scripts/setup.mjs --real-guests\` does) and run again.`);
  }
  return { kernel: await resolveKernelPackage(), files };
}

async function hashInputs(inputs: ImageInputs): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: IMAGE_FORMAT, init: GUEST_INIT, kernel: inputs.kernel, modules: GUEST_MODULE_ROOTS }));
  for (const [guestPath, hostPath] of [...inputs.files].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(`\0${guestPath}\0`);
    h.update(await readFile(hostPath));
  }
  return h.digest('hex').slice(0, 16);
}

async function readManifest(dir: string): Promise<GuestImage | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Omit<GuestImage, 'dir' | 'kernel' | 'initrd'>;
    const image = { ...m, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio') };
    await Promise.all([stat(image.kernel), stat(image.initrd)]);
    return image;
  } catch {
    return null;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    out.push(p);
    if (entry.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

/** The kernel tree unpacked from the .deb: its bzImage and every module file by name. */
async function unpackKernel(work: string, pkg: string, log: Logger): Promise<{ vmlinuz: string; modules: Map<string, string> }> {
  // apt-get download writes to the working directory; as root it would drop to _apt, which
  // cannot write to our private build directory.
  await runChecked(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root', pkg], { timeoutMs: CMD_TIMEOUT_MS, cwd: work });
  const deb = (await readdir(work)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new TestbedError('E_TESTBED_BUILD', `guest image: apt-get download ${pkg} left no .deb in ${work}.`);
  const tree = join(work, 'kernel');
  await runChecked(['dpkg-deb', '-x', join(work, deb), tree], { timeoutMs: CMD_TIMEOUT_MS });
  await rm(join(work, deb), { force: true });
  const vmlinuz = (await readdir(join(tree, 'boot'))).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new TestbedError('E_TESTBED_BUILD', `guest image: ${pkg} has no /boot/vmlinuz-*.`);
  const modules = new Map<string, string>();
  for (const p of await walk(join(tree, 'lib', 'modules'))) {
    if (p.endsWith('.ko')) modules.set(moduleKey(basename(p, '.ko')), p);
  }
  log.debug({ op: 'guest-image', pkg, modules: modules.size }, 'kernel unpacked');
  return { vmlinuz: join(tree, 'boot', vmlinuz), modules };
}

async function buildRootfs(root: string, inputs: ImageInputs, moduleFiles: readonly string[]): Promise<void> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc/daqs', 'lib/modules']) await mkdir(join(root, d), { recursive: true });
  for (const [guestPath, hostPath] of inputs.files) {
    await mkdir(join(root, dirname(guestPath)), { recursive: true });
    await copyFile(hostPath, join(root, guestPath)); // follows symlinks: the guest gets the file itself
    await chmod(join(root, guestPath), (await stat(hostPath)).mode & 0o777);
  }
  // Every busybox applet at its usual place, except where a real program sits (tc).
  const applets = (await runChecked([inputs.files.get('/bin/busybox') as string, '--list-full'], { timeoutMs: 30_000 })).split('\n').map((l) => l.trim()).filter((l) => /^[a-z0-9/_.[-]+$/.test(l));
  const realNames = new Set([...inputs.files.keys()].map((p) => basename(p)));
  for (const applet of applets) {
    if (realNames.has(basename(applet)) || applet === 'bin/busybox') continue;
    await mkdir(join(root, dirname(applet)), { recursive: true });
    await symlink('/bin/busybox', join(root, applet)).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    });
  }
  for (const file of moduleFiles) await copyFile(file, join(root, 'lib/modules', basename(file)));
  await writeFile(join(root, GUEST_MODULE_LIST), moduleFiles.map((f) => `${basename(f)}\n`).join(''));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(root, 'init'), GUEST_INIT, { mode: 0o755 });
}

async function build(final: string, hash: string, inputs: ImageInputs, log: Logger): Promise<GuestImage> {
  const work = `${final}.build-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const kernel = await unpackKernel(work, inputs.kernel.pkg, log);
    const depends = new Map<string, string[]>();
    const fileOf = (name: string): string => {
      const f = kernel.modules.get(moduleKey(name));
      if (!f) throw new TestbedError('E_TESTBED_BUILD', `guest image: module ${name} is not in ${inputs.kernel.pkg} (built in, or renamed?).`);
      return f;
    };
    for (const name of GUEST_MODULE_ROOTS) fileOf(name);
    const resolveDeps = async (name: string): Promise<void> => {
      if (depends.has(moduleKey(name))) return;
      const deps = parseModuleDepends(await runChecked(['modinfo', '-F', 'depends', fileOf(name)], { timeoutMs: 30_000 }));
      depends.set(moduleKey(name), deps);
      for (const d of deps) await resolveDeps(d);
    };
    for (const name of GUEST_MODULE_ROOTS) await resolveDeps(name);
    const order = moduleLoadOrder(GUEST_MODULE_ROOTS, (n) => depends.get(moduleKey(n)) ?? []);
    const out = join(work, 'image');
    const root = join(work, 'rootfs');
    await mkdir(out, { recursive: true });
    await buildRootfs(root, inputs, order.map(fileOf));
    const list = (await walk(root)).map((p) => relative(root, p)).sort();
    await runChecked(['cpio', '--quiet', '-o', '-H', 'newc', '--null', '--reproducible', '-R', '0:0', '-D', root, '-O', join(out, 'initrd.cpio')], {
      input: ['.', ...list].map((p) => `${p}\0`).join(''),
      timeoutMs: CMD_TIMEOUT_MS,
    });
    await copyFile(kernel.vmlinuz, join(out, 'vmlinuz'));
    const manifest = { hash, kernelPackage: inputs.kernel.pkg, kernelVersion: inputs.kernel.version, modules: order, builtAtEpochMs: Date.now() };
    await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(out, final);
    } catch (e) {
      // Another process built the same image meanwhile: keep theirs.
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const image = await readManifest(final);
  if (!image) throw new TestbedError('E_TESTBED_BUILD', `guest image: ${final} is incomplete after the build.`);
  return image;
}

/** Options of ensureGuestImage. */
export interface GuestImageOptions {
  readonly cacheDir?: string;
  readonly log?: Logger;
}

/**
 * Returns the guest image for the current inputs, building it first when the cache has none
 * (a few seconds: download and unpack the kernel .deb, copy, cpio). Older images in the cache
 * are removed after a build.
 */
export async function ensureGuestImage(opts: GuestImageOptions = {}): Promise<GuestImage> {
  const log = opts.log ?? silentLogger;
  const cacheDir = opts.cacheDir ?? DEFAULT_GUEST_CACHE_DIR;
  const inputs = await collectInputs();
  const hash = await hashInputs(inputs);
  const final = join(cacheDir, hash);
  const cached = await readManifest(final);
  if (cached) return cached;
  await rm(final, { recursive: true, force: true }); // a half-written leftover
  await mkdir(cacheDir, { recursive: true });
  const started = Date.now();
  log.info({ op: 'guest-image', hash, kernel: `${inputs.kernel.pkg} ${inputs.kernel.version}` }, 'building the real guest image');
  const image = await build(final, hash, inputs, log);
  log.info({ op: 'guest-image', hash, ms: Date.now() - started, bytes: (await stat(image.initrd)).size }, 'guest image built');
  for (const entry of await readdir(cacheDir)) {
    if (entry !== hash && /^[0-9a-f]{16}$/.test(entry)) await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
  return image;
}
