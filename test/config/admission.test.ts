import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkAdmission } from '../../src/config/admission.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { refusal } from './helpers.ts';

describe('admission control', () => {
  it.each([
    [[10e9, 20e9], 40e9, true],
    [[20e9, 20e9], 40e9, true], // exactly full is admitted
    [[20e9, 20e9, 1], 40e9, false],
    [[30e9, 15e9], 40e9, false],
    [[], 1e6, true],
    [[0, 0, 0], 1e6, true],
  ])('guarantees %j on a %d bit/s port: admitted=%s', (guarantees, capacityBps, admitted) => {
    const claims = guarantees.map((g, i) => ({ id: `vm${i}`, guaranteeBps: g }));
    expect(checkAdmission(claims, capacityBps) === null).toBe(admitted);
  });

  it('refuses a file whose guarantees exceed the port, with the numbers', () => {
    const err = refusal({ port: { interface: 'eth0', capacity: '40gbit' }, vms: { web1: { guarantee: '30gbit' }, db: { guarantee: '15gbit' }, be: { weight: 2 } } });
    expect(err.code).toBe('E_CONFIG_ADMISSION');
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe('vms');
    expect(err.issues[0]?.rule).toBe(
      'guarantees add up to 45gbit (web1 30gbit + db 15gbit), more than the port capacity 40gbit by 5gbit: lower some guarantees or raise port.capacity',
    );
  });

  it('reports an overflow together with other problems', () => {
    const err = refusal({ port: { interface: 'eth0', capacity: '10gbit' }, policy: 'fare', vms: { a: { guarantee: '8gbit' }, b: { guarantee: '4gbit' }, c: { guarantee: '1gbitt' } } });
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.issues.map((i) => i.path).sort()).toEqual(['policy', 'vms', 'vms.c.guarantee']);
    expect(err.issues.find((i) => i.path === 'vms')?.rule).toMatch(/^guarantees add up to 12gbit \(a 8gbit \+ b 4gbit\)/);
  });

  it('does not invent an overflow from values that did not parse', () => {
    const err = refusal({ port: { interface: 'eth0', capacity: '10gbitt' }, vms: { a: { guarantee: '8gbit' }, b: { guarantee: '4gbit' } } });
    expect(err.issues.map((i) => i.path)).toEqual(['port.capacity']);
  });

  it('admits guarantees that fit', () => {
    const c = parseConfigText(stringify({ port: { interface: 'eth0', capacity: '40gbit' }, vms: { a: { guarantee: '25gbit' }, b: { guarantee: '15gbit' } } }));
    expect(Object.values(c.vms).map((v) => v.guaranteeBps)).toEqual([25e9, 15e9]);
  });
});
