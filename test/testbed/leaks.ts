/** What an instance could leave behind: used to prove `down` removes everything of it. */
import { existsSync } from 'node:fs';
import { runChecked } from '../../src/util/exec.ts';
import { isInstanceNamespace, planPaths, vmMac, DEFAULT_STATE_DIR, MAX_VMS } from '../../src/testbed/plan.ts';
import { isAlive, listNamespaces } from '../../src/testbed/procs.ts';

/** Leftovers of instance `name`: namespaces, live pids among `pids`, root-namespace links of ours, its state dir. */
export async function leftovers(name: string, pids: readonly number[]): Promise<{ namespaces: string[]; livePids: number[]; rootLinks: string[]; stateDir: boolean }> {
  const namespaces = (await listNamespaces()).filter((ns) => isInstanceNamespace(name, ns));
  const livePids = (await Promise.all(pids.map(async (p) => ((await isAlive(p)) ? p : null)))).filter((p): p is number => p !== null);
  const macs = new Set(Array.from({ length: MAX_VMS }, (_, i) => vmMac(name, i)));
  const links = JSON.parse(await runChecked(['ip', '-j', 'link', 'show'])) as { ifname: string; address?: string }[];
  // Nothing of ours may ever sit in the root namespace: not our MACs, not our switch-side names (ifb0/ifb1 are the kernel's own, made at boot).
  const rootLinks = links.filter((l) => macs.has(l.address ?? '') || /^vf[0-9]+$|^up0$/.test(l.ifname)).map((l) => l.ifname);
  return { namespaces, livePids, rootLinks, stateDir: existsSync(planPaths(DEFAULT_STATE_DIR, name, 0).dir) };
}

/** The empty result of `leftovers`. */
export const NOTHING_LEFT = { namespaces: [], livePids: [], rootLinks: [], stateDir: false };
