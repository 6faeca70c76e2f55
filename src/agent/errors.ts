/**
 * Typed errors of the guest agent path. Every error names the VM and the operation and keeps
 * the agent's own error class and description when there was one, so the loop can decide
 * (retry next tick, report once as configuration, reconnect) on `code` alone.
 */
import { guestText } from '../util/guest-text.ts';

/** Stable codes of agent errors; callers switch on these, never on message text. */
export type AgentErrorCode =
  /** The command did not answer within its timeout; the client resyncs before the next one. */
  | 'E_AGENT_TIMEOUT'
  /** The connection dropped (agent restart, guest reset, mid-reply disconnect). */
  | 'E_AGENT_DISCONNECTED'
  /** The socket cannot be reached now (nothing listens on it). */
  | 'E_AGENT_UNAVAILABLE'
  /** The agent answered with an error object (class and desc kept). */
  | 'E_AGENT_COMMAND'
  /** The command does not exist in this agent (too old). */
  | 'E_AGENT_NOT_FOUND'
  /** The operator disabled the command (--block-rpcs / qemu-ga.conf): a configuration problem. */
  | 'E_AGENT_DISABLED'
  /** The agent lacks something daqs needs (guest-info check). */
  | 'E_AGENT_CAPABILITY'
  /** The reply did not have the shape the command promises. */
  | 'E_AGENT_PROTOCOL'
  /** The client was closed, or another client owns the socket. */
  | 'E_AGENT_CLOSED'
  | 'E_AGENT_SOCKET_OWNED'
  /** The call was aborted by the caller's AbortSignal. */
  | 'E_AGENT_ABORTED'
  /** The VM is unknown to the transport (libvirt: domain not found or not running). */
  | 'E_AGENT_VM_NOT_FOUND'
  /** A guest-exec'd program exited non-zero, was killed, or did not finish in time. */
  | 'E_EXEC_FAILED'
  | 'E_EXEC_TIMEOUT'
  /** Programs started earlier in the guest have not exited yet; no more are started until they do. */
  | 'E_EXEC_BUSY';

/** Details an AgentError carries besides its code. */
export interface AgentErrorDetails {
  readonly vm: string;
  /** The agent command (guest-exec, guest-network-get-interfaces, ...) or helper operation. */
  readonly operation: string;
  /** The agent's error class ("GenericError", "CommandNotFound"); null when there was none or it was lost (libvirt). */
  readonly agentClass?: string | null;
  readonly agentDesc?: string | null;
  readonly cause?: unknown;
}

/** An error of the guest agent path with a stable code, the VM, the operation and the agent's class/desc. */
export class AgentError extends Error {
  readonly vm: string;
  readonly operation: string;
  readonly agentClass: string | null;
  readonly agentDesc: string | null;

  constructor(readonly code: AgentErrorCode, message: string, details: AgentErrorDetails) {
    super(`vm ${details.vm}: ${details.operation}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AgentError';
    this.vm = details.vm;
    this.operation = details.operation;
    this.agentClass = details.agentClass ?? null;
    this.agentDesc = details.agentDesc ?? null;
  }
}

/** True for errors after which the same command may succeed on a later tick. */
export function isTransientAgentError(e: unknown): boolean {
  return e instanceof AgentError && ['E_AGENT_TIMEOUT', 'E_AGENT_DISCONNECTED', 'E_AGENT_UNAVAILABLE', 'E_AGENT_ABORTED'].includes(e.code);
}

// qemu-ga 7.2: "Command guest-exec has been disabled"; older agents: "The command X has been disabled for this instance".
const DISABLED_RE = /has been disabled/i;

/**
 * Turns an agent error object ({class, desc}) into a typed error; class and desc are cleaned
 * (src/util/guest-text.ts) before they go anywhere. A disabled command becomes
 * E_AGENT_DISABLED with a fix in the message, so operators see a configuration problem.
 */
export function agentErrorFromReply(vm: string, operation: string, rawClass: string | null, rawDesc: string | null): AgentError {
  // The agent's words are the guest's: cleaned and cut here, where they enter daqs.
  const agentClass = rawClass === null ? null : guestText(rawClass, 64);
  const agentDesc = rawDesc === null ? null : guestText(rawDesc);
  const details = { vm, operation, agentClass, agentDesc };
  const desc = agentDesc ?? '(no description)';
  if (DISABLED_RE.test(desc)) {
    return new AgentError('E_AGENT_DISABLED', `${desc}: the guest's qemu-ga blocks this command; remove it from --block-rpcs (or block-rpcs in qemu-ga.conf) or add it to --allow-rpcs, then restart qemu-ga`, details);
  }
  if (agentClass === 'CommandNotFound') {
    return new AgentError('E_AGENT_NOT_FOUND', `${desc}: the guest's qemu-ga is too old for this command; upgrade qemu-guest-agent in the guest`, details);
  }
  return new AgentError('E_AGENT_COMMAND', `agent error ${agentClass ?? '(class unknown)'}: ${desc}`, details);
}
