/**
 * `daqs demo` (what `npm run demo` runs): the paper's adaptability experiment on a fresh
 * emulated host — one Guarantee VM while Best-Effort VMs start one by one — first without
 * control, then with the `static` caps of `ip link`, then with daqs, with a live view of every
 * VM's rate against the guarantee; then the summary, the report files, and the host taken
 * down (also on Ctrl-C). It is `daqs experiment adaptability` with short phases.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { POLICY_NAMES } from '../../eval/policies.ts';
import { UsageError } from '../main.ts';
import { run as runExperiment } from './experiment.ts';

/** One line for `daqs --help`. */
export const summary = 'the main job: daqs on the emulated host through the adaptability scenario, with a live view and a report (~3 min)';

const USAGE = `usage: daqs demo [--phase-seconds S] [--policies LIST] [--capacity RATE] [--out DIR]

Brings up an emulated host (8 VMs, port 2gbit standing for the paper's 40gbit), runs the
adaptability scenario (Guarantee VM: 1 thread, 10gbit paper guarantee; one more Best-Effort
VM with 2 threads every phase) for each policy, shows live per-VM rates, prints the summary,
writes result.json, timeseries.csv and figures (SVG, PNG) to DIR, and takes the host down.

options:
  --phase-seconds S  length of each of the 8 phases (default 6)
  --policies LIST    default baseline,static,daqs (all: ${POLICY_NAMES.join(',')})
  --capacity RATE    emulated port speed (default 2gbit)
  --out DIR          default out/demo-<UTC time>
  -h, --help`;

/** Runs the demo; exit code as `daqs experiment`. */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: {
      'phase-seconds': { type: 'string', default: '6' },
      policies: { type: 'string', default: 'baseline,static,daqs' },
      capacity: { type: 'string', default: '2gbit' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    } }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = values.out ?? join('out', `demo-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z`);
  const code = await runExperiment([
    'adaptability',
    '--policies', values.policies,
    '--phase-seconds', values['phase-seconds'],
    '--warmup-seconds', String(Math.min(2, Number(values['phase-seconds']) / 3)),
    '--capacity', values.capacity,
    '--testbed-name', `demo${process.pid % 10000}`,
    '--out', out,
  ]);
  console.log(`\nThe report is in ${out}/ (open adaptability.png or adaptability.svg for the figure).`);
  return code;
}
