import { describe, expect, it } from 'vitest';
import { TestbedError } from '../../src/testbed/errors.ts';
import {
  isInstanceNamespace, MAX_VMS, planNamespaces, planPaths, REMOTE_IP, validateCapacity, validateName,
  validateStateDir, validateVmCount, vmIp, vmMac,
} from '../../src/testbed/plan.ts';
import { validateTestbedOptions } from '../../src/testbed/index.ts';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TestbedError);
    return (e as TestbedError).code;
  }
  return undefined;
}

describe('name plan', () => {
  it('names namespaces after the instance', () => {
    expect(planNamespaces('tb', 3)).toEqual({ switchNs: 'tb-sw', remoteNs: 'tb-rem', vmNs: ['tb-vm0', 'tb-vm1', 'tb-vm2'] });
  });

  it('keeps every namespace of the longest name and largest instance within 15 chars', () => {
    const ns = planNamespaces('abcdefgh', MAX_VMS);
    for (const n of [ns.switchNs, ns.remoteNs, ...ns.vmNs]) expect(n.length).toBeLessThanOrEqual(15);
  });

  it.each([
    ['tb', 'tb-sw', true],
    ['tb', 'tb-rem', true],
    ['tb', 'tb-vm0', true],
    ['tb', 'tb-vm63', true],
    ['tb', 'tb2-sw', false], // another instance whose name starts like ours
    ['tb', 'tb-vm', false],
    ['tb', 'tb-vm01', false],
    ['tb', 'tb-swx', false],
    ['tb', 'xtb-sw', false],
    ['tb', 'tb-x-vm0', false],
    ['daqs', 'tb-vm0', false],
  ] as const)('instance %s owns namespace %s: %s', (name, ns, owned) => {
    expect(isInstanceNamespace(name, ns)).toBe(owned);
  });

  it('puts agent sockets and qemu-ga state dirs under the instance directory', () => {
    const p = planPaths('/run/daqs/testbed', 'tb', 2);
    expect(p.stateFile).toBe('/run/daqs/testbed/tb/state.json');
    expect(p.agentSockets).toEqual(['/run/daqs/testbed/tb/vm0.sock', '/run/daqs/testbed/tb/vm1.sock']);
    expect(p.agentStateDirs).toEqual(['/run/daqs/testbed/tb/vm0', '/run/daqs/testbed/tb/vm1']);
  });
});

describe('address plan', () => {
  it.each([
    [0, '10.77.0.1'],
    [1, '10.77.0.2'],
    [63, '10.77.0.64'],
    [MAX_VMS - 1, `10.77.0.${MAX_VMS}`],
  ] as const)('VM %i has address %s', (index, ip) => {
    expect(vmIp(index)).toBe(ip);
  });

  it('never gives a VM the remote address, and every VM its own address and MAC', () => {
    const ips = new Set(Array.from({ length: MAX_VMS }, (_, i) => vmIp(i)));
    const macs = new Set(Array.from({ length: MAX_VMS }, (_, i) => vmMac('tb', i)));
    expect(ips.size).toBe(MAX_VMS);
    expect(macs.size).toBe(MAX_VMS);
    expect(ips.has(REMOTE_IP)).toBe(false);
  });

  it('makes locally administered unicast MACs that differ between instances and are stable', () => {
    const mac = vmMac('tb', 5);
    expect(mac).toMatch(/^02:da:[0-9a-f]{2}:[0-9a-f]{2}:00:05$/);
    expect(vmMac('tb', 5)).toBe(mac);
    expect(vmMac('tc', 5)).not.toBe(mac);
  });
});

describe('validation', () => {
  it.each([
    ['', 'E_TESTBED_NAME'],
    ['toolongname', 'E_TESTBED_NAME'],
    ['Tb', 'E_TESTBED_NAME'],
    ['tb-1', 'E_TESTBED_NAME'],
    ['1tb', 'E_TESTBED_NAME'],
    ['tb/x', 'E_TESTBED_NAME'],
    ['tb', undefined],
    ['abcdefgh', undefined],
  ] as const)('name %j -> %s', (name, code) => {
    expect(codeOf(() => validateName(name))).toBe(code);
  });

  it.each([
    [0, 'E_TESTBED_VMS'],
    [-1, 'E_TESTBED_VMS'],
    [1.5, 'E_TESTBED_VMS'],
    [MAX_VMS + 1, 'E_TESTBED_VMS'],
    [Number.NaN, 'E_TESTBED_VMS'],
    [1, undefined],
    [64, undefined],
    [MAX_VMS, undefined],
  ] as const)('%d VMs -> %s', (vms, code) => {
    expect(codeOf(() => validateVmCount(vms))).toBe(code);
  });

  it.each([
    [0, 'E_TESTBED_CAPACITY'],
    [999, 'E_TESTBED_CAPACITY'],
    [Number.POSITIVE_INFINITY, 'E_TESTBED_CAPACITY'],
    [Number.NaN, 'E_TESTBED_CAPACITY'],
    [2e9, undefined],
  ] as const)('capacity %d bit/s -> %s', (capacityBps, code) => {
    expect(codeOf(() => validateCapacity(capacityBps))).toBe(code);
  });

  it.each([
    ['relative/dir', 'E_TESTBED_STATE_DIR'],
    [`/${'x'.repeat(100)}`, 'E_TESTBED_STATE_DIR'], // socket path beyond sun_path
    ['/run/daqs/testbed', undefined],
  ] as const)('state dir %j -> %s', (dir, code) => {
    expect(codeOf(() => validateStateDir(dir, 'tb', 64))).toBe(code);
  });

  it.each([
    [{ name: 'tb', vms: 0, capacityBps: 2e9 }, 'E_TESTBED_VMS', /1 to 250 VMs.*--vms/],
    [{ name: 'tb', vms: 300, capacityBps: 2e9 }, 'E_TESTBED_VMS', /address plan/],
    [{ name: 'much-too-long', vms: 2, capacityBps: 2e9 }, 'E_TESTBED_NAME', /"much-too-long".*13 chars/],
    [{ name: 'tb', vms: 2, capacityBps: 0 }, 'E_TESTBED_CAPACITY', /--capacity 2gbit/],
  ] as const)('refuses %j with a message naming the problem and the fix', (opts, code, message) => {
    expect(() => validateTestbedOptions(opts)).toThrow(message);
    expect(codeOf(() => validateTestbedOptions(opts))).toBe(code);
  });
});
