import type { FakeHandler, FakeRequest } from '../../../src/agent/fake-agent.ts';
import type { FakeGuest } from '../../../src/agent/fake-guest.ts';

/**
 * A fake agent handler for a guest whose operator blocked guest-exec: guest-info says so, every
 * other command is the guest's. Each command asked is appended to `requests`.
 */
export function execBlockedHandler(guest: FakeGuest, requests: string[]): FakeHandler {
  return (req: FakeRequest) => {
    requests.push(req.execute);
    if (req.execute === 'guest-info') {
      return { return: { version: '7.2.0', supported_commands: [
        { name: 'guest-exec', enabled: false }, { name: 'guest-exec-status', enabled: false },
        { name: 'guest-network-get-interfaces', enabled: true }, { name: 'guest-info', enabled: true },
      ] } };
    }
    return guest.handler(req);
  };
}
