import { describe, expect, it } from 'vitest';
import { parseExperimentArgs } from '../../src/cli/commands/experiment.ts';
import { analyzeRecording, judgePhases, seriesOf, type PhaseWindow, type PolicyRecording, type RawSample } from '../../src/eval/analyze.ts';
import { estimateSeconds, planPhases, planSessions, vmSpecsOf } from '../../src/eval/plan.ts';
import { PolicyError, staticCapsBps } from '../../src/eval/policies.ts';
import { runOrder } from '../../src/eval/runner.ts';
import { defaultOptions, ExperimentOptionError, scaleOf, validateOptions, type ExperimentOptions } from '../../src/eval/scenarios.ts';

describe('staticCapsBps (the ip link max_tx_rate practice)', () => {
  it.each([
    { name: 'contention: BE cap = C − guarantee', vms: 2, g: 0.5e9, want: [{ vmIndex: 1, capBps: 1.5e9 }] },
    { name: 'adaptability: (C − guarantee) / 7 per BE VF', vms: 8, g: 0.5e9, want: Array.from({ length: 7 }, (_, i) => ({ vmIndex: i + 1, capBps: 1.5e9 / 7 })) },
  ])('$name', ({ vms, g, want }) => {
    expect(staticCapsBps(2e9, vms, [{ vmIndex: 0, guaranteeBps: g }])).toEqual(want);
  });
  it('multi: (C − Σ guarantees) / number of BE VFs, Guarantee VFs uncapped', () => {
    const slas = [0.25e9, 0.5e9, 0.75e9].map((guaranteeBps, vmIndex) => ({ vmIndex, guaranteeBps }));
    expect(staticCapsBps(2e9, 6, slas)).toEqual([3, 4, 5].map((vmIndex) => ({ vmIndex, capBps: 0.5e9 / 3 })));
  });
  it('refuses guarantees that leave nothing', () => {
    expect(() => staticCapsBps(2e9, 2, [{ vmIndex: 0, guaranteeBps: 2e9 }])).toThrow(PolicyError);
  });
  it('baseline always runs first', () => {
    expect(runOrder(['oracle', 'static'])).toEqual(['baseline', 'oracle', 'static']);
    expect(runOrder(['daqs', 'baseline'])).toEqual(['baseline', 'daqs']);
  });
});

