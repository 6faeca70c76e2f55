import { describe, expect, it } from 'vitest';
import { parseExperimentArgs } from '../../src/cli/commands/experiment.ts';
import { analyzeRecording, judgePhases, seriesOf, type PolicyRecording, type RawSample } from '../../src/eval/analyze.ts';
import { PolicyError, staticCapsBps } from '../../src/eval/policies.ts';
import { runOrder } from '../../src/eval/runner.ts';
import { defaultOptions, ExperimentOptionError, planPhases, scaleOf, validateOptions } from '../../src/eval/scenarios.ts';

describe('staticCapsBps (the ip link max_tx_rate practice)', () => {
  it.each([
    { name: 'contention: BE cap = C − guarantee', vms: 2, g: 0.5e9, want: [{ vmIndex: 1, capBps: 1.5e9 }] },
    { name: 'adaptability: (C − guarantee) / 7 per BE VF', vms: 8, g: 0.5e9, want: Array.from({ length: 7 }, (_, i) => ({ vmIndex: i + 1, capBps: 1.5e9 / 7 })) },
  ])('$name', ({ vms, g, want }) => {
    expect(staticCapsBps(2e9, vms, [{ vmIndex: 0, guaranteeBps: g }])).toEqual(want);
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
    expect(phases.every((p) => p.activeBeVms === 1)).toBe(true);
  });
  it('adaptability: 8 phases from 0 to 7 Best-Effort VMs sending, guarantee 10 Gbit/s', () => {
    const phases = planPhases(defaultOptions('adaptability'));
    expect(phases.map((p) => p.activeBeVms)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(phases.map((p) => p.guaranteePaperBps))).toEqual(new Set([10e9]));
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
  ])('rejects a bad --$option', ({ change, option }) => {
    const o = { ...defaultOptions('contention'), ...change };
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
  ])('refuses $args', ({ args, want }) => {
    expect(() => parseExperimentArgs(args)).toThrow(want);
  });
});

describe('analyzeRecording and judgePhases', () => {
  // Two VMs sampled every 200 ms: G at 0.4 Gbit/s, BE at 1.5 Gbit/s, port delivers 1.8.
  const perSample = (bps: number): bigint => BigInt(Math.round((bps / 8) * 0.2));
  function recording(gBps: (i: number) => number): PolicyRecording {
    const samples: RawSample[] = [];
    let g = 0n;
    let be = 0n;
    let port = 0n;
    for (let i = 0; i <= 20; i++) {
      samples.push({ atMs: i * 200, counters: [g, be], portBytes: port });
      g += perSample(gBps(i));
      be += perSample(1.5e9);
      port += perSample(1.8e9);
    }
    return { samples, phases: [{ index: 0, label: 'p', startMs: 0, endMs: 4000, guaranteeBps: 0.5e9, activeBeVms: 1, reaction: true }], tails: [] };
  }
  const ctx = { guaranteeVms: [0], vmCount: 2, warmupMs: 1000, timing: { periodMs: 200, tickMs: 200 } };

  it('drops the warm-up, averages, and measures the reaction against min(guarantee, demand)', () => {
    // G starts at 0.1 and reaches 0.5 at sample 3.
    const stats = analyzeRecording(recording((i) => (i < 3 ? 0.1e9 : 0.5e9)), ctx);
    const s = stats[0];
    expect(s?.samples).toBe(15);
    expect(s?.gBps).toBeCloseTo(0.5e9, -3);
    expect(s?.deliveredBps).toBeCloseTo(1.8e9, -3);
    const base = { ...s, totalBps: 2e9, deliveredBps: 1.9e9 } as NonNullable<typeof s>;
    const [p] = judgePhases(stats, 0.9e9, () => base, 20, ctx.timing);
    expect(p?.attainment).toBeCloseTo(1, 3);
    expect(p?.utilization).toBeCloseTo(1.8 / 1.9, 3);
    expect(p?.utilizationVfSide).toBeCloseTo(2 / 2, 3);
    expect(p?.reaction).toMatchObject({ reached: true, ticks: 3 });
    expect(p?.g.paperBps).toBeCloseTo(10e9, -4);
  });

  it('judges reclaim on what the port delivered against the baseline delivered', () => {
    const rec = { ...recording(() => 0.2e9), tails: [{ phaseIndex: 0, startMs: 2000, endMs: 4000 }] };
    const stats = analyzeRecording(rec, ctx);
    // Port 1.8 Gbit/s, G 0.2: BE got 1.6 through the port.
    expect(stats[0]?.tailBe?.[0]).toBeCloseTo(1.6e9, -3);
    const base = (deliveredBps: number) => () => ({ ...(stats[0] as NonNullable<(typeof stats)[0]>), deliveredBps, totalBps: 5e9 });
    expect(judgePhases(stats, 0.9e9, base(1.65e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: true, ticks: 0 });
    expect(judgePhases(stats, 0.9e9, base(1.9e9), 20, ctx.timing)[0]?.reclaim).toMatchObject({ reached: false });
  });

  it('time series marks the phase and keeps every VM', () => {
    const s = seriesOf(recording(() => 0.4e9), 2);
    expect(s.tS).toHaveLength(20);
    expect(s.ratesBps[0]?.[5]).toBe(4e8);
    expect(s.portBps[5]).toBe(1.8e9);
    expect(s.phase.filter((p) => p === 0)).toHaveLength(20);
  });
});
