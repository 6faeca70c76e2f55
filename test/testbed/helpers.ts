/** Shared pieces of the testbed's root tests. */
import { expect } from 'vitest';
import { agentCall, type AgentReply } from '../../src/testbed/index.ts';

/** The reply's return value; fails the test with the agent's class and desc on an error reply. */
export function okReturn<T>(reply: AgentReply): T {
  if ('error' in reply) expect.fail(`agent error ${reply.error.class}: ${reply.error.desc}`);
  return reply.return as T;
}

/** Result of a guest-exec run to completion. */
export interface GuestExecResult {
  exitcode: number;
  stdout: string;
  stderr: string;
}

/** Runs `path argv` through the VM's qemu-ga (guest-exec), polling guest-exec-status until it exits. */
export async function guestExec(socket: string, path: string, argv: string[]): Promise<GuestExecResult> {
  const { pid } = okReturn<{ pid: number }>(await agentCall(socket, 'guest-exec', { path, arg: argv, 'capture-output': true }));
  for (let i = 0; i < 200; i++) {
    const st = okReturn<{ exited: boolean; exitcode?: number; 'out-data'?: string; 'err-data'?: string }>(
      await agentCall(socket, 'guest-exec-status', { pid }),
    );
    if (st.exited) {
      return {
        exitcode: st.exitcode ?? -1,
        stdout: Buffer.from(st['out-data'] ?? '', 'base64').toString('utf8'),
        stderr: Buffer.from(st['err-data'] ?? '', 'base64').toString('utf8'),
      };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return expect.fail(`guest-exec of ${path} (pid ${pid}) did not exit within ~5 s`);
}

/** Lets TCP leave slow start before measuring. */
export const WARMUP_MS = 1500;

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Guest interface as guest-network-get-interfaces reports it. */
export interface GuestInterface {
  name: string;
  'hardware-address'?: string;
  statistics?: { 'tx-bytes': number; 'rx-bytes': number; 'tx-packets': number };
}
