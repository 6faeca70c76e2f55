import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/util/exec.ts';

const daqs = (...args: string[]) => runCommand(['node', new URL('../../bin/daqs.js', import.meta.url).pathname, ...args], { timeoutMs: 60_000 });

describe('daqs schema', () => {
  it('prints the JSON Schema of the configuration file', async () => {
    const r = await daqs('schema', '--compact');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { $schema: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['port']);
    expect(Object.keys(schema.properties)).toEqual(['port', 'policy', 'vms', 'inventory', 'daemon', 'agent']);
  });

  it('refuses an unknown option with exit code 2 and the usage', async () => {
    const r = await daqs('schema', '--pretty');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--pretty'");
    expect(r.stderr).toContain('usage: daqs schema');
  });
});
