import { describe, expect, it } from 'vitest';
import { mapVirshError, parseVirshReply } from '../../src/agent/libvirt-agent.ts';

describe('mapVirshError', () => {
  // Messages as libvirt prints them (qemu_agent.c, virerror.c), with virsh's "error:" prefixes.
  it.each<[string, string, string | null, string | null]>([
    ["error: internal error: unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled", 'E_AGENT_DISABLED', 'CommandNotFound', 'Command guest-exec has been disabled'],
    ["error: internal error: unable to execute QEMU agent command 'guest-exec': The command guest-exec has been disabled for this instance", 'E_AGENT_DISABLED', 'CommandNotFound', 'The command guest-exec has been disabled for this instance'],
    ["error: internal error: unable to execute QEMU agent command 'guest-foo': The command guest-foo has not been found", 'E_AGENT_NOT_FOUND', 'CommandNotFound', 'The command guest-foo has not been found'],
    ["error: internal error: unable to execute QEMU agent command 'guest-exec-status': Invalid parameter 'pid'", 'E_AGENT_COMMAND', null, "Invalid parameter 'pid'"],
    ["error: Guest agent command failed: unable to execute QEMU agent command 'guest-exec': Guest agent command failed, error was 'Failed to execute child process'", 'E_AGENT_COMMAND', null, "Guest agent command failed, error was 'Failed to execute child process'"],
    ['error: Guest agent is not responding: Guest agent not available for now', 'E_AGENT_TIMEOUT', null, 'Guest agent is not responding: Guest agent not available for now'],
    ['error: Guest agent is not responding: QEMU guest agent is not connected', 'E_AGENT_UNAVAILABLE', null, 'Guest agent is not responding: QEMU guest agent is not connected'],
    ['error: argument unsupported: QEMU guest agent is not configured', 'E_AGENT_UNAVAILABLE', null, 'argument unsupported: QEMU guest agent is not configured'],
    ["error: failed to get domain 'vm9'", 'E_AGENT_VM_NOT_FOUND', null, "failed to get domain 'vm9'"],
    ['error: Requested operation is not valid: domain is not running', 'E_AGENT_UNAVAILABLE', null, 'Requested operation is not valid: domain is not running'],
    ['error: Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainGetJobInfo)', 'E_AGENT_TIMEOUT', null, 'Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainGetJobInfo)'],
    ['error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/var/run/libvirt/libvirt-sock\': No such file or directory', 'E_AGENT_UNAVAILABLE', null, null],
    ['error: something new', 'E_AGENT_COMMAND', null, 'something new'],
  ])('%s -> %s', (stderr, code, agentClass, agentDesc) => {
    const e = mapVirshError(stderr, 'vm9', 'guest-exec');
    expect(e.code).toBe(code);
    expect(e.agentClass).toBe(agentClass);
    if (agentDesc !== null) expect(e.agentDesc).toBe(agentDesc);
    expect([e.vm, e.operation]).toEqual(['vm9', 'guest-exec']);
  });
});

describe('parseVirshReply', () => {
  it.each([
    ['{"return":{"pid":12}}\n', { pid: 12 }],
    ['{"return":[{"statistics":{"tx-bytes":18446744073709551615}}]}', [{ statistics: { 'tx-bytes': 18446744073709551615n } }]],
    ['{"return":{}}', {}],
  ])('%s', (out, want) => {
    expect(parseVirshReply(out, 'vm', 'op')).toEqual(want);
  });

  it.each(['', 'garbage', '{"error":{}}'])('rejects %j as E_AGENT_PROTOCOL', (out) => {
    expect(() => parseVirshReply(out, 'vm', 'op')).toThrow(expect.objectContaining({ code: 'E_AGENT_PROTOCOL' }));
  });
});
