/**
 * The guest agent seen by everything above the transport: one method to run an agent command
 * and one to let go of the connection. QgaClient (unix socket) and LibvirtAgent (virsh) both
 * implement it, and both throw AgentError with the same codes.
 */
import type { JsonValue } from '../util/json.ts';

/** Default bound on one agent reply: far above any reply daqs asks for, far below what would hurt. */
export const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;
/** Default bound on JSON nesting in a reply (qemu-ga's replies to daqs nest 4 levels). */
export const DEFAULT_MAX_JSON_DEPTH = 32;

/** Per-call options of GuestAgent.execute. */
export interface ExecuteOptions {
  /** Bound on this call once it gets its turn (connect and resync included). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Longest reply accepted for this call (default: the transport's, 1 MiB); a longer one is
   * dropped unread and the call fails with E_AGENT_PROTOCOL. Callers that know their reply is
   * small (tc output) pass less, so a guest cannot make daqs buffer more than it asked for.
   */
  readonly maxReplyBytes?: number;
}

/** A QEMU guest agent of one VM. */
export interface GuestAgent {
  /** The VM this agent belongs to, for errors and logs. */
  readonly vm: string;
  /**
   * Runs one agent command and resolves with its `return` value (integers beyond 2^53 as bigint).
   * Rejects with AgentError; never with anything else.
   */
  execute<T = JsonValue>(command: string, args?: Readonly<Record<string, unknown>>, opts?: ExecuteOptions): Promise<T>;
  /** Lets go of the connection; pending and later calls reject with E_AGENT_CLOSED. */
  close(): Promise<void>;
}
