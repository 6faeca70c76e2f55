import { z } from 'zod';
import { configSchema } from './schema.ts';

/**
 * The JSON Schema (draft 2020-12) of the configuration FILE, generated from the zod schema
 * that validates it. It describes what is written (rate strings, optional keys), so editors
 * can complete and check a file; rules across keys (admission control) are only in `daqs run`.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://daqs.dev/schema/config/1.json',
    title: 'daqs configuration',
    description: 'Configuration file of the daqs bandwidth-guarantee daemon; see docs/configuration.md',
  };
}
