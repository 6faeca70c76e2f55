/**
 * `npm run bench`: the four experiments (contention, adaptability, multi, churn) at default
 * length, every policy, then the summary table (policy × measures) of each. Files land in
 * out/bench/<timestamp>/<scenario>[-uncapped]. Options: --policies LIST, --capacity RATE,
 * --phase-seconds S, --scenarios LIST (a subset), --uncapped (adds the contention variant
 * with the Guarantee VM uncapped), --out DIR.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runExperimentToDir, type ExperimentOutput } from '../src/eval/experiment.ts';
import { POLICY_NAMES, type PolicyName } from '../src/eval/policies.ts';
import { createProgressPrinter } from '../src/eval/progress.ts';
import { estimateSeconds } from '../src/eval/plan.ts';
import { SCENARIOS, type ScenarioName } from '../src/eval/result.ts';
import { defaultOptions, validateOptions, type ExperimentOptions } from '../src/eval/scenarios.ts';
import { renderPhaseTable, renderSummaryTable } from '../src/eval/table.ts';
import { parseRateBps } from '../src/units/rate.ts';

const { values } = parseArgs({
  options: {
    policies: { type: 'string' },
    capacity: { type: 'string' },
    'phase-seconds': { type: 'string' },
    scenarios: { type: 'string' },
    uncapped: { type: 'boolean' },
    out: { type: 'string' },
  },
  strict: true,
});

const policies = (values.policies?.split(',').map((s) => s.trim()) ?? [...POLICY_NAMES]) as PolicyName[];
const unknown = policies.filter((p) => !(POLICY_NAMES as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`bench: unknown policies ${unknown.join(', ')}; choose from ${POLICY_NAMES.join(', ')}`);
  process.exit(2);
}
const scenarios = (values.scenarios?.split(',').map((s) => s.trim()) ?? [...SCENARIOS]) as ScenarioName[];
const unknownScenarios = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
if (unknownScenarios.length > 0) {
  console.error(`bench: unknown scenarios ${unknownScenarios.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const root = values.out ?? join('out', 'bench', new Date().toISOString().replace(/[:.]/g, '-'));

function options(scenario: ScenarioName, uncapped: boolean): ExperimentOptions {
  const d = defaultOptions(scenario);
  const o: ExperimentOptions = {
    ...d,
    policies,
    ...(values.capacity ? { capacityBps: parseRateBps(values.capacity) } : {}),
    ...(values['phase-seconds'] ? { phaseSeconds: Number(values['phase-seconds']) } : {}),
    ...(uncapped ? { gDemandCapPaperBps: null } : {}),
  };
  validateOptions(o);
  return o;
}

const runs: { name: string; o: ExperimentOptions }[] = scenarios.flatMap((s) => [
  { name: s, o: options(s, false) },
  ...(s === 'contention' && values.uncapped ? [{ name: 'contention-uncapped', o: options('contention', true) }] : []),
]);
const totalMin = Math.ceil(runs.reduce((a, r) => a + estimateSeconds(r.o), 0) / 60);
console.error(`bench: ${runs.map((r) => r.name).join(', ')} with ${policies.join(', ')}; about ${totalMin} min; output in ${root}`);

const abort = new AbortController();
process.on('SIGINT', () => {
  console.error('\nbench: interrupted; taking the emulated host down...');
  abort.abort();
});

const outputs: { name: string; out: ExperimentOutput }[] = [];
for (const r of runs) {
  const progress = createProgressPrinter(process.stderr);
  try {
    const out = await runExperimentToDir(r.o, join(root, r.name), { signal: abort.signal, onProgress: (e) => progress.update(e) });
    outputs.push({ name: r.name, out });
  } finally {
    progress.done();
  }
}

let incomplete = 0;
for (const { name, out } of outputs) {
  console.log(`\n== ${name} (${out.dir}) ==`);
  console.log(renderSummaryTable(out.result));
  console.log('');
  console.log(renderPhaseTable(out.result));
  if (out.problems.length > 0) {
    incomplete += 1;
    console.log(`\nincomplete:\n  - ${out.problems.join('\n  - ')}`);
  }
}
process.exitCode = incomplete === 0 ? 0 : 1;
