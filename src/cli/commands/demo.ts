/**
 * `daqs demo` (what `npm run demo` runs): the paper's adaptability experiment on a fresh
 * emulated host — one Guarantee VM while Best-Effort VMs start one by one — first without
 * control, then with the `static` caps of `ip link`, then with daqs, with a live view of every
 * VM's rate against the guarantee; then the summary, the report files, and the host taken
 * down (also on Ctrl-C). It is `daqs experiment adaptability` with short phases.
 */
import { join } from 'node:path';
import { POLICY_NAMES } from '../../eval/policies.ts';
import { defineCommand } from '../define.ts';
import { decimal, listOf, rateBps } from '../values.ts';
import { run as runExperiment } from './experiment.ts';

/** Runs the demo; exit code as `daqs experiment`. */
export const run = defineCommand({
  name: 'demo',
  description: `Brings up an emulated host (8 VMs, port 2gbit standing for the paper's 40gbit), runs the
adaptability scenario (Guarantee VM: 1 thread, 10gbit paper guarantee; one more Best-Effort
VM with 2 threads every phase) for each policy, shows live per-VM rates, prints the summary,
writes result.json, timeseries.csv and figures (SVG, PNG) to DIR, and takes the host down.`,
  options: {
    'phase-seconds': { type: 'string', value: 'S', default: '6', parse: decimal(), help: 'length of each of the 8 phases' },
    // Checked here so a typo fails before anything is built; passed on as text.
    policies: { type: 'string', value: 'LIST', default: 'baseline,static,daqs', parse: (t) => listOf(POLICY_NAMES)(t).join(','), help: `the policies to run, from ${POLICY_NAMES.join(',')}` },
    capacity: { type: 'string', value: 'RATE', default: '2gbit', parse: rateBps({ minBps: 1e6 }), help: 'emulated port speed' },
    out: { type: 'string', value: 'DIR', help: 'where the report goes (default out/demo-<UTC time>)' },
  },
}, async ({ values }, io) => {
  const out = values.out ?? join('out', `demo-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z`);
  const code = await runExperiment([
    'adaptability',
    '--policies', values.policies,
    '--phase-seconds', String(values['phase-seconds']),
    '--warmup-seconds', String(Math.min(2, values['phase-seconds'] / 3)),
    '--capacity', `${values.capacity}bit`,
    '--testbed-name', `demo${process.pid % 10000}`,
    '--out', out,
  ], io);
  io.out(`\nThe report is in ${out}/ (open adaptability.png or adaptability.svg for the figure).`);
  return code;
});
