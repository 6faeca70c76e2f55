/**
 * The five policies an experiment compares, behind one small interface. baseline, static and
 * oracle are settings of the emulated NIC itself; paper and daqs are controllers, provided
 * by controller-adapter.ts.
 */
import type { Testbed } from '../testbed/index.ts';
import { CONTROLLER_POLICY_NAMES, controllerPolicy } from './controller-adapter.ts';

/** A Guarantee VM's SLA as an experiment sets it (emulated bits/s). */
export interface ExperimentSla {
  readonly vmIndex: number;
  readonly guaranteeBps: number;
}

/** A running policy; stop() undoes everything start() did and is safe to repeat. */
export interface RunningPolicy {
  stop(): Promise<void>;
}

/**
 * A policy the harness can switch on for a phase. `slas` lists the Guarantee VMs; every
 * other VM of the testbed is Best-Effort. start() returns once the policy is in force (or,
 * for a controller, once its loop is running).
 */
export interface ControlledPolicy {
  start(testbed: Testbed, slas: readonly ExperimentSla[]): Promise<RunningPolicy>;
}

/**
 * Policy names, in the order they run (baseline first: the others are judged against it).
 * baseline, static and oracle are the emulated NIC's own settings (this static is `ip link`
 * max_tx_rate, not the controller's static policy); the rest are the controller's.
 */
export const POLICY_NAMES = ['baseline', 'static', ...CONTROLLER_POLICY_NAMES, 'oracle'] as const;
/** One of the compared policies. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Error for a policy that cannot be applied as asked; `code` is stable. */
export class PolicyError extends Error {
  readonly code = 'E_POLICY';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** Best-Effort VMs: every testbed VM not named by an SLA. */
export function bestEffortVms(vmCount: number, slas: readonly ExperimentSla[]): number[] {
  const g = new Set(slas.map((s) => s.vmIndex));
  return Array.from({ length: vmCount }, (_, i) => i).filter((i) => !g.has(i));
}

/**
 * The `ip link max_tx_rate` practice: each Best-Effort VF capped in advance at an equal share
 * of what the guarantees leave, (C − Σ guarantees) / number of BE VFs, sending or not.
 * Contention (1 BE VF) gives C − guarantee; adaptability (7) gives (C − guarantee) / 7.
 */
export function staticCapsBps(capacityBps: number, vmCount: number, slas: readonly ExperimentSla[]): { vmIndex: number; capBps: number }[] {
  const be = bestEffortVms(vmCount, slas);
  const leftBps = capacityBps - slas.reduce((a, s) => a + s.guaranteeBps, 0);
  if (be.length === 0) return [];
  if (!(leftBps > 0)) {
    throw new PolicyError(`static: guarantees (${slas.map((s) => s.guaranteeBps).join(' + ')} bit/s) leave nothing of the port (${capacityBps} bit/s) for Best-Effort VFs`);
  }
  return be.map((vmIndex) => ({ vmIndex, capBps: leftBps / be.length }));
}

const baseline: ControlledPolicy = {
  start() {
    return Promise.resolve({ stop: () => Promise.resolve() });
  },
};

const staticPolicy: ControlledPolicy = {
  async start(testbed, slas) {
    const caps = staticCapsBps(testbed.capacityBps, testbed.vms.length, slas);
    const set: number[] = [];
    const stop = async (): Promise<void> => {
      // Lift every limit even if one fails, then report the first failure.
      const results = await Promise.allSettled(set.map((i) => testbed.setVfLimit(i, null)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      for (const c of caps) {
        set.push(c.vmIndex);
        await testbed.setVfLimit(c.vmIndex, c.capBps);
      }
    } catch (e) {
      await stop().catch(() => undefined);
      throw e;
    }
    return { stop };
  },
};

const oracle: ControlledPolicy = {
  async start(testbed, slas) {
    // Guarantee VMs get an HTB class at their guarantee; the BE VMs share the leftover class;
    // every ceil is the port speed, so unused guarantee flows to whoever sends (work-conserving).
    await testbed.setPortScheduler(slas.map((s) => ({ vmIndex: s.vmIndex, rateBps: s.guaranteeBps })));
    return { stop: () => testbed.setPortScheduler(null) };
  },
};

/** The policy called `name`; paper and daqs come from the controller adapter. */
export function policyByName(name: PolicyName): ControlledPolicy {
  switch (name) {
    case 'baseline': return baseline;
    case 'static': return staticPolicy;
    case 'oracle': return oracle;
    case 'paper':
    case 'daqs': return controllerPolicy(name);
  }
}
