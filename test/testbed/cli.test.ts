import { describe, expect, it } from 'vitest';
import { run as runDemo } from '../../src/cli/commands/demo.ts';
import { run as runTestbed } from '../../src/cli/commands/testbed.ts';
import { UsageError } from '../../src/cli/define.ts';

describe('daqs testbed: bad arguments are usage errors naming the flag, before anything is built', () => {
  it.each([
    [['up', '--vms', 'abc'], /--vms: "abc" is not a whole number/],
    [['up', '--capacity', 'fast'], /--capacity: invalid rate "fast"/],
    [['up', '--bogus'], /Unknown option '--bogus'/],
    [['sideways'], /unknown action "sideways": one of up, status, down/],
    [[], /missing action: one of up, status, down/],
    [['up', 'extra'], /unexpected argument "extra"/],
  ])('%j', async (args, message) => {
    const err: unknown = await runTestbed(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it.each([
    [['up', '--name', 'Bad-Name'], 'E_TESTBED_NAME'],
    [['up', '--vms', '0'], 'E_TESTBED_VMS'],
    [['up', '--vms', '251'], 'E_TESTBED_VMS'],
  ])('%j is refused with %s', async (args, code) => {
    await expect(runTestbed(args)).rejects.toMatchObject({ code });
  });
});

describe('daqs demo', () => {
  it.each([
    [['--capacity', '2 gigs'], /--capacity/],
    [['--phase-seconds', '0'], /--phase-seconds/],
    [['--policies', 'baseline,magic'], /--policies: unknown magic/],
  ])('refuses %j', async (args, message) => {
    await expect(runDemo(args)).rejects.toThrow(message);
  });

});
