import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isJournalStream, LOG_LEVELS, parseLogLevel, setLogLevel } from '../../src/util/log.ts';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('createLogger', () => {
  it('writes JSON lines with level names, time, msg and the vm/op/code fields, and error code/cause', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, pretty: false });
    const err = Object.assign(new Error('agent did not answer', { cause: new Error('ETIMEDOUT') }), { code: 'E_AGENT_TIMEOUT' });
    log.warn({ vm: 'vm-a', op: 'read-tx', code: 'E_AGENT_TIMEOUT', err }, 'skipped this tick');
    log.debug({ vm: 'vm-a' }, 'hidden at info');
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', vm: 'vm-a', op: 'read-tx', code: 'E_AGENT_TIMEOUT', msg: 'skipped this tick' });
    expect(new Date(lines[0]!.time as string).getTime()).not.toBeNaN();
    expect(lines[0]!.err).toMatchObject({ message: expect.stringContaining('agent did not answer'), code: 'E_AGENT_TIMEOUT' });
  });

  it('writes readable lines when pretty, with the fields still visible', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.stream, pretty: true });
    log.info({ vm: 'vm-b', op: 'apply-cap' }, 'cap set');
    const text = out.lines().join('\n');
    expect(text).toContain('INFO');
    expect(text).toContain('cap set');
    expect(text).toContain('vm-b');
    expect(() => JSON.parse(out.lines()[0]!)).toThrow();
  });

  it.each(LOG_LEVELS)('accepts level %s', (level) => {
    expect(parseLogLevel(level.toUpperCase())).toBe(level);
  });

  it('refuses an unknown level naming the source and the choices', () => {
    expect(() => parseLogLevel('verbose', '--log-level')).toThrow(expect.objectContaining({ code: 'E_LOG_LEVEL', message: expect.stringMatching(/--log-level: "verbose".*trace, debug, info/) }));
  });

  it('prefixes every JSON line with its syslog priority for the journal: warn is 4, error 3, ...', () => {
    const out = capture();
    const log = createLogger({ level: 'trace', destination: out.stream, pretty: false, journal: true });
    const child = log.child({ vm: 'web1' });
    log.trace('t');
    log.debug('d');
    child.info('i');
    child.warn('w');
    log.error('e');
    log.fatal('f');
    const lines = out.lines();
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
    // After the prefix, the same JSON as without the journal.
    expect(JSON.parse(lines[3]!.slice(3))).toMatchObject({ level: 'warn', vm: 'web1', msg: 'w' });
  });

  it('writes no prefix when not writing to the journal', () => {
    const out = capture();
    createLogger({ level: 'info', destination: out.stream, pretty: false }).warn('w');
    expect(out.lines()[0]!.startsWith('{')).toBe(true);
  });

  it('knows the journal by JOURNAL_STREAM naming the device and inode of stdout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daqs-log-'));
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      const st = fstatSync(fd, { bigint: true });
      expect(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd)).toBe(true);
      // Stdout redirected elsewhere (a child of a journal-logged service): not the journal.
      expect(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, fd)).toBe(false);
      expect(isJournalStream({}, fd)).toBe(false);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setLogLevel changes the level of the logger and of the children made from it, before and after', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, pretty: false });
    const early = log.child({ component: 'controller' }).child({ vm: 'a' });
    early.debug('hidden');
    setLogLevel(log, 'debug');
    early.debug('shown');
    log.child({ component: 'late' }).debug('late shown');
    setLogLevel(log, 'warn');
    early.info('hidden again');
    expect(out.lines().map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown', 'late shown']);
  });
});
