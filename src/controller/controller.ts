/**
 * The control loop. Each tick: list VMs, observe them all in parallel (bounded, each with a
 * timeout), estimate rates, ask the policy, apply only the caps that changed, publish a
 * TickReport and DaemonEvents. A VM that fails or stalls is skipped for that tick with its
 * last known state; it never delays the others, and a failed apply is retried next tick
 * (the difference is still there). Ticks never overlap: the next one is scheduled when the
 * previous one ends.
 */
import type { Clock, DaemonEvent, ReconcileAction, Sla, TickReport, TxSample, VmEndpoint, VmId, VmTickReport } from '../core/types.ts';
import { attainableBps, isIdleGuarantee, meetsGuarantee } from '../core/guarantee.ts';
import type { Policy, PolicyDecision, PolicyVmInput } from '../policy/types.ts';
import { isGuarantee } from '../policy/types.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { auditCapChange, CAP_REASONS, DEFAULT_CAP_REASON } from './audit.ts';
import { mapBounded, withTimeout } from './bounded.ts';
import { ControllerConfigError, ControllerStateError, errorCode, errorMessage } from './errors.ts';
import { capChanged } from './reconcile.ts';
import { clampRateBps, counterRateBps } from '../units/counter-rate.ts';
import { formatRate } from '../units/rate.ts';

/** One VM as inventory hands it to the loop. */
export interface ControlledVm {
  readonly id: VmId;
  readonly sla: Sla;
  readonly slaSource: VmTickReport['slaSource'];
  readonly endpoint: VmEndpoint;
}

/** What to do with caps found in guests when the loop first sees them. */
export type StartMode = 'adopt' | 'reset';

/** Everything the loop needs, passed in (no globals). */
export interface ControllerOptions {
  readonly policy: Policy;
  /** Nominal port speed. */
  readonly capacityBps: number;
  /** Tick period; default 200 ms (the reference's). */
  readonly tickMs?: number;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Current VMs; called once per tick. VMs may appear and disappear at any time. */
  readonly listVms: () => readonly ControlledVm[] | Promise<readonly ControlledVm[]>;
  /** Most VM calls in flight at once; default 32. */
  readonly concurrency?: number;
  /** Per-VM bound on one observation or one apply (real time); default tickMs / 2. */
  readonly perVmTimeoutMs?: number;
  /** 'adopt' (default) takes caps found in guests as in force; 'reset' lifts them first. */
  readonly onStart?: StartMode;
  /** Leave caps in place on stop(); default false (lift the caps daqs set). */
  readonly keepCaps?: boolean;
  /**
   * Bound on one cap change (a tc exec through the agent: tens to hundreds of ms under load);
   * default max(1000, 5 × tickMs). Applies run beside the ticks, so a slow one never delays them.
   */
  readonly applyTimeoutMs?: number;
  /** Caps that differ from the one in force by at most this fraction are not re-applied; default 0.005 (below one paper step). */
  readonly reconcileThresholdFrac?: number;
  /** Wall clock for report timestamps; default Date.now. */
  readonly epochNowMs?: () => number;
}

/** Settings that a reload may change while the loop runs. */
export interface ControllerConfigUpdate {
  readonly policy?: Policy;
  readonly capacityBps?: number;
  readonly tickMs?: number;
  /** For VMs first seen from now on. */
  readonly onStart?: StartMode;
  /** Per-VM bound on one observation, from the next tick. */
  readonly perVmTimeoutMs?: number;
}

/** What stop() did. */
export interface StopResult {
  readonly lifted: readonly VmId[];
  readonly failed: readonly VmId[];
}

type Listeners = { tick: ((r: TickReport) => void)[]; event: ((e: DaemonEvent) => void)[] };

interface VmState {
  sample: TxSample | null;
  /** Cap in force as far as the loop knows; valid once capKnown. */
  capBps: number | null;
  capKnown: boolean;
  reachable: boolean | null;
  guaranteeMet: boolean | null;
  /** A cap change still in flight: no new one is started for this VM until it settles. */
  applying: Promise<void> | null;
}

