/**
 * The emulated host's own libvirtd, isolated from any libvirt of the host.
 *
 * A privileged libvirtd uses fixed paths (/etc/libvirt, /run/libvirt, /var/lib/libvirt, ...)
 * and locks /run/libvirt/qemu/driver.pid, so a second one would clash with the host's. Ours
 * runs in a private mount namespace where those directories are bind mounts of directories
 * under the instance (the libvirt capability cache is shared between instances under
 * /var/cache/daqs), and in the switch's network namespace, so the QEMU it starts opens the
 * tap that is the guest's "VF" there. `qemu:///embed` was not used: it runs the driver inside
 * the one process that opened it, so `virsh` and daqs could not connect to it.
 * Clients reach it from the host at `qemu+unix:///system?socket=<instance>/libvirt/run/libvirt/libvirt-sock`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../util/exec.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { TestbedError } from './errors.ts';
import { planLibvirt } from './plan.ts';
import { isAlive, spawnInNetns } from './procs.ts';

/** The libvirt daemon binary (Debian package libvirt-daemon) and client (libvirt-clients). */
export const LIBVIRTD_BINARY = '/usr/sbin/libvirtd';
export const VIRSH_BINARY = '/usr/bin/virsh';

/** Capability cache shared by every instance's libvirtd: probing QEMU takes seconds under load. */
export const SHARED_LIBVIRT_CACHE = '/var/cache/daqs/libvirt';

/** Directories of a privileged libvirtd that get the instance's own copy. */
const PRIVATE_DIRS = ['/etc/libvirt', '/run/libvirt', '/var/lib/libvirt', '/var/log/libvirt'] as const;

// Constant text: the bind mounts arrive as "source target" argument pairs up to "--", then
// the command to exec. No data is ever spliced into it.
const MOUNT_AND_EXEC = `set -e
while [ "$1" != "--" ]; do
  mkdir -p "$1" "$2"
  mount --bind "$1" "$2"
  shift 2
done
shift
exec "$@"`;

// No polkit, no cgroups, no per-VM /dev namespace, no SELinux/AppArmor labels, no virtlogd
// (stdio to files): what a daemon without systemd, dbus or a security module needs.
const LIBVIRTD_CONF = `# written by daqs testbed (src/testbed/libvirtd.ts)
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
`;

const QEMU_CONF = `# written by daqs testbed (src/testbed/libvirtd.ts)
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
`;

const VIRSH_TIMEOUT_MS = 60_000;

/** Runs `virsh -c uri args` in the C locale (stable messages); resolves whatever the exit code. */
export function virsh(uri: string, args: readonly string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<CommandResult> {
  return runCommand([VIRSH_BINARY, '-c', uri, ...args], { timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
}

/** Like virsh, but a non-zero exit is a TestbedError naming the command and libvirt's message. */
export async function virshChecked(uri: string, args: readonly string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<string> {
  const r = await virsh(uri, args, timeoutMs);
  if (r.code !== 0) throw new TestbedError('E_TESTBED_BUILD', `virsh ${args.join(' ')} failed: ${r.stderr.trim().slice(0, 400) || `exit code ${String(r.code)}`}`);
  return r.stdout;
}

/** Last lines of a log file, for error messages. */
async function tail(file: string, lines = 8): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join(' | ').slice(-800);
}

/** A started libvirtd: its pid and connection URI. */
export interface OwnLibvirtd {
  readonly pid: number;
  readonly uri: string;
}

/**
 * Starts the instance's libvirtd in namespace `netns`, with everything under `instanceDir`,
 * and waits until it answers. Mount points that do not exist on the host (/run/libvirt and
 * the like, when no libvirt is installed) are created empty and left: removing one later
 * could detach another instance's bind mount.
 */
export async function startOwnLibvirtd(instanceDir: string, netns: string, log: Logger = silentLogger, onPid?: (pid: number) => Promise<void>): Promise<OwnLibvirtd> {
  for (const bin of [LIBVIRTD_BINARY, VIRSH_BINARY]) {
    if (!existsSync(bin)) throw new TestbedError('E_TESTBED_MISSING_BINARY', `${bin} is missing: install libvirt-daemon, libvirt-daemon-driver-qemu and libvirt-clients (\`node scripts/setup.mjs --real-guests\` does).`);
  }
  const lv = planLibvirt(instanceDir);
  const own = (d: string): string => join(lv.root, d);
  for (const d of PRIVATE_DIRS) await mkdir(own(d), { recursive: true });
  await mkdir(SHARED_LIBVIRT_CACHE, { recursive: true });
  await writeFile(join(own('/etc/libvirt'), 'libvirtd.conf'), LIBVIRTD_CONF);
  await writeFile(join(own('/etc/libvirt'), 'qemu.conf'), QEMU_CONF);
  const binds = [...PRIVATE_DIRS.flatMap((d) => [own(d), d]), SHARED_LIBVIRT_CACHE, '/var/cache/libvirt'];
  const logFile = join(instanceDir, 'libvirtd.log');
  const pid = spawnInNetns(netns, [
    'unshare', '--mount', '--propagation', 'private', '--',
    'sh', '-c', MOUNT_AND_EXEC, 'daqs-libvirt', ...binds, '--',
    LIBVIRTD_BINARY, '--pid-file', '/run/libvirt/libvirtd.pid',
  ], logFile);
  await onPid?.(pid);
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) {
      throw new TestbedError('E_TESTBED_BUILD', `the testbed's libvirtd (pid ${pid}) exited at start: ${await tail(logFile)} ${await tail(join(own('/var/log/libvirt'), 'libvirtd.log'))}`);
    }
    if (existsSync(lv.socket)) {
      const r = await virsh(lv.uri, ['uri'], 10_000).catch((e: unknown) => ({ code: -1, stderr: (e as Error).message, stdout: '', signal: null }));
      if (r.code === 0) {
        log.debug({ op: 'testbed-up', pid, uri: lv.uri }, 'own libvirtd answers');
        return { pid, uri: lv.uri };
      }
      last = r.stderr.trim();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new TestbedError('E_TESTBED_BUILD', `the testbed's libvirtd (pid ${pid}) did not answer on ${lv.socket} within 60 s: ${last || (await tail(logFile))}`);
}

/** Defines domain `name` from `xml` and starts it; returns the pid of its QEMU (libvirt's pid file). */
export async function defineAndStart(uri: string, instanceDir: string, name: string, xml: string): Promise<number> {
  const file = join(instanceDir, `${name}.domain.xml`);
  await writeFile(file, xml);
  await virshChecked(uri, ['define', file]);
  await virshChecked(uri, ['start', name]);
  const pidText = await readFile(join(planLibvirt(instanceDir).root, 'run/libvirt/qemu', `${name}.pid`), 'utf8').catch(() => '');
  const pid = Number(pidText.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new TestbedError('E_TESTBED_BUILD', `libvirt started ${name} but left no QEMU pid file.`);
  return pid;
}
