/**
 * The capability check in front of an agent endpoint: guest-info is asked once before the loop
 * relies on the agent, and a definite "cannot" is reported once and not asked again for a while.
 */
import { checkCapabilities } from '../agent/capabilities.ts';
import type { CapReading, Clock, TxSample, VmEndpoint, VmId } from '../core/types.ts';
import type { Logger } from '../util/log.ts';
import type { AgentVmEndpoint } from './agent-endpoint.ts';

/** How long a VM whose agent lacks what daqs needs is left alone before it is checked again. */
const RECHECK_MS = 60_000;

/**
 * Checks once, from guest-info, that the agent has guest-exec and interface statistics
 * enabled before the loop relies on it. A missing or disabled command is an operator's
 * choice: reported once per VM as a configuration problem, and not asked again for a minute
 * (never in a hot loop); meanwhile the VM is skipped with E_AGENT_CAPABILITY.
 */
export class CapabilityCheckedEndpoint implements VmEndpoint {
  readonly id: VmId;
  #checked = false;
  #failure: { error: Error; atMs: number } | null = null;
  #reported = false;

  constructor(private readonly inner: AgentVmEndpoint, private readonly clock: Clock, private readonly logger: Logger) {
    this.id = inner.id;
  }

  async #ensure(signal?: AbortSignal): Promise<void> {
    if (this.#checked) return;
    if (this.#failure && this.clock.nowMs() - this.#failure.atMs < RECHECK_MS) throw this.#failure.error;
    try {
      await checkCapabilities(this.inner.agent, signal ? { signal } : {});
      this.#checked = true;
      this.#failure = null;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only a definite answer is a configuration problem; a timeout is retried next tick.
      if (code === 'E_AGENT_CAPABILITY' || code === 'E_AGENT_DISABLED' || code === 'E_AGENT_NOT_FOUND') {
        this.#failure = { error: err as Error, atMs: this.clock.nowMs() };
        if (!this.#reported) {
          this.#reported = true;
          this.logger.error({ vm: this.id, op: 'capabilities', code, err }, 'the guest agent cannot be used by daqs: fix its configuration (qemu-ga --allow-rpcs / qemu-ga.conf)');
        }
      }
      throw err;
    }
  }

  /** Reads the VF's TX counter once the agent is known to be usable. */
  async readTx(signal?: AbortSignal): Promise<TxSample> {
    await this.#ensure(signal);
    return this.inner.readTx(signal);
  }

  /** Applies a cap once the agent is known to be usable. */
  async applyCap(capBps: number | null, signal?: AbortSignal): Promise<void> {
    await this.#ensure(signal);
    return this.inner.applyCap(capBps, signal);
  }

  /** Reads the cap back once the agent is known to be usable. */
  async readCap(signal?: AbortSignal): Promise<CapReading> {
    await this.#ensure(signal);
    return this.inner.readCap(signal);
  }

  /** Closes the agent connection. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
