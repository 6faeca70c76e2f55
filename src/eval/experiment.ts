/**
 * One experiment from options to files: run it, write result.json, timeseries.csv and the
 * figures into the output directory, then validate what was written. Shared by the CLI and
 * the benchmark so both produce the same files.
 */
import { join } from 'node:path';
import { writeFigures, type FigureFiles } from './figure-files.ts';
import { ResultInvalidError, validateResult, type ExperimentResult } from './result.ts';
import { runExperiment, type RunnerDeps } from './runner.ts';
import type { ExperimentOptions } from './scenarios.ts';
import { writeResultFiles } from './write.ts';

/** Files an experiment wrote, and whether the result is complete and consistent. */
export interface ExperimentOutput {
  readonly result: ExperimentResult;
  readonly dir: string;
  readonly json: string;
  readonly csv: string;
  readonly figures: FigureFiles;
  /** Empty when the result validated; otherwise every problem (a failed policy, a missing phase...). */
  readonly problems: readonly string[];
}

/** Default output directory: out/experiments/<scenario>-<UTC timestamp>. */
export function defaultOutDir(scenario: string, at: Date = new Date()): string {
  return join('out', 'experiments', `${scenario}-${at.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')}`);
}

/** Runs the experiment and writes its files into dir (created); figures even when a policy failed. */
export async function runExperimentToDir(o: ExperimentOptions, dir: string, deps: RunnerDeps = {}): Promise<ExperimentOutput> {
  const result = await runExperiment(o, deps);
  const { json, csv } = await writeResultFiles(dir, result);
  const figures = await writeFigures(dir, result);
  let problems: readonly string[] = [];
  try {
    validateResult(JSON.parse(JSON.stringify(result)) as unknown);
  } catch (e) {
    if (!(e instanceof ResultInvalidError)) throw e;
    problems = e.problems;
  }
  return { result, dir, json, csv, figures, problems };
}
