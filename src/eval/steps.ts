/**
 * The steps of a scenario on a live emulated host: measure G's demand alone, and run one
 * policy through contention's or adaptability's phases while a sampler records the counters.
 * The runner (runner.ts) calls these one policy after the other and judges the recordings.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Testbed, TrafficOptions } from '../testbed/index.ts';
import { bytesDeltaRateBps } from '../units/counter-rate.ts';
import type { PhaseWindow, PolicyRecording, RawSample, TailWindow } from './analyze.ts';
import type { ControlledPolicy, ExperimentSla } from './policies.ts';
import { startSampler, type CounterSource, type NowMs } from './sampler.ts';
import { planPhases, type ExperimentOptions, type PlannedPhase } from './scenarios.ts';

/** What the progress display shows after every sample. */
export interface ProgressEvent {
  readonly policy: string;
  /** "D_G alone", "phase 10 Gbit/s", "reclaim", ... */
  readonly step: string;
  readonly stepElapsedS: number;
  /** Latest per-VM rates, emulated bits/s (VM 0 is the Guarantee VM). */
  readonly ratesBps: readonly number[];
  readonly scale: number;
  /** Policies done / to run, for an overall position. */
  readonly policyIndex: number;
  readonly policyCount: number;
}

/** Pause between policy runs and contention phases so queues drain and rates fall to zero. */
export const SETTLE_MS = 1000;

/** What the steps need: the options, the live host, where samples come from, and hooks. */
export interface Ctx {
  readonly o: ExperimentOptions;
  readonly tb: Testbed;
  /** Where samples come from: the fast /proc path, or the testbed's own reader. */
  readonly counters: CounterSource;
  readonly scale: number;
  readonly now: NowMs;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((e: ProgressEvent) => void) | undefined;
  readonly settleMs: number;
}

function gTraffic(c: Ctx): TrafficOptions {
  const cap = c.o.gDemandCapPaperBps;
  // iperf2 -b is per thread: the demand cap is split over the Guarantee VM's threads.
  return cap === null ? { threads: c.o.gThreads } : { threads: c.o.gThreads, perThreadRateBps: cap / c.scale / c.o.gThreads };
}

function beTraffic(c: Ctx): TrafficOptions {
  return { threads: c.o.beThreads };
}

/** Puts the host back to "no policy": no traffic, no VF limits, the plain port. */
export async function resetHost(tb: Testbed): Promise<void> {
  await tb.stopAllTraffic();
  await tb.setPortScheduler(null);
  for (const vm of tb.vms) await tb.setVfLimit(vm.index, null);
}

/** Samples one policy's run and notes when each phase and reclaim tail began and ended. */
export class Recorder {
  readonly phases: PhaseWindow[] = [];
  readonly tails: TailWindow[] = [];
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
      c.onProgress({ policy: this.policy, step: this.step, stepElapsedS: (c.now() - this.stepStartMs) / 1000, ratesBps, scale: c.scale, policyIndex, policyCount });
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

function slasFor(c: Ctx, p: PlannedPhase): ExperimentSla[] {
  return [{ vmIndex: 0, guaranteeBps: p.guaranteePaperBps / c.scale }];
}

async function wait(c: Ctx, ms: number): Promise<void> {
  await sleep(ms, undefined, c.signal ? { signal: c.signal } : {});
}

/** Measures what the Guarantee VM sends alone with no policy (D_G). */
export async function recordDemand(c: Ctx): Promise<PolicyRecording> {
  const rec = new Recorder(c, 'calibration', 0, c.o.policies.length);
  try {
    rec.setStep('D_G: Guarantee VM alone');
    await c.tb.startTraffic(0, gTraffic(c));
    const startMs = c.now();
    await wait(c, c.o.phaseSeconds * 1000);
    rec.phases.push({ index: 0, label: 'D_G', startMs, endMs: c.now(), guaranteeBps: 1, activeBeVms: 0, reaction: false });
    await c.tb.stopAllTraffic();
    return await rec.finish();
  } finally {
    await rec.abandon();
    await c.tb.stopAllTraffic();
  }
}

/** Contention: per guarantee, start the policy, G alone, then the BE VM(s); then G stops (reclaim). */
export async function runContention(c: Ctx, policy: ControlledPolicy, rec: Recorder): Promise<void> {
  for (const p of planPhases(c.o)) {
    rec.setStep(`${p.label}: starting policy`);
    const running = await policy.start(c.tb, slasFor(c, p));
    try {
      rec.setStep(`${p.label}: G alone`);
      const g = await c.tb.startTraffic(0, gTraffic(c));
      await wait(c, c.o.leadSeconds * 1000);
      for (let vm = 1; vm <= p.activeBeVms; vm++) await c.tb.startTraffic(vm, beTraffic(c));
      const startMs = c.now();
      rec.setStep(`guarantee ${p.label}`);
      // A phase lasts phase-seconds; its first warmup-seconds are dropped by the analysis.
      await wait(c, c.o.phaseSeconds * 1000);
      rec.phases.push({ index: p.index, label: p.label, startMs, endMs: c.now(), guaranteeBps: p.guaranteePaperBps / c.scale, activeBeVms: p.activeBeVms, reaction: true });
      if (c.o.reclaimSeconds > 0) {
        await g.stop();
        const tailStart = c.now();
        rec.setStep(`${p.label}: G stopped, reclaim`);
        await wait(c, c.o.reclaimSeconds * 1000);
        rec.tails.push({ phaseIndex: p.index, startMs: tailStart, endMs: c.now() });
      }
    } finally {
      await c.tb.stopAllTraffic();
      await running.stop();
    }
    rec.setStep('settling');
    await wait(c, c.settleMs);
  }
}

/** Adaptability: G from the start, one more BE VM per phase; after the last, G stops (reclaim). */
export async function runAdaptability(c: Ctx, policy: ControlledPolicy, rec: Recorder): Promise<void> {
  const phases = planPhases(c.o);
  const first = phases[0] as PlannedPhase;
  const running = await policy.start(c.tb, slasFor(c, first));
  try {
    const g = await c.tb.startTraffic(0, gTraffic(c));
    for (const p of phases) {
      // Phase n: the n-th Best-Effort VM starts sending (VM index n); earlier ones keep going.
      if (p.activeBeVms > 0) await c.tb.startTraffic(p.activeBeVms, beTraffic(c));
      const startMs = c.now();
      rec.setStep(p.label);
      await wait(c, c.o.phaseSeconds * 1000);
      rec.phases.push({ index: p.index, label: p.label, startMs, endMs: c.now(), guaranteeBps: p.guaranteePaperBps / c.scale, activeBeVms: p.activeBeVms, reaction: p.activeBeVms > 0 });
    }
    if (c.o.reclaimSeconds > 0) {
      await g.stop();
      const tailStart = c.now();
      rec.setStep('G stopped, reclaim');
      await wait(c, c.o.reclaimSeconds * 1000);
      rec.tails.push({ phaseIndex: (phases[phases.length - 1] as PlannedPhase).index, startMs: tailStart, endMs: c.now() });
    }
  } finally {
    await c.tb.stopAllTraffic();
    await running.stop();
  }
  rec.setStep('settling');
  await wait(c, c.settleMs);
}
