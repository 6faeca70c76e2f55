/**
 * VMs from libvirt: running domains and their live XML, through `virsh` (no maintained Node
 * binding exposes what daqs needs). Metadata is read from the same live XML as the devices,
 * so one `virsh dumpxml` per domain gives a consistent view of it.
 */
import type { CommandResult } from '../util/exec.ts';
import { runCommand } from '../util/exec.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { parseDomainXml } from './domain-xml.ts';
import { InventoryError } from './errors.ts';
import { describeDomain } from './libvirt-describe.ts';
import { mapBounded } from '../util/concurrency.ts';
import type { DiscoveredVm, InventorySource } from './types.ts';
import { isDomainGone, parseDomainList, virshErrorText } from './virsh-output.ts';

/** Runs `virsh -c URI ARGS...` and returns its result whatever the exit code. */
export type VirshRunner = (uri: string, args: readonly string[], opts: { readonly timeoutMs: number }) => Promise<CommandResult>;

/** The real virsh, in the C locale so its error messages are the ones isDomainGone knows. */
export const runVirsh: VirshRunner = (uri, args, opts) =>
  runCommand(['virsh', '-c', uri, ...args], { timeoutMs: opts.timeoutMs, env: { ...process.env, LC_ALL: 'C' } });

/** Options of a LibvirtSource. */
export interface LibvirtSourceOptions {
  readonly uri: string;
  readonly run?: VirshRunner;
  /** virsh processes at once; each costs a fork and a libvirt connection. */
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

/** Lists running libvirt domains with their agent, VFs and daqs metadata. */
export class LibvirtSource implements InventorySource {
  readonly name = 'libvirt' as const;
  private readonly run: VirshRunner;
  private readonly log: Logger;

  constructor(private readonly opts: LibvirtSourceOptions) {
    this.run = opts.run ?? runVirsh;
    this.log = (opts.logger ?? silentLogger).child({ op: 'inventory', source: 'libvirt', uri: opts.uri });
  }

  /** Throws only when the domain list itself fails; a domain whose XML cannot be read is reported with lookup-failed. */
  async discover(): Promise<DiscoveredVm[]> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const list = await this.run(this.opts.uri, ['list', '--state-running', '--name'], { timeoutMs });
    if (list.code !== 0) {
      throw new InventoryError('E_VIRSH_LIST', `virsh -c ${this.opts.uri} list failed: ${virshErrorText(list.stderr)} (is libvirtd running and may this user connect to ${this.opts.uri}?)`);
    }
    const names = parseDomainList(list.stdout);
    const found = await mapBounded(names, this.opts.concurrency ?? 4, (name) => this.lookup(name, timeoutMs));
    return found.filter((vm): vm is DiscoveredVm => vm !== null);
  }

  private async lookup(name: string, timeoutMs: number): Promise<DiscoveredVm | null> {
    let result: CommandResult;
    try {
      // --domain NAME: a domain named like an option ("--x=y") is still a name.
      result = await this.run(this.opts.uri, ['dumpxml', '--domain', name], { timeoutMs });
    } catch (e) {
      return this.failed(name, 'E_VIRSH_DUMPXML', `virsh dumpxml ${name}: ${(e as Error).message}`);
    }
    if (result.code !== 0) {
      // Stopped between list and dumpxml: it simply is not running any more.
      if (isDomainGone(result.stderr)) return null;
      return this.failed(name, 'E_VIRSH_DUMPXML', `virsh dumpxml ${name}: ${virshErrorText(result.stderr)}`);
    }
    try {
      const info = parseDomainXml(result.stdout, name);
      // Stopped between list and dumpxml: virsh then prints the inactive definition.
      if (!info.running) return null;
      return describeDomain(info, this.opts.uri);
    } catch (e) {
      const code = e instanceof InventoryError ? e.code : 'E_DOMAIN_XML';
      return this.failed(name, code, (e as Error).message);
    }
  }

  private failed(name: string, code: string, reason: string): DiscoveredVm {
    this.log.warn({ vm: name, code, err: reason }, 'domain lookup failed; keeping its last known state');
    return { id: name, origin: 'libvirt', agent: null, status: { state: 'lookup-failed', code, reason }, vfCandidates: [], metadata: null, problems: [] };
  }
}
