/** Removing an instance: every process, namespace and file it owns, and nothing of other instances. */
import { readFile, rm } from 'node:fs/promises';
import { runCommand } from '../util/exec.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { TestbedError } from './errors.ts';
import { isInstanceNamespace, planPaths } from './plan.ts';
import { killPids, listNamespaces, pidsInNamespaces, processName } from './procs.ts';
import { readState } from './state.ts';

/**
 * Tears instance `name` down from what is on disk and in the kernel, so it works after the
 * creating process crashed: processes living in the instance's namespaces, the recorded
 * agent/iperf pids (only if they still look like ours), then the namespaces (their veths,
 * bridge and IFBs go with them), then the state directory. Missing pieces are not errors.
 */
export async function teardownInstance(name: string, stateDir: string, log: Logger = silentLogger): Promise<void> {
  const paths = planPaths(stateDir, name, 0);
  let state = null;
  try {
    state = await readState(paths.stateFile);
  } catch (e) {
    log.warn({ op: 'testbed-down', err: e }, 'unreadable state file; cleaning up by name prefix');
  }
  const namespaces = new Set((await listNamespaces()).filter((ns) => isInstanceNamespace(name, ns)));
  for (const ns of state?.namespaces ?? []) if (isInstanceNamespace(name, ns)) namespaces.add(ns);

  const byNs = await pidsInNamespaces([...namespaces]);
  const pids = new Set([...byNs.values()].flat());
  // A recorded agent or QEMU pid outside our namespaces (say, a namespace deleted by hand) is
  // ours only if it is still that program serving a socket in our directory: pids get reused.
  const recorded = [
    ...(state?.agentPids ?? []).map((pid) => ({ pid, comm: 'qemu-ga' })),
    // comm is cut at 15 characters.
    ...(state?.qemuPids ?? []).filter((p): p is number => p !== null).map((pid) => ({ pid, comm: 'qemu-system-x86' })),
  ];
  for (const { pid, comm } of recorded) {
    if ((await processName(pid)) !== comm) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg.includes(`${paths.dir}/`))) pids.add(pid);
  }
  pids.delete(process.pid);
  if (pids.size > 0) {
    log.debug({ op: 'testbed-down', pids: [...pids] }, 'stopping processes');
    await killPids([...pids]);
  }
  if (namespaces.size > 0) {
    // One `ip` for all of them; -force goes on past a namespace that vanished meanwhile.
    const r = await runCommand(['ip', '-force', '-batch', '-'], { input: [...namespaces].map((ns) => `netns delete ${ns}\n`).join(''), timeoutMs: 30_000 });
    const left = (await listNamespaces()).filter((ns) => namespaces.has(ns));
    if (left.length > 0) {
      throw new TestbedError('E_TESTBED_BUILD', `could not delete namespace(s) ${left.join(', ')} of testbed ${name}: ${r.stderr.trim().slice(0, 300)}. Try \`ip netns delete NAME\` by hand.`);
    }
  }
  await rm(paths.dir, { recursive: true, force: true });
}
