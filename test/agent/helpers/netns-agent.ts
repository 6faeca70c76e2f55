/**
 * A private "VM" for root tests that need only a real qemu-ga and a real interface, not the
 * whole emulated host: a namespace with a veth pair and qemu-ga serving a unix socket.
 * Names carry this process's pid so concurrent runs by other engineers never collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked, runCommand } from '../../../src/util/exec.ts';

/** One namespace with a veth and a real agent. */
export interface NetnsAgent {
  readonly netns: string;
  readonly iface: string;
  readonly mac: string;
  readonly socketPath: string;
  /** An address behind the VF: pinging it sends packets out of the VF interface (nobody answers). */
  readonly peerIp: string;
  /** Whether this VM's qemu-ga process is still running (it may exit by itself). */
  agentRunning(): boolean;
  /** SIGKILLs qemu-ga (the socket file stays, as after a crash). */
  killAgent(): Promise<void>;
  /** Starts qemu-ga again on the same socket and waits until the socket is there. */
  startAgent(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Throws (so the test fails, never skips) unless running as root. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces, tc, qemu-ga); CI runs it as root');
}

let seq = 0;

/** Builds the namespace and starts qemu-ga in it; cleanup removes both even after a failure. */
export async function startNetnsAgent(tag: string, extraArgs: readonly string[] = []): Promise<NetnsAgent> {
  requireRoot();
  const netns = `ag${tag}${process.pid % 100000}${seq++}`.slice(0, 15);
  const dir = await mkdtemp(join(tmpdir(), 'agns-'));
  const socketPath = join(dir, 'qga.sock');
  const mac = `02:a9:00:00:${(process.pid % 256).toString(16).padStart(2, '0')}:${(seq % 256).toString(16).padStart(2, '0')}`;
  let child: ChildProcess | null = null;
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
    }
    await runCommand(['ip', 'netns', 'del', netns]);
    await rm(dir, { recursive: true, force: true });
  };
  const killAgent = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const c = child;
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  };
  const startAgent = async (): Promise<void> => {
    await rm(socketPath, { force: true });
    child = spawn('ip', ['netns', 'exec', netns, 'qemu-ga', '-m', 'unix-listen', '-p', socketPath, '-t', dir, ...extraArgs], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await stat(socketPath).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await stat(socketPath);
  };
  try {
    await runChecked(['ip', 'netns', 'add', netns]);
    await runChecked(['ip', '-n', netns, 'link', 'add', 'vf0', 'address', mac, 'type', 'veth', 'peer', 'name', 'peer0']);
    await runChecked(['ip', '-n', netns, 'link', 'set', 'vf0', 'up']);
    await runChecked(['ip', '-n', netns, 'link', 'set', 'peer0', 'up']);
    await runChecked(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    await runChecked(['ip', '-n', netns, 'addr', 'add', '10.254.0.1/30', 'dev', 'vf0']);
    // A static neighbour with no owner: packets to it always leave through vf0 (no local shortcut, no ARP wait).
    await runChecked(['ip', '-n', netns, 'neigh', 'add', '10.254.0.2', 'lladdr', '02:a9:ff:ff:ff:01', 'dev', 'vf0', 'nud', 'permanent']);
    await startAgent();
    return { netns, iface: 'vf0', mac, socketPath, peerIp: '10.254.0.2', cleanup, agentRunning: () => child !== null && child.exitCode === null && child.signalCode === null, killAgent, startAgent };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
