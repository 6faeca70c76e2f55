import { stat } from 'node:fs/promises';
import type { AgentStatus } from './types.ts';

/** Whether an agent unix socket is there to connect to; a missing one is "not ready", not an error. */
export async function socketStatus(path: string): Promise<AgentStatus> {
  try {
    const st = await stat(path);
    if (st.isSocket()) return { state: 'ready' };
    return { state: 'not-ready', reason: `${path} exists but is not a unix socket` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'not-ready', reason: `agent socket ${path} does not exist (yet): is the VM's agent started?` };
    return { state: 'not-ready', reason: `cannot check agent socket ${path}: ${(e as Error).message}` };
  }
}
