/**
 * Where the experiment harness meets the control loop: `paper` (the reference algorithm) and
 * `daqs` (ours) run the real controller against the emulated host, measuring through qemu-ga
 * and enforcing with tc inside the emulated guests, exactly as `daqs run` does.
 */
import { endpointForTestbedVm } from '../endpoint/testbed.ts';
import type { Sla } from '../core/types.ts';
import { Controller, type ControlledVm } from '../controller/index.ts';
import { createPolicy } from '../policy/index.ts';
import { systemClock } from '../telemetry/clock.ts';
import type { Logger } from '../util/log.ts';
import type { ControlledPolicy } from './policies.ts';

/** The controller-backed policies. */
export type ControllerPolicyName = 'paper' | 'daqs';

/** Agent request bound in experiments, as the daemon's default (agent.timeoutMs). */
const AGENT_TIMEOUT_MS = 150;

/** The controller-backed policy `name`: a real Controller over the testbed's agents. */
export function controllerPolicy(name: ControllerPolicyName, logger?: Logger): ControlledPolicy {
  return {
    async start(testbed, slas) {
      const guaranteeOf = new Map(slas.map((s) => [s.vmIndex, s.guaranteeBps]));
      const vms: ControlledVm[] = testbed.vms.map((vm) => {
        const sla: Sla = { guaranteeBps: guaranteeOf.get(vm.index) ?? 0, maxBps: null, weight: 1 };
        return {
          id: vm.id,
          sla,
          slaSource: { guaranteeBps: 'config', maxBps: 'default', weight: 'default' },
          endpoint: endpointForTestbedVm(vm, { client: { defaultTimeoutMs: AGENT_TIMEOUT_MS }, statsTimeoutMs: AGENT_TIMEOUT_MS, ...(logger ? { logger } : {}) }),
        };
      });
      const controller = new Controller({
        policy: createPolicy(name),
        capacityBps: testbed.capacityBps,
        tickMs: 200,
        clock: systemClock,
        listVms: () => vms,
        perVmTimeoutMs: AGENT_TIMEOUT_MS,
        // A previous policy's run must not leave a cap this one adopts.
        onStart: 'reset',
        ...(logger ? { logger } : {}),
      });
      controller.start();
      let stopped: Promise<void> | null = null;
      return {
        stop: () => {
          stopped ??= (async () => {
            const r = await controller.stop({ liftCaps: true });
            await Promise.all(vms.map((vm) => vm.endpoint.close()));
            if (r.failed.length > 0) throw new Error(`policy ${name}: could not lift the caps on ${r.failed.join(', ')}`);
          })();
          return stopped;
        },
      };
    },
  };
}
