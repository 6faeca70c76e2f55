import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_LEVELS, parseLogLevel } from '../../src/util/log.ts';

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
});
