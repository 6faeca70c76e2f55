/**
 * One daemon per port: the lock is an abstract unix socket, so it is exclusive, names its
 * holder, and is gone the moment the holder dies, SIGKILL included (nothing stale to clean).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquirePortLock, PortLockError, portLockName } from '../../src/daemon/port-lock.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const unique = (tag: string): string => `gd-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe('port lock', () => {
  it('refuses a second holder, naming the first one\'s pid and config, and lets the next in after release', async () => {
    const name = unique('a');
    const first = await acquirePortLock(name, { configPath: '/etc/daqs/one.yaml' });
    const err = await acquirePortLock(name, { configPath: '/etc/daqs/two.yaml' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PortLockError);
    expect((err as PortLockError).code).toBe('E_PORT_LOCKED');
    expect((err as PortLockError).holder).toMatchObject({ pid: process.pid, configPath: '/etc/daqs/one.yaml' });
    expect((err as Error).message).toMatch(new RegExp(`already controlled by daqs pid ${process.pid} \\(config /etc/daqs/one.yaml\\)`));
    await first.release();
    const again = await acquirePortLock(name, { configPath: null });
    await again.release();
  });

  it('is free again at once when its holder is SIGKILLed', async () => {
    const name = unique('k');
    const code = `import('${join(ROOT, 'src/daemon/port-lock.ts')}').then(async (m) => { await m.acquirePortLock(${JSON.stringify(name)}, { configPath: 'child' }); console.log('locked'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => (b.toString().includes('locked') ? resolve() : undefined));
        child.once('exit', () => reject(new Error('child exited before locking')));
      });
      const held = await acquirePortLock(name, { configPath: null }).then(() => null, (e: PortLockError) => e);
      expect(held?.holder?.pid).toBe(child.pid);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const lock = await acquirePortLock(name, { configPath: null });
      await lock.release();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('names ports by interface or emulated host', () => {
    expect(portLockName({ interface: 'enp65s0f0', testbed: null })).toBe('if/enp65s0f0');
    expect(portLockName({ interface: null, testbed: 'tb1' })).toBe('testbed/tb1');
  });
});
