import { readFileSync } from 'node:fs';
import type { VirshRunner } from '../../src/inventory/libvirt-source.ts';
import type { CommandResult } from '../../src/util/exec.ts';

/** Reads a fixture under test/inventory/fixtures. */
export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

const ok = (stdout: string): CommandResult => ({ code: 0, signal: null, stdout, stderr: '' });
const fail = (stderr: string): CommandResult => ({ code: 1, signal: null, stdout: '', stderr });

/**
 * A small libvirt that answers the virsh commands daqs runs, in virsh's output formats
 * (LC_ALL=C): domains can be started, stopped, broken, or made to vanish between list and dumpxml.
 */
export class FakeLibvirt {
  readonly domains = new Map<string, { xml: string; running: boolean; broken?: string }>();
  /** Domains that stop right after `list` printed them (churn during a poll). */
  readonly vanishAfterList = new Set<string>();
  listError: string | null = null;

  /** Defines and starts a domain from its XML. */
  start(xml: string): this {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    if (!name) throw new Error('fixture without <name>');
    this.domains.set(name, { xml, running: true });
    return this;
  }

  readonly run: VirshRunner = (_uri, args) => {
    const [cmd, ...rest] = args;
    if (cmd === 'list' && rest.join(' ') === '--state-running --name') {
      if (this.listError) return Promise.resolve(fail(`error: failed to connect to the hypervisor\nerror: ${this.listError}\n`));
      const names = [...this.domains].filter(([, d]) => d.running).map(([n]) => n);
      for (const n of this.vanishAfterList) {
        const d = this.domains.get(n);
        if (d) d.running = false;
      }
      return Promise.resolve(ok(names.map((n) => `${n}\n`).join('') + '\n'));
    }
    // Only the --domain form: virsh would parse a bare name that starts with "--" as an option.
    if (cmd === 'dumpxml' && rest.length === 2 && rest[0] === '--domain') {
      const name = rest[1] ?? '';
      const d = this.domains.get(name);
      if (!d) return Promise.resolve(fail(`error: failed to get domain '${name}'\n`));
      if (d.broken) return Promise.resolve(fail(`error: ${d.broken}\n`));
      // A stopped but defined domain still has XML: its inactive definition, without the id.
      return Promise.resolve(ok(d.running ? d.xml : d.xml.replace(/^(<domain[^>]*?) id='\d+'/, '$1')));
    }
    return Promise.resolve(fail(`error: command '${args.join(' ')}' is not known to this fake\n`));
  };
}
