/**
 * Where the experiment harness meets the control loop: `paper` (the reference algorithm) and
 * `daqs` (ours) run the loop the daemon runs (src/daemon/loop.ts: the same settings, the same
 * capability-checked agent endpoints) against the emulated host, measuring through qemu-ga and
 * enforcing with tc inside the emulated guests.
 */
import { createLoop, defaultLoopSettings } from '../daemon/loop.ts';
import type { InventoryVm, SlaSources } from '../inventory/index.ts';
import type { PolicyName as LoopPolicyName } from '../policy/index.ts';
import { systemClock } from '../telemetry/clock.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import type { ControlledPolicy } from './policies.ts';

/** The controller-backed policies of an experiment: the paper's reference algorithm and ours. */
export const CONTROLLER_POLICY_NAMES = ['paper', 'daqs'] as const satisfies readonly LoopPolicyName[];
/** One of CONTROLLER_POLICY_NAMES. */
export type ControllerPolicyName = (typeof CONTROLLER_POLICY_NAMES)[number];

const SLA_SOURCE = { guaranteeBps: 'config', maxBps: 'default', weight: 'default' } as const satisfies SlaSources;

/**
 * Agent timeout when the testbed has real QEMU guests: under TCG, a guest's first tc run
 * through guest-exec took 115-200 ms, past the default 150 ms, so the first sight of the VM
 * (read its cap, then its counters) never completed. A KVM guest runs tc in a few ms.
 */
export const TCG_GUEST_AGENT_TIMEOUT_MS = 800;

/** The controller-backed policy `name`: the daemon's loop over the testbed's agents. */
export function controllerPolicy(name: ControllerPolicyName, logger: Logger = silentLogger): ControlledPolicy {
  return {
    async start(testbed, slas) {
      const guaranteeOf = new Map(slas.map((s) => [s.vmIndex, s.guaranteeBps]));
      // The testbed as the daemon's testbed inventory would list it, every SLA from the experiment.
      const vms: InventoryVm[] = testbed.vms.map((vm) => ({
        id: vm.id,
        origin: 'testbed',
        sla: { guaranteeBps: guaranteeOf.get(vm.index) ?? 0, maxBps: null, weight: 1 },
        slaSource: SLA_SOURCE,
        agent: { kind: 'unix', socket: vm.agentSocket },
        status: { state: 'ready' },
        vf: { mac: vm.mac },
        problems: [],
      }));
      // A previous policy's run must not leave a cap this one adopts.
      const defaults = defaultLoopSettings(name, testbed.capacityBps);
      const tcg = testbed.vms.some((vm) => vm.kind !== undefined && vm.kind !== 'namespace');
      const settings = { ...defaults, onStart: 'reset' as const, ...(tcg ? { agentTimeoutMs: TCG_GUEST_AGENT_TIMEOUT_MS } : {}) };
      const { controller, pool } = createLoop(settings, { logger, clock: systemClock, vms: () => vms });
      controller.start();
      let stopped: Promise<void> | null = null;
      return {
        stop: () => {
          stopped ??= (async () => {
            const r = await controller.stop({ liftCaps: true });
            await pool.closeAll();
            if (r.failed.length > 0) throw new Error(`policy ${name}: could not lift the caps on ${r.failed.join(', ')}`);
          })();
          return stopped;
        },
      };
    },
  };
}
