/**
 * The control loop and its endpoints, built one way for `daqs run` and for the experiments:
 * the same policy, timeouts and capability-checked agent endpoints, so an experiment measures
 * exactly what the daemon runs.
 */
import { DEFAULT_AGENT_TIMEOUT_MS, DEFAULT_TICK_MS, type LoadedConfig } from '../config/index.ts';
import type { Clock } from '../core/types.ts';
import { Controller } from '../controller/index.ts';
import { EndpointPool, type EndpointPoolOptions } from '../endpoint/pool.ts';
import type { InventoryVm } from '../inventory/index.ts';
import { createPolicy, type PolicyName } from '../policy/index.ts';
import type { Logger } from '../util/log.ts';

/** What the loop is built from; the daemon reads it from its configuration. */
export interface LoopSettings {
  readonly policy: PolicyName;
  readonly capacityBps: number;
  readonly tickMs: number;
  /** Bound on one agent request; also each VM's observation bound, so a stuck VM costs one tick. */
  readonly agentTimeoutMs: number;
  /** 'adopt' takes caps found in guests as in force; 'reset' lifts them first. */
  readonly onStart: 'adopt' | 'reset';
  /** Leave caps in place when the loop stops. */
  readonly keepCaps: boolean;
}

/** The loop's settings from a loaded configuration. */
export function loopSettingsOf(loaded: LoadedConfig): LoopSettings {
  const cfg = loaded.config;
  return {
    policy: cfg.policy,
    capacityBps: loaded.capacity.capacityBps,
    tickMs: cfg.port.tickMs,
    agentTimeoutMs: cfg.agent.timeoutMs,
    onStart: cfg.daemon.onStart,
    keepCaps: cfg.daemon.onStop === 'keep',
  };
}

/** The settings of a configuration file that sets only the policy and the capacity (the defaults elsewhere). */
export function defaultLoopSettings(policy: PolicyName, capacityBps: number): LoopSettings {
  return { policy, capacityBps, tickMs: DEFAULT_TICK_MS, agentTimeoutMs: DEFAULT_AGENT_TIMEOUT_MS, onStart: 'adopt', keepCaps: false };
}

/** What the loop runs against. */
export interface LoopDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The VMs to control now; called every tick, so it returns a list it already has. */
  readonly vms: () => readonly InventoryVm[];
  /** Builds a VM's endpoint instead of the capability-checked agent endpoint (tests, simulator). */
  readonly createEndpoint?: EndpointPoolOptions['create'];
}

/** A built loop: the controller (not started) and the endpoints it uses. */
export interface Loop {
  readonly controller: Controller;
  /** Close its endpoints after the controller stopped. */
  readonly pool: EndpointPool;
}

/** Builds the controller and its endpoint pool from the settings. */
export function createLoop(settings: LoopSettings, deps: LoopDeps): Loop {
  const { logger, clock } = deps;
  const pool = new EndpointPool({ logger, clock, agentTimeoutMs: settings.agentTimeoutMs, ...(deps.createEndpoint ? { create: deps.createEndpoint } : {}) });
  const controller = new Controller({
    policy: createPolicy(settings.policy),
    capacityBps: settings.capacityBps,
    tickMs: settings.tickMs,
    clock,
    logger,
    listVms: () => pool.sync(deps.vms()),
    // Observation waits at most one agent request's timeout: a stuck VM costs one tick, never more.
    perVmTimeoutMs: settings.agentTimeoutMs,
    onStart: settings.onStart,
    keepCaps: settings.keepCaps,
  });
  return { controller, pool };
}
