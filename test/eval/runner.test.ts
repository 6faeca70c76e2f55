/**
 * The runner against a fluid fake of the emulated host (a real implementation of Testbed:
 * counters grow with the traffic it carries, VF limits and the port scheduler shape it).
 * Checks structure and clean-up, never timing: phases are a fraction of a second.
 */
import { describe, expect, it } from 'vitest';
import type { Testbed, TestbedVm, TrafficHandle, TrafficOptions } from '../../src/testbed/index.ts';
import { policyByName, type ControlledPolicy, type PolicyName } from '../../src/eval/policies.ts';
import { runExperiment, type RunnerDeps } from '../../src/eval/runner.ts';
import { validateResult } from '../../src/eval/result.ts';
import { planSessions } from '../../src/eval/plan.ts';
import { defaultOptions, type ExperimentOptions } from '../../src/eval/scenarios.ts';

/** Port shared by thread count, each sender held to its -b rate and its VF limit. */
class FluidTestbed implements Testbed {
  readonly name = 'fake';
  readonly capacityBps = 2e9;
  readonly vms: readonly TestbedVm[];
  readonly remote = { netns: 'fake-rem', ip: '10.77.0.254' };
  readonly senders = new Map<number, TrafficOptions>();
  readonly limits = new Map<number, number>();
  scheduler: { vmIndex: number; rateBps: number }[] | null = null;
  downCalls = 0;
  private readonly bytes: number[];
  private portBytes = 0;
  private lastMs = performance.now();

  constructor(vmCount: number) {
    this.vms = Array.from({ length: vmCount }, (_, index) => ({ index, id: `fake-vm${index}`, netns: `fake-vm${index}`, iface: 'eth0', mac: '02:00:00:00:00:00', ip: `10.77.0.${index + 1}`, agentSocket: '/nonexistent' }));
    this.bytes = this.vms.map(() => 0);
  }

  /** Rates now: guarantees of the scheduler first, then the rest by threads, each under its own ceiling. */
  ratesBps(): number[] {
    const ceil = (i: number): number => {
      const s = this.senders.get(i);
      if (!s) return 0;
      const app = s.perThreadRateBps === undefined ? Infinity : s.perThreadRateBps * s.threads;
      return Math.min(app, this.limits.get(i) ?? Infinity);
    };
    const rates = this.vms.map(() => 0);
    let left = this.capacityBps;
    for (const c of this.scheduler ?? []) {
      const r = Math.min(c.rateBps, ceil(c.vmIndex));
      rates[c.vmIndex] = r;
      left -= r;
    }
    // Water-fill the rest by thread count.
    let open = this.vms.map((v) => v.index).filter((i) => this.senders.has(i) && (rates[i] ?? 0) < ceil(i));
    while (left > 1 && open.length > 0) {
      const threads = open.reduce((a, i) => a + (this.senders.get(i)?.threads ?? 0), 0);
      let used = 0;
      for (const i of open) {
        const add = Math.min((left * (this.senders.get(i)?.threads ?? 0)) / threads, ceil(i) - (rates[i] ?? 0));
        rates[i] = (rates[i] ?? 0) + add;
        used += add;
      }
      left -= used;
      open = open.filter((i) => (rates[i] ?? 0) < ceil(i) - 1);
      if (used < 1) break;
    }
    return rates;
  }

  private advance(): void {
    const now = performance.now();
    const dtS = (now - this.lastMs) / 1000;
    this.lastMs = now;
    this.ratesBps().forEach((r, i) => {
      this.bytes[i] = (this.bytes[i] ?? 0) + (r * dtS) / 8;
      this.portBytes += (r * dtS) / 8;
    });
  }

  startTraffic(vmIndex: number, opts: TrafficOptions): Promise<TrafficHandle> {
    this.advance();
    this.senders.set(vmIndex, opts);
    return Promise.resolve({
      stop: () => {
        this.advance();
        this.senders.delete(vmIndex);
        return Promise.resolve();
      },
    });
  }
  stopAllTraffic(): Promise<void> {
    this.advance();
    this.senders.clear();
    return Promise.resolve();
  }
  readHostTxBytes(vmIndex: number): Promise<bigint> {
    this.advance();
    return Promise.resolve(BigInt(Math.floor(this.bytes[vmIndex] ?? 0)));
  }
  readAllHostTxBytes(): Promise<bigint[]> {
    this.advance();
    return Promise.resolve(this.bytes.map((b) => BigInt(Math.floor(b))));
  }
  readPortTxBytes(): Promise<bigint> {
    this.advance();
    return Promise.resolve(BigInt(Math.floor(this.portBytes)));
  }
  setVfLimit(vmIndex: number, capBps: number | null): Promise<void> {
    this.advance();
    if (capBps === null) this.limits.delete(vmIndex);
    else this.limits.set(vmIndex, capBps);
    return Promise.resolve();
  }
  setPortScheduler(classes: { vmIndex: number; rateBps: number }[] | null): Promise<void> {
    this.advance();
    this.scheduler = classes;
    return Promise.resolve();
  }
  down(): Promise<void> {
    this.downCalls += 1;
    return Promise.resolve();
  }
}

