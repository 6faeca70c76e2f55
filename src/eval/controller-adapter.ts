/**
 * Where the experiment harness meets the control loop: `paper` (the reference algorithm) and
 * `daqs` (ours) run the real controller against the emulated host, measuring through qemu-ga
 * and enforcing with tc inside the emulated guests.
 *
 * NOT WIRED YET: the lead connects this to src/controller. What start() must do:
 *  - build one VmEndpoint per testbed VM over its real qemu-ga (testbed.vms[i].agentSocket,
 *    interface testbed.vms[i].iface, namespace testbed.vms[i].netns), so the loop measures
 *    through the agent and enforces caps with tc in the guest, as in production;
 *  - SLAs: `slas` are the Guarantee VMs (emulated bits/s); every other VM is Best-Effort;
 *  - port capacity testbed.capacityBps; tick 200 ms; policy `name` ('paper' or 'daqs');
 *  - resolve once the loop runs; stop() ends the loop and removes every cap it installed
 *    (safe to repeat), so the next policy starts from a clean host.
 */
import type { ControlledPolicy } from './policies.ts';

/** The controller-backed policies. */
export type ControllerPolicyName = 'paper' | 'daqs';

/** Raised while the controller is not connected to the harness; `code` is stable. */
export class NotWiredError extends Error {
  readonly code = 'E_NOT_WIRED';
  constructor(name: ControllerPolicyName) {
    super(`policy ${name}: the controller is not wired into the experiment harness yet (src/eval/controller-adapter.ts); run with --policies baseline,static,oracle meanwhile`);
    this.name = 'NotWiredError';
  }
}

/** The controller-backed policy `name`; its start() fails with E_NOT_WIRED until wired. */
export function controllerPolicy(name: ControllerPolicyName): ControlledPolicy {
  return {
    start() {
      return Promise.reject(new NotWiredError(name));
    },
  };
}
