import { describe, expect, it } from 'vitest';
import { defineCommand, UsageError, type CommandIo } from '../../src/cli/define.ts';
import { oneOf, rateBps, wholeNumber } from '../../src/cli/values.ts';

function collect(): CommandIo & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { outs, errs, out: (t) => outs.push(t), err: (t) => errs.push(t) };
}

// A command as a real one is written: every kind of option, an action, and a body that
// reports what it was given.
const seen: unknown[] = [];
const cmd = defineCommand({
  name: 'try',
  description: 'Tries the helper.',
  args: [{ name: 'action', choices: { go: 'go somewhere', stay: 'stay put' } }, { name: 'WHERE', optional: true, help: 'go only: where to' }],
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', required: true, help: 'the file' },
    rate: { type: 'string', value: 'RATE', default: '2gbit', parse: rateBps({ minBps: 1e6 }), help: 'a rate' },
    count: { type: 'string', value: 'N', parse: wholeNumber(1, 9), help: 'how many' },
    mode: { type: 'string', value: 'MODE', parse: oneOf(['fast', 'slow'] as const), help: 'how' },
    tag: { type: 'string', value: 'T', multiple: true, help: 'labels' },
    json: { type: 'boolean', help: 'as JSON' },
  },
}, async (input) => {
  seen.push(input.values, input.args);
  return 7;
});

async function usageError(args: string[]): Promise<UsageError> {
  const err: unknown = await cmd(args, collect()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('defineCommand', () => {
  it('generates the usage from the table: synopsis, arguments, every option with its placeholder, default and rule', () => {
    expect(cmd.usage.split('\n')[0]).toBe('usage: daqs try <go|stay> [WHERE] --config FILE [options]');
    expect(cmd.usage).toContain('Tries the helper.');
    expect(cmd.usage).toMatch(/^ {2}go +go somewhere$/m);
    expect(cmd.usage).toMatch(/^ {2}WHERE +go only: where to$/m);
    expect(cmd.usage).toMatch(/^ {2}-c, --config FILE +the file \(required\)$/m);
    expect(cmd.usage).toMatch(/^ {6}--rate RATE +a rate \(default 2gbit\)$/m);
    expect(cmd.usage).toMatch(/^ {6}--tag T +labels \(repeatable\)$/m);
    expect(cmd.usage).toMatch(/^ {6}--json +as JSON$/m);
    expect(cmd.usage).toMatch(/^ {2}-h, --help +show this help$/m);
  });

  it('converts values and applies defaults before the body runs', async () => {
    seen.length = 0;
    expect(await cmd(['go', 'home', '-c', 'f.yaml', '--count', '3', '--mode', 'slow', '--tag', 'a', '--tag', 'b', '--json'], collect())).toBe(7);
    expect(seen).toEqual([{ config: 'f.yaml', rate: 2e9, count: 3, mode: 'slow', tag: ['a', 'b'], json: true }, ['go', 'home']]);
    seen.length = 0;
    await cmd(['stay', '--config', 'f.yaml', '--rate', '500mbit'], collect());
    expect(seen).toEqual([{ config: 'f.yaml', rate: 5e8, count: undefined, mode: undefined, tag: [], json: false }, ['stay']]);
  });

  it('answers --help with the usage and exit 0 without running the body, even with other mistakes', async () => {
    seen.length = 0;
    const io = collect();
    expect(await cmd(['--help'], io)).toBe(0);
    expect(await cmd(['-h', 'nowhere', '--count', 'x'], io)).toBe(0);
    expect(io.outs).toEqual([cmd.usage, cmd.usage]);
    expect(seen).toEqual([]);
  });

  it.each<[string[], RegExp]>([
    [['go', '-c', 'f', '--bogus'], /^Unknown option '--bogus'$/],
    [['go', '-c', 'f', '--count'], /--count.*argument missing/],
    [['go', '-c', 'f', '--json=yes'], /--json.*does not take an argument/],
    [['go'], /^--config FILE is required$/],
    [['go', '-c', 'f', '--count', '12'], /^--count: "12" is not a whole number from 1 to 9$/],
    [['go', '-c', 'f', '--rate', '10'], /^--rate: "10" is 10 bit\/s; give a unit/],
    [['go', '-c', 'f', '--rate', 'fast'], /^--rate: invalid rate "fast"/],
    [['go', '-c', 'f', '--mode', 'medium'], /^--mode: "medium" is not one of fast, slow$/],
    [['-c', 'f'], /^missing action: one of go, stay$/],
    [['fly', '-c', 'f'], /^unknown action "fly": one of go, stay$/],
    [['go', 'a', 'b', '-c', 'f'], /^unexpected argument "b"$/],
  ])('%j is a usage error that names the mistake and carries the usage', async (args, message) => {
    const err = await usageError(args);
    expect(err.message).toMatch(message);
    expect(err.usage).toBe(cmd.usage);
  });

  it('gives usage errors thrown by the body the usage too, and lets other errors through as they are', async () => {
    const failing = defineCommand({ name: 'fail', options: { why: { type: 'string', value: 'W', help: 'usage or other' } } }, async ({ values }) => {
      if (values.why === 'usage') throw new UsageError('give one');
      throw Object.assign(new Error('broken'), { code: 'E_BROKEN' });
    });
    await expect(failing(['--why', 'usage'])).rejects.toMatchObject({ message: 'give one', usage: failing.usage });
    await expect(failing(['--why', 'other'])).rejects.toMatchObject({ code: 'E_BROKEN' });
  });

  it('parse() checks without running', () => {
    expect(cmd.parse(['--help'])).toBe('help');
    expect(cmd.parse(['stay', '-c', 'x'])).toMatchObject({ values: { config: 'x' }, args: ['stay'] });
    expect(() => cmd.parse(['stay'])).toThrow(UsageError);
  });

  it('refuses a table that defines --help itself', () => {
    expect(() => defineCommand({ name: 'bad', options: { help: { type: 'boolean', help: 'mine' } } }, async () => 0)).toThrow(/added to every command/);
  });
});