type Observation =
  | { readonly ok: true; readonly sample: TxSample; readonly rttMs: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The daqs control loop; see the file comment for its guarantees. */
export class Controller {
  #policy: Policy;
  #policyState: unknown;
  #capacityBps: number;
  #tickMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #listVms: ControllerOptions['listVms'];
  readonly #concurrency: number;
  #perVmTimeoutMs: number | null;
  readonly #applyTimeoutMs: number | null;
  // Cap changes that finished after their tick's grace time, reported with the next tick.
  #lateActions: ReconcileAction[] = [];
  #onStart: StartMode;
  readonly #keepCaps: boolean;
  readonly #thresholdFrac: number;
  readonly #epochNowMs: () => number;
  readonly #vms = new Map<VmId, VmState>();
  #known = new Map<VmId, ControlledVm>();
  readonly #listeners: Listeners = { tick: [], event: [] };
  #latest: TickReport | null = null;
  #tick = 0;
  #inTick: Promise<TickReport> | null = null;
  #running: { stop: AbortController; loop: Promise<void> } | null = null;

  constructor(opts: ControllerOptions) {
    this.#policy = opts.policy;
    this.#policyState = opts.policy.initState();
    this.#capacityBps = checkPositive('capacityBps', opts.capacityBps);
    this.#tickMs = checkPositive('tickMs', opts.tickMs ?? 200);
    this.#clock = opts.clock;
    this.#log = (opts.logger ?? silentLogger).child({ component: 'controller' });
    this.#listVms = opts.listVms;
    this.#concurrency = Math.floor(checkPositive('concurrency', opts.concurrency ?? 32));
    this.#perVmTimeoutMs = opts.perVmTimeoutMs === undefined ? null : checkPositive('perVmTimeoutMs', opts.perVmTimeoutMs);
    this.#applyTimeoutMs = opts.applyTimeoutMs === undefined ? null : checkPositive('applyTimeoutMs', opts.applyTimeoutMs);
    this.#onStart = opts.onStart ?? 'adopt';
    this.#keepCaps = opts.keepCaps ?? false;
    this.#thresholdFrac = opts.reconcileThresholdFrac ?? 0.005;
    this.#epochNowMs = opts.epochNowMs ?? Date.now;
  }

  /** Subscribes to tick reports or events; returns the unsubscribe function. */
  on(kind: 'tick', fn: (r: TickReport) => void): () => void;
  on(kind: 'event', fn: (e: DaemonEvent) => void): () => void;
  on(kind: 'tick' | 'event', fn: ((r: TickReport) => void) | ((e: DaemonEvent) => void)): () => void {
    const list = this.#listeners[kind] as unknown[];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** The last tick's report, or null before the first tick. */
  latest(): TickReport | null {
    return this.#latest;
  }

  /** The policy in use. */
  policyName(): string {
    return this.#policy.name;
  }

  /**
   * Applies reloaded settings from the next tick; a new policy starts from its initial state.
   * The caller reports the reload (it knows which keys of the file changed).
   */
  setConfig(update: ControllerConfigUpdate): void {
    const capacityBps = update.capacityBps === undefined ? this.#capacityBps : checkPositive('capacityBps', update.capacityBps);
    const tickMs = update.tickMs === undefined ? this.#tickMs : checkPositive('tickMs', update.tickMs);
    const perVmTimeoutMs = update.perVmTimeoutMs === undefined ? this.#perVmTimeoutMs : checkPositive('perVmTimeoutMs', update.perVmTimeoutMs);
    // Checked all before any is applied: a refused update changes nothing.
    this.#capacityBps = capacityBps;
    this.#tickMs = tickMs;
    this.#perVmTimeoutMs = perVmTimeoutMs;
    if (update.onStart !== undefined) this.#onStart = update.onStart;
    if (update.policy !== undefined && update.policy !== this.#policy) {
      this.#policy = update.policy;
      this.#policyState = update.policy.initState();
    }
  }

  /** Starts ticking every tickMs until stop(). */
  start(): void {
    if (this.#running) throw new ControllerStateError('controller already started');
    const stop = new AbortController();
    const loop = (async () => {
      while (!stop.signal.aborted) {
        const startedMs = this.#clock.nowMs();
        try {
          await this.tickOnce();
        } catch (err) {
          // A tick must never end the loop: log it and carry on.
          this.#log.error({ err, code: errorCode(err) }, 'tick failed');
        }
        if (stop.signal.aborted) break;
        const waitMs = Math.max(0, this.#tickMs - (this.#clock.nowMs() - startedMs));
        await this.#clock.sleep(waitMs, stop.signal).catch(() => undefined);
      }
    })();
    this.#running = { stop, loop };
  }

  /** Stops the loop after the current tick; lifts the caps daqs set unless keepCaps (or liftCaps: false). */
  async stop(opts: { liftCaps?: boolean } = {}): Promise<StopResult> {
    const running = this.#running;
    this.#running = null;
    if (running) {
      running.stop.abort();
      await running.loop;
    }
    if (this.#inTick) await this.#inTick.catch(() => undefined);
    // A change still in flight would race the lift below.
    await Promise.all([...this.#vms.values()].map((st) => st.applying));
    const lift = opts.liftCaps ?? !this.#keepCaps;
    if (!lift) return { lifted: [], failed: [] };
    const capped = [...this.#known.values()].filter((vm) => this.#vms.get(vm.id)?.capBps != null);
    const results = await mapBounded(capped, this.#concurrency, async (vm) => {
      const st = this.#vms.get(vm.id)!;
      const fromBps = st.capBps;
      try {
        await withTimeout(vm.id, 'applyCap', this.#timeoutMs(), (signal) => vm.endpoint.applyCap(null, signal));
        st.capBps = null;
        auditCapChange(this.#log, { vm: vm.id, fromBps, toBps: null, ok: true, reason: CAP_REASONS.liftOnStop });
        return { id: vm.id, ok: true };
      } catch (err) {
        auditCapChange(this.#log, { vm: vm.id, fromBps, toBps: null, ok: false, reason: CAP_REASONS.liftOnStop }, err);
        return { id: vm.id, ok: false };
      }
    });
    return { lifted: results.filter((r) => r.ok).map((r) => r.id), failed: results.filter((r) => !r.ok).map((r) => r.id) };
  }

  /** Runs one tick now; if one is already running, returns that one (ticks never stack). */
  tickOnce(): Promise<TickReport> {
    if (this.#inTick) return this.#inTick;
    const p = this.#runTick().finally(() => {
      this.#inTick = null;
    });
    this.#inTick = p;
    return p;
  }

  #timeoutMs(): number {
    return this.#perVmTimeoutMs ?? this.#tickMs / 2;
  }

  async #runTick(): Promise<TickReport> {
    const startedMs = this.#clock.nowMs();
    const atEpochMs = this.#epochNowMs();
    const tick = ++this.#tick;
    const entries = await this.#currentVms(atEpochMs);

    const observations = await mapBounded(entries, this.#concurrency, (vm) => this.#observe(vm));
    const inputs: PolicyVmInput[] = entries.map((vm, i) => {
      const st = this.#vms.get(vm.id)!;
      const obs = observations[i]!;
      let rateBps: number | null = null;
      if (obs.ok) {
        // Bounded by the port: a guest cannot report its way past what the port carries.
        rateBps = clampRateBps(counterRateBps(st.sample, obs.sample), this.#capacityBps);
        st.sample = obs.sample;
      }
      this.#trackReachability(vm.id, st, obs, atEpochMs);
      return { id: vm.id, sla: vm.sla, rateBps, capBps: st.capKnown ? st.capBps : null };
    });

    let decision: PolicyDecision<unknown>;
    try {
      decision = this.#policy.decide({ tickMs: this.#tickMs, capacityBps: this.#capacityBps, vms: inputs }, this.#policyState);
      this.#policyState = decision.state;
    } catch (err) {
      // A policy bug must not leave guests in a half-changed state: change nothing this tick.
      this.#log.error({ err, code: errorCode(err), policy: this.#policy.name }, 'policy failed; caps left as they are');
      decision = { vms: inputs.map((v) => ({ id: v.id, capBps: v.capBps, demandBps: null, reservedBps: null })), learnedCapacityBps: this.#capacityBps, state: this.#policyState };
    }

    const actions = await this.#reconcile(entries, observations, decision);
    const byId = new Map(decision.vms.map((d) => [d.id, d]));
    const vms = entries.map((vm, i) => this.#vmReport(vm, inputs[i]!, observations[i]!, byId.get(vm.id)?.demandBps ?? null, atEpochMs));
    const durationMs = this.#clock.nowMs() - startedMs;
    const overran = durationMs > this.#tickMs;
    if (overran) this.#log.warn({ tick, durationMs, tickMs: this.#tickMs }, 'tick overran its period; the next one starts when it ends');
    const report: TickReport = {
      tick,
      atEpochMs,
      durationMs,
      overran,
      policy: this.#policy.name,
      port: {
        nominalCapacityBps: this.#capacityBps,
        learnedCapacityBps: decision.learnedCapacityBps,
        usedBps: inputs.reduce((a, v) => a + (v.rateBps ?? 0), 0),
      },
      vms,
      actions,
    };
    this.#latest = report;
    for (const fn of [...this.#listeners.tick]) this.#call(() => fn(report));
    return report;
  }

  async #currentVms(atEpochMs: number): Promise<ControlledVm[]> {
    let listed: readonly ControlledVm[];
    try {
      listed = await this.#listVms();
    } catch (err) {
      // Inventory trouble must not stop control of the VMs we already know.
      this.#log.warn({ err, code: errorCode(err) }, 'listing VMs failed; using the last list');
      listed = [...this.#known.values()];
    }
    const next = new Map<VmId, ControlledVm>();
    for (const vm of listed) next.set(vm.id, vm);
    for (const id of this.#known.keys()) {
      if (!next.has(id)) {
        this.#vms.delete(id);
        this.#emit({ atEpochMs, kind: 'vm-disappeared', vm: id, message: `${id} is gone` });
      }
    }
    for (const vm of next.values()) {
      if (!this.#known.has(vm.id)) {
        this.#vms.set(vm.id, { sample: null, capBps: null, capKnown: false, reachable: null, guaranteeMet: null, applying: null });
        this.#emit({ atEpochMs, kind: 'vm-appeared', vm: vm.id, message: `${vm.id} appeared (${isGuarantee(vm.sla) ? `guarantee ${formatRate(vm.sla.guaranteeBps)}` : 'best effort'})` });
      }
    }
    this.#known = next;
    return [...next.values()];
  }

  async #observe(vm: ControlledVm): Promise<Observation> {
    const st = this.#vms.get(vm.id)!;
    const t0 = performance.now();
    try {
      const sample = await withTimeout(vm.id, 'observe', this.#timeoutMs(), async (signal) => {
        if (!st.capKnown) {
          // First sight: take over (or clear) whatever cap a previous run left behind.
          const found = await vm.endpoint.readCap(signal);
          if (this.#onStart === 'reset' && found.capBps !== null) {
            const reset = { vm: vm.id, fromBps: found.capBps, toBps: null, reason: CAP_REASONS.startReset };
            try {
              await vm.endpoint.applyCap(null, signal);
            } catch (err) {
              auditCapChange(this.#log, { ...reset, ok: false }, err);
              throw err;
            }
            auditCapChange(this.#log, { ...reset, ok: true });
          } else if (found.capBps !== null) {
            // Not a change daqs made, but from here on daqs answers for this cap: it belongs in the trail.
            auditCapChange(this.#log, { vm: vm.id, fromBps: undefined, toBps: found.capBps, ok: true, reason: `${CAP_REASONS.startAdopt}: ${found.detail}` });
          }
          st.capBps = this.#onStart === 'reset' ? null : found.capBps;
          st.capKnown = true;
        }
        return vm.endpoint.readTx(signal);
      });
      return { ok: true, sample, rttMs: performance.now() - t0 };
    } catch (err) {
      this.#log.debug({ vm: vm.id, op: 'observe', code: errorCode(err), err }, 'VM skipped this tick');
      return { ok: false, code: errorCode(err), message: errorMessage(err) };
    }
  }

  #trackReachability(id: VmId, st: VmState, obs: Observation, atEpochMs: number): void {
    if (!obs.ok && st.reachable !== false) {
      this.#log.warn({ vm: id, code: obs.code }, `agent unreachable: ${obs.message}`);
      this.#emit({ atEpochMs, kind: 'agent-unreachable', vm: id, message: `${id}: ${obs.message}` });
    } else if (obs.ok && st.reachable === false) {
      this.#emit({ atEpochMs, kind: 'agent-recovered', vm: id, message: `${id} answers again` });
    }
    st.reachable = obs.ok;
  }

  async #reconcile(entries: readonly ControlledVm[], observations: readonly Observation[], decision: PolicyDecision<unknown>): Promise<ReconcileAction[]> {
    const wanted = new Map(decision.vms.map((d) => [d.id, d.capBps]));
    const reasons = new Map(decision.vms.map((d) => [d.id, d.reason ?? DEFAULT_CAP_REASON]));
    // Only VMs that answered this tick (a stalled agent would only stall the apply too), and
    // none whose previous change is still running.
    const todo = entries.filter((vm, i) => {
      const st = this.#vms.get(vm.id)!;
      const want = wanted.get(vm.id);
      return observations[i]!.ok && st.capKnown && st.applying === null && want !== undefined && capChanged(st.capBps, want, this.#thresholdFrac);
    });
    const done: ReconcileAction[] = this.#lateActions;
    this.#lateActions = [];
    let inTick = true;
    const applies = todo.map((vm) => {
      const st = this.#vms.get(vm.id)!;
      const fromBps = st.capBps;
      const toBps = wanted.get(vm.id)!;
      const reason = reasons.get(vm.id)!;
      const applying = withTimeout(vm.id, 'applyCap', this.#applyTimeoutMs ?? Math.max(1000, 5 * this.#tickMs), (signal) => vm.endpoint.applyCap(toBps, signal)).then(
        () => {
          st.capBps = toBps;
          const action = { vm: vm.id, fromBps, toBps, ok: true, reason };
          auditCapChange(this.#log, action);
          return action;
        },
        (err: unknown) => {
          // The difference stays, so a later tick retries it.
          const action = { vm: vm.id, fromBps, toBps, ok: false, reason };
          auditCapChange(this.#log, action, err);
          return action;
        },
      ).then((action) => {
        st.applying = null;
        (inTick ? done : this.#lateActions).push(action);
      });
      st.applying = applying;
      return applying;
    });
    // Wait for the changes a little (most take a few tens of ms), but never a whole tick: the
    // next observation must not wait for a slow guest's tc.
    const graceMs = this.#timeoutMs();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(applies), new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
    clearTimeout(timer);
    inTick = false;
    return done;
  }

  #vmReport(vm: ControlledVm, input: PolicyVmInput, obs: Observation, demandBps: number | null, atEpochMs: number): VmTickReport {
    const st = this.#vms.get(vm.id)!;
    let guaranteeMet: boolean | null = null;
    let idle = false;
    if (isGuarantee(vm.sla) && input.rateBps !== null) {
      // A VM that sends (almost) nothing does not want its guarantee: idle is not a violation.
      idle = isIdleGuarantee(input.rateBps, vm.sla.guaranteeBps);
      const targetBps = attainableBps(vm.sla.guaranteeBps, demandBps ?? vm.sla.guaranteeBps);
      guaranteeMet = idle || meetsGuarantee(input.rateBps, vm.sla.guaranteeBps, demandBps ?? vm.sla.guaranteeBps);
      if (!guaranteeMet && st.guaranteeMet !== false) {
        this.#emit({ atEpochMs, kind: 'guarantee-violated', vm: vm.id, message: `${vm.id} sends ${formatRate(input.rateBps)}, below ${formatRate(targetBps)}` });
      } else if (guaranteeMet && st.guaranteeMet === false) {
        this.#emit({ atEpochMs, kind: 'guarantee-restored', vm: vm.id, message: `${vm.id} meets its guarantee again` });
      }
      st.guaranteeMet = guaranteeMet;
    } else if (isGuarantee(vm.sla)) {
      guaranteeMet = st.guaranteeMet;
    }
    return {
      id: vm.id,
      role: isGuarantee(vm.sla) ? 'guarantee' : 'best-effort',
      sla: vm.sla,
      slaSource: vm.slaSource,
      rateBps: input.rateBps,
      demandBps,
      capBps: st.capKnown ? st.capBps : null,
      guaranteeMet,
      idle,
      txBytes: st.sample === null ? null : Number(st.sample.txBytes),
      agentRttMs: obs.ok ? obs.rttMs : null,
      error: obs.ok ? null : { code: obs.code, message: obs.message },
    };
  }

  #emit(e: DaemonEvent): void {
    for (const fn of [...this.#listeners.event]) this.#call(() => fn(e));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, 'listener threw');
    }
  }
}

function checkPositive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new ControllerConfigError(`controller option ${name}=${v}: must be a finite number > 0`);
  return v;
}
