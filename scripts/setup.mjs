#!/usr/bin/env node
// Installs what `npm run demo` (no flag), real QEMU guests in the emulated host (--real-guests)
// or `npm test` (--tests, which includes --real-guests) needs, idempotently, before
// anything else runs. Plain Node with no dependencies: it must work on a fresh clone before
// `npm ci` has run.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages daqs and its emulated host use (the demo, the experiments, the benchmarks). */
export const RUNTIME_PACKAGES = [
  'iproute2', // ip, tc: namespaces, veth, bridge, HTB
  'qemu-guest-agent', // real qemu-ga inside every emulated VM
  'iperf', // iperf2, the paper's traffic generator
  'procps', // pgrep/pkill used by the emulated host's clean-up
  'kmod', // modprobe for ifb
  'libvirt-clients', // virsh: the libvirt inventory and agent transport (its tests use libvirt's test driver)
];

/** Debian packages only the tests need (`npm test` passes --tests). */
export const TEST_PACKAGES = [
  'chromium', // headless browser for the web view test (driven by playwright-core), ~290 MB
  'systemd', // journald, systemd-cat, journalctl (log priorities) and systemd-analyze (the unit's security score)
];

/**
 * Debian packages of real QEMU guests in the emulated host (`daqs testbed up --real K [--libvirt]`,
 * src/testbed/guest-image.ts and libvirtd.ts); the tests use them, the demo does not.
 */
export const REAL_GUEST_PACKAGES = [
  'qemu-system-x86', // qemu-system-x86_64 (TCG) and its firmware (seabios)
  'busybox-static', // the guest's userland (a static busybox: no libraries to copy)
  'cpio', // packs the guest's initramfs
  'util-linux', // unshare and mount for the testbed's own libvirtd
  // Not libvirt-daemon-system: its postinst starts a host-wide libvirtd, and the testbed must
  // never run or touch the host's libvirt. It starts its own (src/testbed/libvirtd.ts).
  'libvirt-daemon', // libvirtd
  'libvirt-daemon-driver-qemu',
  'libvirt-clients', // virsh
];

/** libvirtd 9.0 (privileged) resolves this user and group before it reads qemu.conf; libvirt-daemon-system would create them. */
const LIBVIRT_QEMU_ACCOUNT = 'libvirt-qemu';

const forTests = process.argv.includes('--tests');
const forRealGuests = forTests || process.argv.includes('--real-guests');
const DEBIAN_PACKAGES = [...RUNTIME_PACKAGES, ...(forRealGuests ? REAL_GUEST_PACKAGES : []), ...(forTests ? TEST_PACKAGES : [])];

/**
 * Debian packages whose programs the tests run but which would start a service if installed
 * (prometheus): unpacked into out/tools/PACKAGE instead, nothing started, nothing configured;
 * for `npm test` (--tests) only.
 */
export const DEBIAN_UNPACKED = [
  { pkg: 'prometheus', files: ['usr/bin/prometheus', 'usr/bin/promtool'] }, // evaluates the Grafana dashboard's queries and the documented alerts
];

function fail(message) {
  console.error(`daqs setup: ${message}`);
  process.exit(1);
}

function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) return { ok: false, why: r.error.message };
  return { ok: r.status === 0, why: `exit code ${r.status}` };
}

function missingDebianPackages() {
  if (!existsSync('/usr/bin/dpkg-query')) {
    fail('this is not a Debian-like system (no dpkg-query). daqs is set up on Debian 12; install ' +
      `${DEBIAN_PACKAGES.join(', ')} with your package manager and run again.`);
  }
  return DEBIAN_PACKAGES.filter((pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return !(r.status === 0 && r.stdout.includes('install ok installed'));
  });
}

// Debian 12 ships Node 18; daqs needs 20 (package.json engines). Say so before anything fails.
function ensureNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    fail(`Node.js ${process.versions.node} is too old: daqs needs Node.js 20 or newer (Debian 12 ships 18).\n` +
      '  Install Node.js 20 or 22 from NodeSource\'s Debian packages or the nodejs.org binaries (see README.md, Prerequisites), then run again.');
  }
}