const QUICK: Partial<ExperimentOptions> = { phaseSeconds: 0.6, warmupSeconds: 0.2, leadSeconds: 0.1, reclaimSeconds: 0.3, periodMs: 50, tickMs: 50 };

// The fake host has no guest agents: the controller policies stand in as one that fails to start.
const noAgents: ControlledPolicy = { start: () => Promise.reject(Object.assign(new Error('no agents on a fake host'), { code: 'E_FAKE_NO_AGENT' })) };
const policyFor = (name: PolicyName): ControlledPolicy => (name === 'paper' || name === 'daqs' ? noAgents : policyByName(name));

function deps(tb: FluidTestbed, extra: Partial<RunnerDeps> = {}): RunnerDeps {
  return { testbedUp: () => Promise.resolve(tb), policyFor, settleMs: 50, ...extra };
}

describe('runExperiment on a fluid fake host', () => {
  it('runs baseline first, records a policy that fails to start, carries on, and leaves the host clean', async () => {
    const tb = new FluidTestbed(2);
    const o: ExperimentOptions = { ...defaultOptions('contention'), ...QUICK, guaranteesPaperBps: [10e9, 30e9], policies: ['static', 'daqs', 'oracle'] };
    const r = await runExperiment(o, deps(tb));
    expect(r.policies.map((p) => p.name)).toEqual(['baseline', 'static', 'daqs', 'oracle']);
    expect(r.policies.find((p) => p.name === 'daqs')?.error?.code).toBe('E_FAKE_NO_AGENT');
    for (const name of ['baseline', 'static', 'oracle']) {
      const p = r.policies.find((q) => q.name === name);
      expect(p?.error).toBeNull();
      expect(p?.phases.map((ph) => ph.label)).toEqual(['10 Gbit/s', '30 Gbit/s']);
    }
    // Static caps the BE VF at C − guarantee: at 30 Gbit/s (paper) it gets 10 of 40.
    const static30 = r.policies.find((p) => p.name === 'static')?.phases[1];
    expect((static30?.be.paperBps ?? 0) / 1e9).toBeLessThan(10.5);
    // The fake's oracle keeps the guarantee, up to G's 18.5 Gbit/s demand.
    const oracle30 = r.policies.find((p) => p.name === 'oracle')?.phases[1];
    expect(oracle30?.attainment).toBeGreaterThan(0.9);
    expect(tb.downCalls).toBe(1);
    expect(tb.senders.size).toBe(0);
    expect(tb.limits.size).toBe(0);
    expect(tb.scheduler).toBeNull();
    // Only the failed policy makes the result incomplete.
    expect(() => validateResult(JSON.parse(JSON.stringify(r)))).toThrow(/policy daqs failed: E_FAKE_NO_AGENT/);
  }, 30_000);

  it('keeps the phases measured before a policy failed, and marks it failed', async () => {
    const tb = new FluidTestbed(2);
    let starts = 0;
    // Starts fine for the first guarantee; its stop fails, as a controller that cannot lift a cap would.
    const flaky: ControlledPolicy = { start: () => { starts += 1; return Promise.resolve({ stop: () => Promise.reject(Object.assign(new Error('cap stuck'), { code: 'E_FAKE_STUCK' })) }); } };
    const o: ExperimentOptions = { ...defaultOptions('contention'), ...QUICK, guaranteesPaperBps: [10e9, 30e9], policies: ['baseline', 'daqs'] };
    const r = await runExperiment(o, deps(tb, { policyFor: (n) => (n === 'daqs' ? flaky : policyByName(n)) }));
    const daqs = r.policies.find((p) => p.name === 'daqs');
    expect(starts).toBe(1);
    expect(daqs?.error?.code).toBe('E_FAKE_STUCK');
    expect(daqs?.phases.map((p) => p.label)).toEqual(['10 Gbit/s']);
    expect(() => validateResult(JSON.parse(JSON.stringify(r)))).toThrow(/policy daqs: phases \[0\], expected \[0,1\]/);
    expect(tb.downCalls).toBe(1);
  }, 30_000);

  it('a complete run validates', async () => {
    const tb = new FluidTestbed(3);
    const o: ExperimentOptions = { ...defaultOptions('adaptability'), ...QUICK, beVms: 2, policies: ['baseline', 'static', 'oracle'] };
    const r = await runExperiment(o, deps(tb));
    expect(validateResult(JSON.parse(JSON.stringify(r))).phases.map((p) => p.label)).toEqual(['0 BE sending', '1 BE sending', '2 BE sending']);
  }, 30_000);

  it('multi: every Guarantee VM judged against its own guarantee; static caps each BE VF at (C − Σ guarantees) / n_BE', async () => {
    const tb = new FluidTestbed(6);
    const o: ExperimentOptions = { ...defaultOptions('multi'), ...QUICK, policies: ['baseline', 'static', 'oracle'] };
    const r = validateResult(JSON.parse(JSON.stringify(await runExperiment(o, deps(tb)))));
    expect(r.series.vms.map((v) => v.label)).toEqual(['G1', 'G2', 'G3', 'BE1', 'BE2', 'BE3']);
    const last = (name: string) => r.policies.find((p) => p.name === name)?.phases.at(-1);
    // Each Guarantee VM, in paper units: 5, 10, 15 Gbit/s.
    expect(last('oracle')?.gVms.map((v) => v.guarantee.paperBps)).toEqual([5e9, 10e9, 15e9]);
    // The fake's oracle holds every guarantee; with no control 19 threads share the port and G3 (3 threads) falls short.
    for (const v of last('oracle')?.gVms ?? []) expect(v.attainment).toBeGreaterThan(0.9);
    const g3 = last('baseline')?.gVms.find((v) => v.vmIndex === 2);
    expect(g3?.attainment).toBeLessThan(0.6);
    expect(last('baseline')?.attainment).toBe(Math.min(...(last('baseline')?.gVms.map((v) => v.attainment) ?? [])));
    // Static: (40 − 30) / 3 Gbit/s per BE VF, all three BE VFs together at most 10 of 40.
    expect((last('static')?.be.paperBps ?? 0) / 1e9).toBeLessThan(10.5);
    const summary = r.policies.find((p) => p.name === 'baseline')?.summary;
    expect(summary?.minAttainmentByVm.map((v) => v.vmIndex)).toEqual([0, 1, 2]);
    expect(summary?.minAttainment).toBe(Math.min(...(summary?.minAttainmentByVm.map((v) => v.minAttainment) ?? [])));
    expect(tb.limits.size).toBe(0);
    expect(tb.scheduler).toBeNull();
  }, 30_000);

  it('churn: one phase per change of the seeded schedule, reclaim where a Guarantee VM stopped, the host left clean', async () => {
    const tb = new FluidTestbed(12);
    const o: ExperimentOptions = { ...defaultOptions('churn'), ...QUICK, beVms: 9, changes: 6, maxSenders: 5, policies: ['baseline', 'static', 'oracle'] };
    const r = validateResult(JSON.parse(JSON.stringify(await runExperiment(o, deps(tb)))));
    const planned = (planSessions(o)[0]?.changes ?? []).filter((c) => c.phase);
    expect(r.phases.map((p) => p.label)).toEqual(planned.map((c) => c.phase?.label));
    for (const pol of r.policies) {
      expect(pol.phases.map((p) => p.reclaim !== undefined)).toEqual(planned.map((c) => c.reclaim !== undefined));
      expect(pol.phases.map((p) => p.gVms.map((v) => v.vmIndex))).toEqual(planned.map((c) => c.phase?.gVms.map((g) => g.vmIndex)));
    }
    // The same seed plays the same schedule for every policy: each has the baseline's phases.
    expect(new Set(r.policies.map((p) => p.phases.map((ph) => ph.activeBeVms).join(',')))).toHaveProperty('size', 1);
    expect(tb.senders.size).toBe(0);
    expect(tb.limits.size).toBe(0);
    expect(tb.downCalls).toBe(1);
  }, 30_000);

  it('an abort takes the host down and says so', async () => {
    const tb = new FluidTestbed(2);
    const abort = new AbortController();
    const o: ExperimentOptions = { ...defaultOptions('contention'), ...QUICK, guaranteesPaperBps: [10e9] };
    const run = runExperiment(o, deps(tb, { signal: abort.signal, onProgress: (e) => { if (e.policy === 'baseline') abort.abort(); } }));
    await expect(run).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(tb.downCalls).toBe(1);
    expect(tb.senders.size).toBe(0);
  }, 30_000);
});
