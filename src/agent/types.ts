/**
 * The guest agent seen by everything above the transport: one method to run an agent command
 * and one to let go of the connection. QgaClient (unix socket) and LibvirtAgent (virsh) both
 * implement it, and both throw AgentError with the same codes.
 */
import type { JsonValue } from '../util/json.ts';

/** Per-call options of GuestAgent.execute. */
export interface ExecuteOptions {
  /** Bound on this call once it gets its turn (connect and resync included). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
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
