/** `daqs schema`: prints the JSON Schema of the configuration file (for editors and CI checks). */
import { configJsonSchema } from '../../config/json-schema.ts';
import { defineCommand } from '../define.ts';

/** Runs `daqs schema`. */
export const run = defineCommand({
  name: 'schema',
  description: 'Prints the JSON Schema (draft 2020-12) of the daqs configuration file on stdout.',
  options: {
    compact: { type: 'boolean', help: 'one line instead of indented JSON' },
  },
}, async ({ values }, io) => {
  io.out(JSON.stringify(configJsonSchema(), null, values.compact ? undefined : 2));
  return 0;
});
