import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/agent/fake-agent.ts';
import { FakeGuest } from '../../src/agent/fake-guest.ts';
import { execBlockedHandler } from '../agent/helpers/exec-blocked.ts';
import { controllerPolicy } from '../../src/eval/controller-adapter.ts';
import type { Testbed } from '../../src/testbed/index.ts';

// The experiments run the daemon's loop: an agent the daemon would refuse (guest-exec blocked)
// is refused here too, before any tc runs in the guest.
describe('controllerPolicy (the experiments\' loop)', () => {
  let dir: string;
  let blocked: FakeAgent;
  const requests: string[] = [];
  const guest = new FakeGuest([{ name: 'eth1', mac: '52:54:00:00:00:02', txBytes: 5n }]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'daqs-adapter-'));
    blocked = await startFakeAgent(join(dir, 'blocked.sock'), execBlockedHandler(guest, requests));
  });

  afterAll(async () => {
    await blocked?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('checks the agent\'s capabilities like the daemon and runs nothing in a guest that lacks them', async () => {
    const testbed = { capacityBps: 2e9, vms: [{ id: 'ad-vm0', index: 0, agentSocket: blocked.socketPath, mac: '52:54:00:00:00:02' }] } as unknown as Testbed;
    const running = await controllerPolicy('daqs').start(testbed, [{ vmIndex: 0, guaranteeBps: 1e9 }]);
    await sleep(700);
    await running.stop().catch(() => undefined);
    expect(requests).toContain('guest-info');
    expect(requests).not.toContain('guest-exec');
    expect(requests).not.toContain('guest-network-get-interfaces');
  });
});
