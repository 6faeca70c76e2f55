import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/agent.ts';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';

describe('daqs agent', () => {
  let dir: string;
  let agent: FakeAgent;
  let enabled = true;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agcli-'));
    agent = await startFakeAgent(join(dir, 'qga'), (req) =>
      req.execute === 'guest-info'
        ? { return: { version: '7.2.22', supported_commands: ['guest-exec', 'guest-exec-status', 'guest-network-get-interfaces'].map((name) => ({ name, enabled })) } }
        : undefined,
    );
  });
  afterAll(async () => {
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a usable agent with exit 0 and a blocked one with exit 1', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await run(['info', '--socket', agent.socketPath])).toBe(0);
      enabled = false;
      expect(await run(['info', '--socket', agent.socketPath])).toBe(1);
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual(['qemu-ga 7.2.22: usable by daqs', expect.stringMatching(/NOT usable: guest-exec is disabled: remove it from --block-rpcs/)]);
    } finally {
      enabled = true;
      log.mockRestore();
    }
  });

  it.each<[string[], RegExp]>([
    [[], /missing action: one of info, stats, cap/],
    [['info'], /exactly one of --socket PATH or --domain NAME/],
    [['info', '--socket', 'a', '--domain', 'b'], /exactly one of/],
    [['stats', '--socket', '/nonexistent'], /needs --mac MAC or --iface NAME/],
    [['stats', '--socket', '/x', '--mac', 'm', '--count', '0'], /--count: "0" is not a whole number of at least 1/],
    [['info', '--socket', '/x', 'extra'], /unexpected argument "extra": only cap takes one/],
    [['info', '--bogus'], /Unknown option '--bogus'/],
  ])('%j is a usage error', async (args, msg) => {
    await expect(run(args)).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(msg) });
  });
});