function ensureRoot() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    fail('must run as root: daqs builds network namespaces and runs tc and apt-get.\n' +
      '  Run it as root, for example: sudo npm test   (or: sudo npm run demo)\n' +
      '  Without root, `npm ci && npm run test:unit` runs the tests that need no root, no apt and no namespaces.');
  }
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  console.log(`daqs setup: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = run(['apt-get', 'update', '-qq'], { env });
  if (!update.ok) {
    fail(`'apt-get update' failed (${update.why}): no package source is reachable.\n` +
      `  Configure an apt source, or install these packages by hand, then run again: ${missing.join(' ')}`);
  }
  const install = run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  if (!install.ok || missingDebianPackages().length > 0) {
    fail(`'apt-get install ${missing.join(' ')}' failed (${install.why}).\n` +
      '  Check the apt sources (apt-cache policy PACKAGE) and run again.');
  }
}

function ensureNpmDependencies() {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  // npm writes node_modules/.package-lock.json on every install: older than the lock means
  // the lock changed since (a pull), so install again.
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('daqs setup: installing npm dependencies (npm ci)');
  const r = run(['npm', 'ci', '--no-audit', '--no-fund']);
  if (!r.ok) fail(`'npm ci' failed (${r.why}). Check that the npm registry is reachable and run again.`);
}

function accountExists(db, name) {
  return spawnSync('getent', [db, name], { stdio: 'ignore' }).status === 0;
}

// A system account with no login and no home, as libvirt-daemon-system's postinst makes it.
function ensureLibvirtQemuAccount() {
  if (!accountExists('group', LIBVIRT_QEMU_ACCOUNT)) {
    const r = run(['groupadd', '--system', LIBVIRT_QEMU_ACCOUNT]);
    if (!r.ok) fail(`'groupadd --system ${LIBVIRT_QEMU_ACCOUNT}' failed (${r.why}): libvirtd refuses to start without that group.`);
  }
  if (!accountExists('passwd', LIBVIRT_QEMU_ACCOUNT)) {
    const r = run(['useradd', '--system', '--gid', LIBVIRT_QEMU_ACCOUNT, '--no-create-home', '--home-dir', '/var/lib/libvirt', '--shell', '/usr/sbin/nologin', '--comment', 'Libvirt Qemu', LIBVIRT_QEMU_ACCOUNT]);
    if (!r.ok) fail(`'useradd --system ${LIBVIRT_QEMU_ACCOUNT}' failed (${r.why}): libvirtd refuses to start without that user.`);
  }
}

function ensureUnpackedTools() {
  for (const { pkg, files } of DEBIAN_UNPACKED) {
    const dir = join(root, 'out', 'tools', pkg);
    if (files.every((f) => existsSync(join(dir, f)))) continue;
    console.log(`daqs setup: unpacking the Debian package ${pkg} into out/tools/${pkg} (not installed: no service is started)`);
    const tmp = mkdtempSync(join(tmpdir(), 'daqs-deb-'));
    // apt downloads as its own user (_apt): let it write here.
    chmodSync(tmp, 0o777);
    try {
      let got = run(['apt-get', 'download', '-qq', pkg], { cwd: tmp });
      if (!got.ok) {
        run(['apt-get', 'update', '-qq']);
        got = run(['apt-get', 'download', '-qq', pkg], { cwd: tmp });
      }
      const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
      if (!got.ok || !deb) fail(`'apt-get download ${pkg}' failed (${got.why}): no package source is reachable. Configure an apt source and run again.`);
      mkdirSync(dir, { recursive: true });
      const x = run(['dpkg-deb', '-x', join(tmp, deb), dir]);
      if (!x.ok || !files.every((f) => existsSync(join(dir, f)))) fail(`unpacking ${deb} into ${dir} failed (${x.why})`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

ensureNode();
ensureRoot();
ensureDebianPackages();
if (forRealGuests) ensureLibvirtQemuAccount();
ensureNpmDependencies();
if (forTests) ensureUnpackedTools();
