import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { parseConfigText } from '../../src/config/load.ts';

const example = readFileSync(new URL('../../deploy/daqs.example.yaml', import.meta.url), 'utf8');
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(configJsonSchema());

describe('JSON Schema generated from the config schema', () => {
  it('accepts the example configuration, which the loader accepts too', () => {
    expect(validate(parse(example)), JSON.stringify(validate.errors)).toBe(true);
    expect(parseConfigText(example).vms.web1?.guaranteeBps).toBe(10e9);
  });

  it('requires port and lists the VM settings', () => {
    const schema = configJsonSchema() as { required: string[]; properties: { vms: { additionalProperties: { properties: Record<string, unknown> } } } };
    expect(schema.required).toEqual(['port']);
    expect(Object.keys(schema.properties.vms.additionalProperties.properties)).toEqual(['guarantee', 'max', 'weight', 'interface', 'mac']);
  });

  it.each([
    ['no port', { vms: {} }, "must have required property 'port'"],
    ['unknown VM key', { port: { interface: 'eth0' }, vms: { a: { guarantees: '1gbit' } } }, 'must NOT have additional properties'],
    ['bad policy', { port: { interface: 'eth0' }, policy: 'fare' }, 'must be equal to one of the allowed values'],
    ['tick too long', { port: { interface: 'eth0', tickMs: 60000 } }, 'must be <= 10000'],
    ['rate of wrong type', { port: { interface: 'eth0', capacity: true } }, 'must be string,number'],
  ])('refuses %s as the loader does', (_name, doc, message) => {
    expect(validate(doc)).toBe(false);
    expect(validate.errors?.map((e) => e.message)).toContain(message);
    expect(() => parseConfigText(JSON.stringify(doc))).toThrow(/configuration refused/);
  });
});
