/**
 * What daqs needs from a guest's agent, checked once per connection from guest-info: exec (to
 * run tc), exec status, and interface statistics (QEMU 2.11 added `statistics`).
 */
import { guestText } from '../util/guest-text.ts';
import { AgentError } from './errors.ts';
import type { JsonValue } from '../util/json.ts';
import type { GuestAgent } from './types.ts';

/** Commands daqs calls at every tick or on every cap change. */
export const REQUIRED_COMMANDS = ['guest-exec', 'guest-exec-status', 'guest-network-get-interfaces'] as const;

/** Oldest qemu-ga whose guest-network-get-interfaces reports statistics. */
export const MIN_AGENT_VERSION = [2, 11] as const;

/** What guest-info told us. */
export interface AgentCapabilities {
  readonly version: string;
  /** Command name -> enabled. */
  readonly commands: ReadonlyMap<string, boolean>;
}

/** Parses a guest-info reply; a reply without version or command list is E_AGENT_PROTOCOL. */
export function parseGuestInfo(vm: string, info: JsonValue): AgentCapabilities {
  const ctx = { vm, operation: 'guest-info' };
  if (info === null || typeof info !== 'object' || Array.isArray(info) || typeof info.version !== 'string' || !Array.isArray(info.supported_commands)) {
    throw new AgentError('E_AGENT_PROTOCOL', 'guest-info reply lacks version or supported_commands', ctx);
  }
  const commands = new Map<string, boolean>();
  for (const c of info.supported_commands) {
    if (c && typeof c === 'object' && !Array.isArray(c) && typeof c.name === 'string') commands.set(c.name, c.enabled !== false);
  }
  // The version is the guest's text and goes into messages: cleaned where it enters.
  return { version: guestText(info.version, 64), commands };
}

/** Lists what is missing for daqs (empty when the agent will do), each with the fix. */
export function missingCapabilities(caps: AgentCapabilities): string[] {
  const problems: string[] = [];
  const [maj = 0, min = 0] = caps.version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  if (maj < MIN_AGENT_VERSION[0] || (maj === MIN_AGENT_VERSION[0] && min < MIN_AGENT_VERSION[1])) {
    problems.push(`qemu-ga ${caps.version} is older than ${MIN_AGENT_VERSION.join('.')} and reports no interface statistics: upgrade qemu-guest-agent in the guest`);
  }
  for (const name of REQUIRED_COMMANDS) {
    const enabled = caps.commands.get(name);
    if (enabled === undefined) problems.push(`${name} is not supported by this agent: upgrade qemu-guest-agent in the guest`);
    else if (!enabled) problems.push(`${name} is disabled: remove it from --block-rpcs (or block-rpcs in qemu-ga.conf) in the guest and restart qemu-ga`);
  }
  return problems;
}

/** Asks guest-info and throws E_AGENT_CAPABILITY naming every missing piece; resolves with the capabilities otherwise. */
export async function checkCapabilities(agent: GuestAgent, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AgentCapabilities> {
  const caps = parseGuestInfo(agent.vm, await agent.execute<JsonValue>('guest-info', undefined, opts));
  const problems = missingCapabilities(caps);
  if (problems.length > 0) {
    throw new AgentError('E_AGENT_CAPABILITY', problems.join('; '), { vm: agent.vm, operation: 'guest-info' });
  }
  return caps;
}
