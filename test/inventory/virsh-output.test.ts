import { describe, expect, it } from 'vitest';
import { isDomainGone, parseDomainList, virshErrorText } from '../../src/inventory/virsh-output.ts';
import { fixture } from './fake-virsh.ts';

describe('virsh text output', () => {
  it.each([
    [fixture('virsh-list-running.txt'), ['web1', 'db1', 'batch1']],
    ['\n', []],
    ['', []],
    ['only-one\n\n', ['only-one']],
    ['  spaced  \r\nnext\n', ['spaced', 'next']],
  ])('parseDomainList(%j)', (stdout, names) => {
    expect(parseDomainList(stdout)).toEqual(names);
  });

  it.each([
    ["error: failed to get domain 'web1'\n", true],
    ["error: failed to get domain 'web1'\nerror: Domain not found: no domain with matching name 'web1'\n", true],
    ['error: Requested operation is not valid: domain is not running\n', true],
    ['error: internal error: client socket is closed\n', false],
    ['error: Failed to connect socket to \'/var/run/libvirt/libvirt-sock\': Permission denied\n', false],
  ])('isDomainGone(%j) = %s', (stderr, gone) => {
    expect(isDomainGone(stderr)).toBe(gone);
  });

  it.each([
    ['error: failed to connect to the hypervisor\nerror: Failed to connect socket: No such file or directory\n', 'Failed to connect socket: No such file or directory'],
    ['something odd\n', 'something odd'],
    ['', 'no error message'],
  ])('virshErrorText keeps the last error line of %j', (stderr, text) => {
    expect(virshErrorText(stderr)).toBe(text);
  });
});
