/**
 * Writes an experiment's result.json and its time series as CSV. Rendering is pure (strings
 * in, strings out) so it is tested without a disk; only writeResultFiles touches the disk.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateResult, type ExperimentResult } from './result.ts';

/** File names inside an experiment's output directory. */
export const RESULT_FILES = { json: 'result.json', csv: 'timeseries.csv' } as const;

/** result.json text; stable key order as built, two-space indented for diffs. */
export function renderResultJson(result: ExperimentResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/**
 * The time series, one row per policy and sample: each VM's rate (vmN_bps, N = series.vms
 * index; VM 0 is the Guarantee VM), then G, BE, total (VF counters) and what the port
 * delivered, in emulated and paper bits/s. Phase -1 marks samples outside a measured phase.
 */
export function renderTimeseriesCsv(result: ExperimentResult): string {
  const vms = result.series.vms;
  const scale = result.scale.factor;
  const header = ['policy', 'phase', 't_s', ...vms.map((v) => `vm${v.index}_bps`), 'g_bps', 'be_bps', 'total_bps', 'port_bps', 'g_paper_bps', 'be_paper_bps', 'total_paper_bps', 'port_paper_bps'];
  const rows = [header.join(',')];
  for (const [name, s] of Object.entries(result.series.policies)) {
    for (let i = 0; i < s.tS.length; i++) {
      const rates = s.ratesBps.map((vm) => vm[i] ?? 0);
      let g = 0;
      let be = 0;
      vms.forEach((v, k) => {
        if (v.role === 'guarantee') g += rates[k] ?? 0;
        else be += rates[k] ?? 0;
      });
      const port = s.portBps[i] ?? 0;
      const cells = [name, String(s.phase[i] ?? -1), (s.tS[i] ?? 0).toFixed(3), ...rates.map((r) => r.toFixed(0)), g.toFixed(0), be.toFixed(0), (g + be).toFixed(0), port.toFixed(0),
        (g * scale).toFixed(0), (be * scale).toFixed(0), ((g + be) * scale).toFixed(0), (port * scale).toFixed(0)];
      rows.push(cells.join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}

/** Writes result.json and timeseries.csv into dir (created if needed); returns their paths. */
export async function writeResultFiles(dir: string, result: ExperimentResult): Promise<{ json: string; csv: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, RESULT_FILES.json);
  const csv = join(dir, RESULT_FILES.csv);
  await writeFile(json, renderResultJson(result));
  await writeFile(csv, renderTimeseriesCsv(result));
  return { json, csv };
}

/** Reads and validates a result.json (throws ResultInvalidError listing every problem). */
export async function readResultFile(path: string): Promise<ExperimentResult> {
  return validateResult(JSON.parse(await readFile(path, 'utf8')) as unknown);
}
