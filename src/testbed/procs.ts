/** Processes of the emulated host: started detached (they outlive `daqs testbed up`), found by namespace, stopped by pid. */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';

/** Where `ip netns add` keeps named namespaces. */
export const NETNS_DIR = '/run/netns';

/** Starts argv inside namespace `netns`, detached from us, output appended to `logFile`; returns its pid. */
export function spawnInNetns(netns: string, argv: readonly string[], logFile: string): number {
  // `ip netns exec` execs the command, so the pid we get is the command's own pid.
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0] ?? '?'} in ${netns}`);
    child.on('error', () => undefined); // a failed start shows up as the process not answering
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Named namespaces on this machine (no process spawned: the listing is a directory). */
export async function listNamespaces(): Promise<string[]> {
  try {
    return await readdir(NETNS_DIR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Is `pid` a live process (zombies count as gone)? */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const status = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised comm which may itself hold spaces or parentheses.
    return status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids living in each of `namespaces` (what `ip netns pids` does, for all of them in one /proc walk). */
export async function pidsInNamespaces(namespaces: readonly string[]): Promise<Map<string, number[]>> {
  const byInode = new Map<string, string>();
  for (const ns of namespaces) {
    try {
      const st = await stat(`${NETNS_DIR}/${ns}`);
      byInode.set(`net:[${st.ino}]`, ns);
    } catch {
      // Already gone: nothing lives in it.
    }
  }
  const result = new Map<string, number[]>(namespaces.map((ns) => [ns, []]));
  if (byInode.size === 0) return result;
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let link: string;
    try {
      link = await readlink(`/proc/${entry}/ns/net`);
    } catch {
      continue; // exited meanwhile, or a kernel thread
    }
    const ns = byInode.get(link);
    if (ns) result.get(ns)?.push(Number(entry));
  }
  return result;
}

/** The command name of `pid` ("qemu-ga", "iperf"), or null when it is gone. */
export async function processName(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stops `pids`: SIGTERM, then SIGKILL for any still alive after `graceMs`. Gone already is fine. */
export async function killPids(pids: readonly number[], graceMs = 1000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // ESRCH: already gone, which is what we want.
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  let alive = [...pids];
  while (alive.length > 0 && performance.now() < deadline) {
    await sleep(20);
    alive = (await Promise.all(alive.map(async (p) => ((await isAlive(p)) ? p : null)))).filter((p): p is number => p !== null);
  }
  for (const pid of alive) signal(pid, 'SIGKILL');
}

/** The `net:[inode]` link that /proc/PID/ns/net shows for a process inside named namespace `ns`; null if it is gone. */
export async function netnsLink(ns: string): Promise<string | null> {
  try {
    return `net:[${(await stat(`${NETNS_DIR}/${ns}`)).ino}]`;
  } catch {
    return null;
  }
}
