/**
 * Domain names reach virsh as the value of --domain, never as a bare positional argument: a
 * domain named "--x=y" must be looked up, not parsed as an option. Checked against the real
 * virsh with libvirt's test driver (a domain list from an XML file; no libvirtd, no root).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../../src/agent/errors.ts';
import { LibvirtAgent } from '../../src/agent/libvirt-agent.ts';
import { LibvirtSource } from '../../src/inventory/libvirt-source.ts';
import { runCommand } from '../../src/util/exec.ts';

const NAMES = ['--x=y', '-c', 'plain'];
let dir: string;
let uri: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gdvirsh-'));
  const domains = NAMES.map((n) => `<domain type='test'><name>${n}</name><memory>8192</memory><os><type>hvm</type></os></domain>`).join('\n');
  await writeFile(join(dir, 'node.xml'), `<node>\n${domains}\n</node>\n`);
  uri = `test://${join(dir, 'node.xml')}`;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('virsh gets domain names after --domain', () => {
  it('the unfixed form is the bug: a bare "--x=y" is taken for an option', async () => {
    const r = await runCommand(['virsh', '-c', uri, 'qemu-agent-command', '--x=y', '{"execute":"guest-ping"}'], { env: { ...process.env, LC_ALL: 'C' } });
    expect(r.stderr).toMatch(/doesn't support option --x/);
  });

  it.each(NAMES)('LibvirtAgent reaches domain %j (the test driver then refuses agent commands)', async (name) => {
    const agent = new LibvirtAgent({ domain: name, uri, defaultTimeoutMs: 5000 });
    const err = await agent.execute('guest-ping').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    // Found the domain: the driver's own refusal, not "failed to get domain" nor an option error.
    expect((err as AgentError).message).toMatch(/not supported by the connection driver/);
  });

  it('the libvirt inventory lists and reads every domain, whatever its name', async () => {
    const vms = await new LibvirtSource({ uri }).discover();
    expect(vms.map((v) => v.id).sort()).toEqual([...NAMES].sort());
    expect(vms.every((v) => v.status.state !== 'lookup-failed')).toBe(true);
  });
});
