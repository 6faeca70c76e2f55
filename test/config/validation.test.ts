import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatIssue } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { baseConfig, refusal } from './helpers.ts';

const port = { interface: 'eth0', capacity: '40gbit' };

describe('validation names the key, the value and the rule', () => {
  it.each([
    ['rate typo', { port, vms: { web1: { guarantee: '10gbitt' } } }, 'vms.web1.guarantee: "10gbitt" is not a rate: unknown unit "gbitt"'],
    ['rate of wrong type', { port, vms: { web1: { guarantee: true } } }, 'vms.web1.guarantee: true must be a rate'],
    ['zero max', { port, vms: { web1: { max: '0bit' } } }, 'vms.web1.max: "0bit" must be more than 0 bit/s'],
    ['guarantee above max', { port, vms: { db: { guarantee: '6gbit', max: '5gbit' } } }, 'vms.db.guarantee: "6gbit" is above max 5gbit'],
    ['weight zero', { port, vms: { b: { weight: 0 } } }, 'vms.b.weight: 0 must be a number from 0.01 to 1000'],
    ['weight as text', { port, vms: { b: { weight: 'two' } } }, 'vms.b.weight: "two" must be a number from 0.01 to 1000'],
    // 1e308 left every other Best-Effort VM a share that rounds to nothing.
    ['weight that starves the others', { port, vms: { b: { weight: 1e308 } } }, 'vms.b.weight: 1e+308 must be a number from 0.01 to 1000'],
    ['weight below the floor', { port, vms: { b: { weight: 0.009 } } }, 'vms.b.weight: 0.009 must be a number from 0.01 to 1000'],
    ['allowed host with a port', { port, daemon: { allowedHosts: ['prom.example.net:9311'] } }, 'daemon.allowedHosts[0]: "prom.example.net:9311" is not a host name'],
    ['one agent socket for two VMs', { port, inventory: { source: 'static', static: [{ name: 'a', socket: '/run/a.sock' }, { name: 'b', socket: '/run/a.sock' }] } }, 'inventory.static[1].socket: "/run/a.sock" is also the agent socket of VM a'],
    ['interface name over 15 bytes', { port, vms: { b: { interface: 'éééééééé' } } }, 'vms.b.interface: "éééééééé" is not a valid interface name'],
    ['bad MAC', { port, vms: { b: { mac: '52:54:00:zz:00:01' } } }, 'vms.b.mac: "52:54:00:zz:00:01" is not a MAC address'],
    ['long interface name', { port, vms: { b: { interface: 'a-very-long-ifname' } } }, 'vms.b.interface: "a-very-long-ifname" is not a valid interface name'],
    ['odd VM name', { port, vms: { 'a/b': { weight: 1 } } }, 'vms["a/b"]: "a/b" is not a VM name'],
    ['tick too short', { port: { ...port, tickMs: 20 } }, 'port.tickMs: 20 must be a whole number of milliseconds from 50 to 10000'],
    ['tick not whole', { port: { ...port, tickMs: 200.5 } }, 'port.tickMs: 200.5 must be a whole number'],
    ['no interface nor testbed', { port: { capacity: '1gbit' } }, 'port: needs exactly one of "interface"'],
    ['both interface and testbed', { port: { interface: 'eth0', testbed: 'tb' } }, 'both are set'],
    ['bad testbed name', { port: { testbed: 'Tb-1' } }, 'port.testbed: "Tb-1" is not a testbed name'],
    ['missing port', { vms: {} }, 'port: is required'],
    ['unknown policy', { port, policy: 'fare' }, 'policy: "fare" must be one of: daqs, paper, fair, weighted, static'],
    ['agent timeout 1 s', { port, agent: { timeoutMs: 1000 } }, 'agent.timeoutMs: 1000 must be a whole number of milliseconds from 10 to 999'],
    ['status not loopback', { port, daemon: { status: '0.0.0.0:9310' } }, 'daemon.status: "0.0.0.0:9310" must be a loopback address'],
    ['status malformed', { port, daemon: { status: 'localhost' } }, 'daemon.status: "localhost" is not a listen address'],
    ['metrics exposed', { port, daemon: { metrics: { listen: '10.0.0.1:9311' } } }, 'daemon.metrics.listen: "10.0.0.1:9311" is not a loopback address: set daemon.metrics.allowNonLoopback: true'],
    ['onStop value', { port, daemon: { onStop: 'drop' } }, 'daemon.onStop: "drop" must be one of: lift, keep'],
    ['log level', { port, daemon: { logLevel: 'verbose' } }, 'daemon.logLevel: "verbose" must be one of: trace, debug'],
    ['static source without VMs', { port, inventory: { source: 'static' } }, 'inventory.static: is empty but inventory.source is "static"'],
    ['relative socket', { port, inventory: { source: 'static', static: [{ name: 'a', socket: 'a.sock' }] } }, 'inventory.static[0].socket: "a.sock" must be an absolute path'],
    ['duplicate static VM', { port, inventory: { source: 'static', static: [{ name: 'a', socket: '/a' }, { name: 'a', socket: '/b' }] } }, 'inventory.static[1].name: "a" appears twice'],
    ['testbed source without testbed', { port, inventory: { source: 'testbed' } }, 'inventory.source: "testbed" needs port.testbed'],
    ['poll too fast', { port, inventory: { pollMs: 100 } }, 'inventory.pollMs: 100 must be a whole number of milliseconds from 500'],
  ])('%s', (_name, obj, expected) => {
    const err = refusal(obj);
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.issues.map(formatIssue).join('\n')).toContain(expected);
    expect(err.message).toContain(expected);
  });

  it.each([
    ['vms.web1.gaurantee', { port, vms: { web1: { gaurantee: '1gbit' } } }, "did you mean 'guarantee'?"],
    ['vms.web1.maxx', { port, vms: { web1: { maxx: '1gbit' } } }, "did you mean 'max'?"],
    ['port.capcity', { port: { ...port, capcity: '1gbit' } }, "did you mean 'capacity'?"],
    ['polcy', { port, polcy: 'daqs' }, "did you mean 'policy'?"],
    ['daemon.metrics.allowNonLoopbak', { port, daemon: { metrics: { allowNonLoopbak: true } } }, "did you mean 'allowNonLoopback'?"],
  ])('unknown key %s is refused with a suggestion', (path, obj, hint) => {
    const issue = refusal(obj).issues.find((i) => i.path === path);
    expect(issue?.rule).toContain('unknown key');
    expect(issue?.rule).toContain(hint);
  });

  it('gives no suggestion for a key that resembles nothing', () => {
    const issue = refusal({ port, flavour: 'x' }).issues.find((i) => i.path === 'flavour');
    expect(issue?.rule).toBe('unknown key; allowed here: port, policy, vms, inventory, daemon, agent');
  });

  it('reports every problem at once', () => {
    const err = refusal({ port: { ...port, tickMs: 1 }, policy: 'x', vms: { a: { guarantee: 'zz' }, b: { weight: -1 } } });
    expect(err.issues.map((i) => i.path).sort()).toEqual(['policy', 'port.tickMs', 'vms.a.guarantee', 'vms.b.weight']);
    expect(err.message).toMatch(/4 problems/);
  });

  it('refuses YAML syntax errors with their line', () => {
    try {
      parseConfigText('port:\n  interface: eth0\n  interface: eth1\n', 'dup.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('E_CONFIG_YAML');
      expect((e as Error).message).toMatch(/line 3, column \d+: is not valid YAML: .*DUPLICATE_KEY/);
    }
  });

  it('fills defaults for a minimal file', () => {
    const c = parseConfigText(stringify({ port: { interface: 'eth0' } }));
    expect(c).toEqual({
      port: { interface: 'eth0', testbed: null, capacityBps: null, tickMs: 200 },
      policy: 'daqs',
      vms: {},
      inventory: { source: 'libvirt', static: [], libvirt: { uri: 'qemu:///system' }, pollMs: 5000 },
      daemon: {
        onStart: 'adopt',
        onStop: 'lift',
        status: { kind: 'tcp', host: '127.0.0.1', port: 9310 },
        metrics: { listen: { kind: 'tcp', host: '127.0.0.1', port: 9311 }, allowNonLoopback: false },
        logLevel: 'info',
        allowedHosts: [],
      },
      agent: { timeoutMs: 150 },
    });
  });

  it('defaults the inventory to the testbed when the port is a testbed', () => {
    expect(parseConfigText(stringify({ port: { testbed: 'tb' } })).inventory.source).toBe('testbed');
  });

  it('keeps unset VM settings undefined so libvirt metadata can fill them', () => {
    const c = parseConfigText(stringify({ ...baseConfig(), vms: { b: { weight: 2, mac: '52:54:00:AB:CD:EF' } } }));
    expect(c.vms.b).toEqual({ guaranteeBps: undefined, maxBps: undefined, weight: 2, iface: undefined, mac: '52:54:00:ab:cd:ef' });
  });

  it.each([
    ['[::1]:9310', { kind: 'tcp', host: '::1', port: 9310 }],
    ['localhost:80', { kind: 'tcp', host: 'localhost', port: 80 }],
    ['/run/daqs/status.sock', { kind: 'unix', path: '/run/daqs/status.sock' }],
  ])('accepts status address %s', (status, parsed) => {
    expect(parseConfigText(stringify({ ...baseConfig(), daemon: { status } })).daemon.status).toEqual(parsed);
  });

  it('accepts non-loopback metrics when allowed', () => {
    const c = parseConfigText(stringify({ ...baseConfig(), daemon: { metrics: { listen: '0.0.0.0:9311', allowNonLoopback: true } } }));
    expect(c.daemon.metrics.listen).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 9311 });
  });
});
