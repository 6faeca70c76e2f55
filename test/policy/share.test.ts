import { describe, expect, it } from 'vitest';
import { createPolicy, fairPolicy, POLICY_NAMES, staticPolicy, weightedPolicy } from '../../src/policy/index.ts';
import { M, input, sla, vm } from './helpers.ts';

const capsOf = (p: ReturnType<typeof fairPolicy>, vms: Parameters<typeof input>[0]): (number | null)[] =>
  p.decide(input(vms), p.initState()).vms.map((v) => (v.capBps === null ? null : Math.round(v.capBps / M)));

describe('fair, weighted and static policies', () => {
  it.each([
    { name: 'fair: equal caps for all', p: fairPolicy(), vms: [vm('a', sla(500), 100), vm('b', sla(), 900), vm('c', sla(), null)], want: [667, 667, 667] },
    { name: 'fair: maximum respected', p: fairPolicy(), vms: [vm('a', sla(0, { maxMbit: 300 }), 100), vm('b', sla(), 900)], want: [300, 1000] },
    { name: 'weighted: proportional to weight', p: weightedPolicy(), vms: [vm('a', sla(0, { weight: 1 }), 1), vm('b', sla(0, { weight: 3 }), 1)], want: [500, 1500] },
    { name: 'static: BE = (C - guarantees) / BE count, G uncapped', p: staticPolicy(), vms: [vm('g', sla(500), 0), vm('a', sla(), 0), vm('b', sla(), 0), vm('c', sla(), 0)], want: [null, 500, 500, 500] },
    { name: 'static: ignores rates entirely', p: staticPolicy(), vms: [vm('g', sla(750), 1900), vm('a', sla(), 10)], want: [null, 1250] },
  ])('$name', ({ p, vms, want }) => {
    expect(capsOf(p, vms)).toEqual(want);
  });

  it.each(POLICY_NAMES)('createPolicy builds %s', (name) => {
    expect(createPolicy(name).name).toBe(name);
  });

  it('createPolicy refuses an unknown name, listing the known ones', () => {
    expect(() => createPolicy('magic')).toThrow(/known: daqs, paper/);
    expect(() => createPolicy('magic')).toThrow(expect.objectContaining({ code: 'E_POLICY_CONFIG' }));
  });
});