describe('planPhases', () => {
  it('contention: one phase per guarantee, paper units', () => {
    const phases = planPhases(defaultOptions('contention'));
    expect(phases.map((p) => p.label)).toEqual(['10 Gbit/s', '15 Gbit/s', '20 Gbit/s', '25 Gbit/s', '30 Gbit/s']);
    expect(phases.every((p) => p.beVms.length === 1)).toBe(true);
    expect(phases.map((p) => p.gVms)).toEqual([10e9, 15e9, 20e9, 25e9, 30e9].map((g) => [{ vmIndex: 0, guaranteePaperBps: g }]));
  });
  it('contention: per guarantee its own policy start; G alone, then BE (the phase, reaction of G), then G stops (reclaim)', () => {
    const sessions = planSessions(defaultOptions('contention'));
    expect(sessions).toHaveLength(5);
    expect(sessions[1]?.changes.map((c) => ({ start: c.start, stop: c.stop, holdMs: c.holdMs, phase: c.phase?.index, reaction: c.phase?.reactionVms, reclaim: c.reclaim }))).toEqual([
      { start: [0], stop: [], holdMs: 1000, phase: undefined, reaction: undefined, reclaim: undefined },
      { start: [1], stop: [], holdMs: 10_000, phase: 1, reaction: [0], reclaim: undefined },
      { start: [], stop: [0], holdMs: 3000, phase: undefined, reaction: undefined, reclaim: { phaseIndex: 1, gVms: [] } },
    ]);
  });
  it('adaptability: 8 phases from 0 to 7 Best-Effort VMs sending, guarantee 10 Gbit/s', () => {
    const phases = planPhases(defaultOptions('adaptability'));
    expect(phases.map((p) => p.beVms.length)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(phases.map((p) => p.gVms[0]?.guaranteePaperBps))).toEqual(new Set([10e9]));
  });
  it('multi: three Guarantee VMs with their own guarantees and threads; one more BE VM per phase; then all G stop', () => {
    const o = defaultOptions('multi');
    const vms = vmSpecsOf(o);
    expect(vms.map((v) => [v.label, v.role, v.threads])).toEqual([
      ['G1', 'guarantee', 1], ['G2', 'guarantee', 2], ['G3', 'guarantee', 3], ['BE1', 'best-effort', 1], ['BE2', 'best-effort', 4], ['BE3', 'best-effort', 8],
    ]);
    const phases = planPhases(o);
    expect(phases.map((p) => p.beVms)).toEqual([[], [3], [3, 4], [3, 4, 5]]);
    for (const p of phases) expect(p.gVms).toEqual([{ vmIndex: 0, guaranteePaperBps: 5e9 }, { vmIndex: 1, guaranteePaperBps: 10e9 }, { vmIndex: 2, guaranteePaperBps: 15e9 }]);
    // Every Guarantee VM's reaction is measured where a Best-Effort VM joins.
    expect(phases.map((p) => p.reactionVms)).toEqual([[], [0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    const [session] = planSessions(o);
    expect(session?.changes.at(-1)).toMatchObject({ stop: [0, 1, 2], reclaim: { phaseIndex: 3, gVms: [] } });
  });
  it('a thread list shorter than the VMs repeats', () => {
    const vms = vmSpecsOf({ ...defaultOptions('adaptability'), beThreads: [1, 3] });
    expect(vms.slice(1).map((v) => v.threads)).toEqual([1, 3, 1, 3, 1, 3, 1]);
  });
  it('churn: a phase per change; reaction where something started, reclaim where a G VM stopped with BE sending', () => {
    const o = defaultOptions('churn');
    expect(vmSpecsOf(o)).toHaveLength(64);
    const [session] = planSessions(o);
    const [lead, ...changes] = session?.changes ?? [];
    // First the policy runs with every VM idle; then the start and the changes.
    expect(lead).toMatchObject({ start: [], stop: [], holdMs: o.leadSeconds * 1000 });
    expect(lead?.phase).toBeUndefined();
    expect(changes).toHaveLength(o.changes + 1);
    expect(planPhases(o).map((p) => p.index)).toEqual(changes.map((_, i) => i));
    const sending = new Set<number>();
    for (const ch of changes) {
      for (const v of ch.stop) sending.delete(v);
      for (const v of ch.start) sending.add(v);
      const p = ch.phase;
      expect(p?.gVms.map((g) => g.vmIndex)).toEqual([0, 1, 2].filter((v) => sending.has(v)));
      expect(p?.beVms).toEqual([...sending].filter((v) => v > 2).sort((a, b) => a - b));
      expect(p?.reactionVms).toEqual(ch.start.length > 0 ? p?.gVms.map((g) => g.vmIndex) : []);
      const gStopped = ch.stop.some((v) => v <= 2);
      expect(ch.reclaim !== undefined).toBe(gStopped && (p?.beVms.length ?? 0) > 0);
      if (ch.reclaim) expect(ch.reclaim.gVms).toEqual(p?.gVms.map((g) => g.vmIndex));
    }
  });
  it('estimates a run from the plan itself', () => {
    const o: ExperimentOptions = { ...defaultOptions('multi'), policies: ['baseline', 'oracle'] };
    // D_G: 3 × 10 s + settle; per policy 4 phases × 10 s + 3 s reclaim + settle; + 15 s.
    expect(estimateSeconds(o, 1000)).toBe(31 + 2 * 44 + 15);
  });
  it('scale is 40 Gbit/s over the emulated capacity', () => {
    expect(scaleOf({ capacityBps: 2e9 })).toBe(20);
    expect(scaleOf({ capacityBps: 4e9 })).toBe(10);
  });
  it.each([
    { change: { warmupSeconds: 10 }, option: 'warmup-seconds' },
    { change: { guaranteesPaperBps: [45e9] }, option: 'guarantees' },
    { change: { beVms: 0 }, option: 'be-vms' },
    { change: { phaseSeconds: 0.3, warmupSeconds: 0 }, option: 'phase-seconds' },
    { change: { gThreads: [1, 0] }, option: 'g-threads' },
    { scenario: 'multi' as const, change: { guaranteesPaperBps: [20e9, 20e9] }, option: 'guarantees' },
    { scenario: 'churn' as const, change: { maxSenders: 3 }, option: 'max-senders' },
    { scenario: 'churn' as const, change: { phaseSeconds: 3, warmupSeconds: 1.5 }, option: 'warmup-seconds' },
    { scenario: 'churn' as const, change: { beVms: 248 }, option: 'be-vms' },
    { scenario: 'multi' as const, change: { beVms: 30 }, option: 'be-vms' },
  ])('rejects a bad --$option', ({ scenario, change, option }) => {
    const o = { ...defaultOptions(scenario ?? 'contention'), ...change };
    expect(() => validateOptions(o)).toThrow(ExperimentOptionError);
    expect(() => validateOptions(o)).toThrow(`--${option}`);
  });
});

describe('parseExperimentArgs', () => {
  it('reads paper-unit rates and lists', () => {
    const a = parseExperimentArgs(['contention', '--policies', 'baseline,oracle', '--guarantees', '10gbit,20gbit', '--capacity', '4gbit', '--phase-seconds', '6', '--json', '--out', '/tmp/o']);
    expect(a.options).toMatchObject({ scenario: 'contention', policies: ['baseline', 'oracle'], guaranteesPaperBps: [10e9, 20e9], capacityBps: 4e9, phaseSeconds: 6 });
    expect(a).toMatchObject({ json: true, outDir: '/tmp/o' });
  });
  it('reads thread lists and the churn options', () => {
    const a = parseExperimentArgs(['churn', '--vms', '20', '--g-threads', '2,1', '--be-threads', '1,2', '--seed', '7', '--changes', '5', '--max-senders', '6']);
    expect(a.options).toMatchObject({ scenario: 'churn', beVms: 17, gThreads: [2, 1], beThreads: [1, 2], seed: 7, changes: 5, maxSenders: 6 });
    expect(parseExperimentArgs(['multi', '--guarantees', '5gbit,10gbit']).options).toMatchObject({ guaranteesPaperBps: [5e9, 10e9], beVms: 3 });
  });
  it('uncapped variant drops the demand cap', () => {
    expect(parseExperimentArgs(['contention', '--g-uncapped']).options.gDemandCapPaperBps).toBeNull();
    expect(parseExperimentArgs(['contention']).options.gDemandCapPaperBps).toBe(18.5e9);
  });
  it.each([
    { args: ['nope'], want: /unknown scenario "nope": one of contention, adaptability/ },
    { args: ['contention', '--policies', 'baseline,magic'], want: /unknown magic/ },
    { args: ['contention', '--guarantees', '10'], want: /give a unit/ },
    { args: ['contention', '--phase-seconds', 'ten'], want: /--phase-seconds: "ten" is not a number/ },
    { args: ['adaptability', '--g-uncapped', '--g-demand', '10gbit'], want: /contradict/ },
    { args: ['churn', '--vms', '3'], want: /--vms: 3 leaves no Best-Effort VM/ },
    { args: ['multi', '--vms', '8'], want: /--vms is for churn/ },
    { args: ['multi', '--be-threads', '1,x'], want: /--be-threads: "x" is not a whole number from 1 to 64/ },
  ])('refuses $args', ({ args, want }) => {
    expect(() => parseExperimentArgs(args)).toThrow(want);
  });
});

describe('analyzeRecording and judgePhases', () => {
  const perSample = (bps: number): bigint => BigInt(Math.round((bps / 8) * 0.2));
  /** VMs sampled every 200 ms for 4 s at the given rates (by sample), the port delivering `portBps`. */
  function recordingOf(vmBps: readonly ((i: number) => number)[], portBps: number, window: Partial<PhaseWindow> = {}): PolicyRecording {
    const samples: RawSample[] = [];
    const counters = vmBps.map(() => 0n);
    let port = 0n;
    for (let i = 0; i <= 20; i++) {
      samples.push({ atMs: i * 200, counters: [...counters], portBytes: port });
      vmBps.forEach((f, v) => { counters[v] = (counters[v] as bigint) + perSample(f(i)); });
      port += perSample(portBps);
    }
    return { samples, phases: [{ index: 0, label: 'p', startMs: 0, endMs: 4000, gVms: [{ vmIndex: 0, guaranteeBps: 0.5e9 }], activeBeVms: 1, reactionVms: [0], ...window }], tails: [] };
  }
  // Two VMs: G, then BE at 1.5 Gbit/s; the port delivers 1.8.
  const recording = (gBps: (i: number) => number): PolicyRecording => recordingOf([gBps, () => 1.5e9], 1.8e9);
  const ctx = { guaranteeVms: [0], vmCount: 2, warmupMs: 1000, timing: { periodMs: 200, tickMs: 200 } };
  const demand = (bps: number) => () => bps;

  it('drops the warm-up, averages, and measures the reaction against min(guarantee, demand)', () => {
    // G starts at 0.1 and reaches 0.5 at sample 3.
    const stats = analyzeRecording(recording((i) => (i < 3 ? 0.1e9 : 0.5e9)), ctx);
    const s = stats[0];
    expect(s?.samples).toBe(15);
    expect(s?.gBps).toBeCloseTo(0.5e9, -3);
    expect(s?.deliveredBps).toBeCloseTo(1.8e9, -3);
    const base = { ...s, totalBps: 2e9, deliveredBps: 1.9e9 } as NonNullable<typeof s>;
    const [p] = judgePhases(stats, demand(0.9e9), () => base, 20, ctx.timing);
    expect(p?.attainment).toBeCloseTo(1, 3);
    expect(p?.utilization).toBeCloseTo(1.8 / 1.9, 3);
    expect(p?.utilizationVfSide).toBeCloseTo(2 / 2, 3);
    expect(p?.reaction).toMatchObject({ reached: true, ticks: 3 });
    expect(p?.g.paperBps).toBeCloseTo(10e9, -4);
  });

  it('several Guarantee VMs: each judged against its own guarantee and demand; the phase keeps the worst', () => {
    // G1 (guarantee 0.25, demand 0.9) holds 0.3 from the start; G2 (guarantee 0.5, demand 0.4) reaches 0.4 at sample 6.
    const rec = recordingOf([() => 0.3e9, (i) => (i < 6 ? 0.1e9 : 0.4e9), () => 1.2e9], 1.8e9, {
      gVms: [{ vmIndex: 0, guaranteeBps: 0.25e9 }, { vmIndex: 1, guaranteeBps: 0.5e9 }],
      reactionVms: [0, 1],
    });
    const stats = analyzeRecording(rec, { ...ctx, guaranteeVms: [0, 1], vmCount: 3 });
    const demands = new Map([[0, 0.9e9], [1, 0.4e9]]);
    const [p] = judgePhases(stats, (vm) => demands.get(vm) as number, () => stats[0] as NonNullable<(typeof stats)[0]>, 20, ctx.timing);
    const [g1, g2] = p?.gVms ?? [];
    expect(g1?.attainment).toBeCloseTo(0.3 / 0.25, 3);
    // G2 after the 1 s warm-up: samples 5..19, one of them at 0.1.
    expect(g2?.attainment).toBeCloseTo((14 * 0.4 + 0.1) / 15 / 0.4, 3);
    expect(p?.attainment).toBe(g2?.attainment);
    expect(g1?.reaction).toMatchObject({ reached: true, ticks: 0 });
    expect(g2?.reaction).toMatchObject({ reached: true, ticks: 6 });
    expect(p?.reaction).toEqual(g2?.reaction);
    expect(p?.guarantee.emulatedBps).toBeCloseTo(0.75e9, -3);
    expect(p?.gDemand.emulatedBps).toBeCloseTo(1.3e9, -3);
    expect(p?.g.emulatedBps).toBeCloseTo((g1?.g.emulatedBps ?? 0) + (g2?.g.emulatedBps ?? 0), -3);
  });

  it('a phase with no Guarantee VM sending has no attainment, and the summary skips it', () => {
    const rec = recordingOf([() => 0, () => 1.8e9], 1.8e9, { gVms: [], reactionVms: [] });
    const stats = analyzeRecording(rec, ctx);
    const [p] = judgePhases(stats, demand(0.9e9), () => stats[0] as NonNullable<(typeof stats)[0]>, 20, ctx.timing);
    expect(p?.attainment).toBeNull();
    expect(p?.gCoV).toBeNull();
    expect(p?.reaction).toBeUndefined();
  });

  it('judges reclaim on what the port delivered against the baseline delivered', () => {
    const rec = { ...recording(() => 0.2e9), tails: [{ phaseIndex: 0, startMs: 2000, endMs: 4000, gVms: [] }] };
    const stats = analyzeRecording(rec, ctx);
    // Port 1.8 Gbit/s, G 0.2: BE got 1.6 through the port.
    expect(stats[0]?.tailBe?.[0]).toBeCloseTo(1.6e9, -3);
    const base = (deliveredBps: number) => () => ({ ...(stats[0] as NonNullable<(typeof stats)[0]>), deliveredBps, totalBps: 5e9 });
    expect(judgePhases(stats, demand(0.9e9), base(1.65e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: true, ticks: 0 });
    expect(judgePhases(stats, demand(0.9e9), base(1.9e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: false });
  });

  it('reclaim with Guarantee VMs still sending: BE must fill what the baseline delivered minus what they take', () => {
    // G1 stopped (0), G2 keeps 0.6; BE 1.1; the port delivers 1.7: BE got 1.1 through it.
    const rec: PolicyRecording = {
      ...recordingOf([() => 0, () => 0.6e9, () => 1.1e9], 1.7e9, { gVms: [{ vmIndex: 1, guaranteeBps: 0.5e9 }], reactionVms: [] }),
      tails: [{ phaseIndex: 0, startMs: 0, endMs: 4000, gVms: [1] }],
    };
    const stats = analyzeRecording(rec, { ...ctx, guaranteeVms: [0, 1], vmCount: 3 });
    expect(stats[0]?.tailGRestBps).toBeCloseTo(0.6e9, -3);
    const base = (deliveredBps: number) => () => ({ ...(stats[0] as NonNullable<(typeof stats)[0]>), deliveredBps });
    // 0.95 × (1.75 − 0.6) = 1.09 <= 1.1: reclaimed; 0.95 × (1.9 − 0.6) = 1.235 > 1.1: not.
    expect(judgePhases(stats, demand(0.9e9), base(1.75e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: true, ticks: 0 });
    expect(judgePhases(stats, demand(0.9e9), base(1.9e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: false });
  });

  it('time series marks the phase and keeps every VM', () => {
    const s = seriesOf(recording(() => 0.4e9), 2);
    expect(s.tS).toHaveLength(20);
    expect(s.ratesBps[0]?.[5]).toBe(4e8);
    expect(s.portBps[5]).toBe(1.8e9);
    expect(s.phase.filter((p) => p === 0)).toHaveLength(20);
  });
});
