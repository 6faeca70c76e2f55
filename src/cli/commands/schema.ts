/** `daqs schema`: prints the JSON Schema of the configuration file (for editors and CI checks). */
import { parseArgs } from 'node:util';
import { configJsonSchema } from '../../config/json-schema.ts';
import { UsageError } from '../main.ts';

/** One line for `daqs --help`. */
export const summary = 'print the JSON Schema of the configuration file';

const USAGE = `usage: daqs schema [--compact]

Prints the JSON Schema (draft 2020-12) of the daqs configuration file on stdout.
  --compact   one line instead of indented JSON`;

/** Runs `daqs schema`. */
export async function run(args: string[]): Promise<number> {
  let values: { compact?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { compact: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  console.log(JSON.stringify(configJsonSchema(), null, values.compact ? undefined : 2));
  return 0;
}
