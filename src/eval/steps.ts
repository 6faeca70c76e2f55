/**
 * The steps of a scenario on a live emulated host: measure each Guarantee VM's demand alone,
 * and run one policy through the plan's sessions (plan.ts) while a sampler records the
 * counters. The runner (runner.ts) calls these one policy after the other and judges the
 * recordings.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Testbed, TrafficHandle, TrafficOptions } from '../testbed/index.ts';
import { bytesDeltaRateBps } from '../units/counter-rate.ts';
import type { PhaseWindow, PolicyRecording, RawSample } from './analyze.ts';
import type { PlannedPhase, PlannedSession, VmSpec } from './plan.ts';
import type { ControlledPolicy } from './policies.ts';
import { startSampler, type CounterSource, type NowMs } from './sampler.ts';
import type { ExperimentOptions } from './scenarios.ts';

/** What the progress display shows after every sample. */
export interface ProgressEvent {
  readonly policy: string;
  /** "D_G: G alone", "guarantee 10 Gbit/s", "#4 +BE7 BE30", ... */
  readonly step: string;
  readonly stepElapsedS: number;
  /** Latest per-VM rates, emulated bits/s (index = VM index). */
  readonly ratesBps: readonly number[];
  /** Per VM: its label ("G", "G2", "BE3") and role. */
  readonly vms: readonly Pick<VmSpec, 'label' | 'role'>[];
  readonly scale: number;
  /** Policies done / to run, for an overall position. */
  readonly policyIndex: number;
  readonly policyCount: number;
}

/** What the steps need: the options, the live host, where samples come from, and hooks. */
export interface Ctx {
  readonly o: ExperimentOptions;
  readonly tb: Testbed;
  readonly vms: readonly VmSpec[];
  readonly sessions: readonly PlannedSession[];
  /** Where samples come from: the fast /proc path, or the testbed's own reader. */
  readonly counters: CounterSource;
  readonly scale: number;
  readonly now: NowMs;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((e: ProgressEvent) => void) | undefined;
  readonly settleMs: number;
}

/** iperf2 settings of a VM: its threads, and its demand cap split over them (-b is per thread). */
export function trafficOf(vm: VmSpec, scale: number): TrafficOptions {
  const cap = vm.demandCapPaperBps;
  return cap === null ? { threads: vm.threads } : { threads: vm.threads, perThreadRateBps: cap / scale / vm.threads };
}

/** Puts the host back to "no policy": no traffic, no VF limits, the plain port. */
export async function resetHost(tb: Testbed): Promise<void> {
  await tb.stopAllTraffic();
  await tb.setPortScheduler(null);
  for (const vm of tb.vms) await tb.setVfLimit(vm.index, null);
}

/** Samples one policy's run and notes when each phase and reclaim window began and ended. */
export class Recorder {
  readonly phases: PhaseWindow[] = [];
  readonly tails: PolicyRecording['tails'][number][] = [];
  step = 'starting';
  private stepStartMs: number;
  private readonly sampler;

  constructor(private readonly c: Ctx, private readonly policy: string, policyIndex: number, policyCount: number) {
    this.stepStartMs = c.now();
    this.sampler = startSampler(c.counters, c.o.periodMs, (s, all) => {
      const prev = all[all.length - 2];
      if (!prev || !c.onProgress) return;
      const dtMs = s.atMs - prev.atMs;
      const ratesBps = s.counters.map((b, i) => bytesDeltaRateBps(prev.counters[i] ?? b, b, dtMs) ?? 0);
      c.onProgress({ policy: this.policy, step: this.step, stepElapsedS: (c.now() - this.stepStartMs) / 1000, ratesBps, vms: c.vms, scale: c.scale, policyIndex, policyCount });
    }, c.now);
  }

  setStep(step: string): void {
    this.step = step;
    this.stepStartMs = this.c.now();
  }

  async finish(): Promise<PolicyRecording> {
    await this.sampler.stop();
    return { samples: [...this.sampler.samples] as RawSample[], phases: this.phases, tails: this.tails };
  }

  async abandon(): Promise<void> {
    await this.sampler.stop().catch(() => undefined);
  }
}

async function wait(c: Ctx, ms: number): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, c.signal ? { signal: c.signal } : {});
}

function windowOf(p: PlannedPhase, startMs: number, endMs: number, scale: number): PhaseWindow {
  return {
    index: p.index,
    label: p.label,
    startMs,
    endMs,
    gVms: p.gVms.map((s) => ({ vmIndex: s.vmIndex, guaranteeBps: s.guaranteePaperBps / scale })),
    activeBeVms: p.beVms.length,
    reactionVms: p.reactionVms,
  };
}

/** Measures what each Guarantee VM sends alone with no policy (D_G): one calibration phase per Guarantee VM. */
export async function recordDemand(c: Ctx): Promise<PolicyRecording> {
  const rec = new Recorder(c, 'calibration', 0, c.o.policies.length);
  try {
    for (const [index, vm] of c.vms.filter((v) => v.role === 'guarantee').entries()) {
      rec.setStep(`D_G: ${vm.label} alone`);
      const h = await c.tb.startTraffic(vm.index, trafficOf(vm, c.scale));
      const startMs = c.now();
      await wait(c, c.o.phaseSeconds * 1000);
      rec.phases.push({ index, label: `D_G ${vm.label}`, startMs, endMs: c.now(), gVms: [{ vmIndex: vm.index, guaranteeBps: 0 }], activeBeVms: 0, reactionVms: [] });
      await h.stop();
    }
    return await rec.finish();
  } finally {
    await rec.abandon();
    await c.tb.stopAllTraffic();
  }
}

/** Runs one session: start the policy, play the changes, record phases and reclaim windows, stop everything. */
async function runSession(c: Ctx, policy: ControlledPolicy, rec: Recorder, session: PlannedSession): Promise<void> {
  const slas = session.slas.map((s) => ({ vmIndex: s.vmIndex, guaranteeBps: s.guaranteePaperBps / c.scale }));
  rec.setStep(`${session.changes[0]?.step ?? 'session'}: starting policy`);
  const running = await policy.start(c.tb, slas);
  const senders = new Map<number, TrafficHandle>();
  try {
    for (const ch of session.changes) {
      await Promise.all(ch.stop.map(async (vm) => {
        await senders.get(vm)?.stop();
        senders.delete(vm);
      }));
      // Started together, so a burst of Best-Effort VMs arrives at once as it would in a host.
      const handles = await Promise.all(ch.start.map((vm) => c.tb.startTraffic(vm, trafficOf(c.vms[vm] as VmSpec, c.scale))));
      ch.start.forEach((vm, k) => senders.set(vm, handles[k] as TrafficHandle));
      const startMs = c.now();
      rec.setStep(ch.step);
      // A phase lasts its hold; the analysis drops its first warmup-seconds.
      await wait(c, ch.holdMs);
      const endMs = c.now();
      if (ch.phase) rec.phases.push(windowOf(ch.phase, startMs, endMs, c.scale));
      if (ch.reclaim) rec.tails.push({ phaseIndex: ch.reclaim.phaseIndex, startMs, endMs, gVms: ch.reclaim.gVms });
    }
  } finally {
    await c.tb.stopAllTraffic();
    await running.stop();
  }
  rec.setStep('settling');
  await wait(c, c.settleMs);
}

/** Runs one policy through every session of the plan. */
export async function runPlan(c: Ctx, policy: ControlledPolicy, rec: Recorder): Promise<void> {
  for (const session of c.sessions) await runSession(c, policy, rec, session);
}
