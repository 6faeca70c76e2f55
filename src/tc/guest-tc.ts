/**
 * Enforces a VM's TX cap with tc inside the guest, through a TcRunner: one tc per step, argv
 * only, the interface name (the guest's choice) always a single argv element. The last cap
 * applied per interface is cached: applying it again runs nothing, and a readback that
 * disagrees clears the cache so the next apply repairs the drift. Nothing here echoes the
 * interface name into a message or log: it is the guest's, and the endpoint that knows the
 * VM names it (cleaned) where needed.
 */
import type { Logger } from '../util/log.ts';
import { silentLogger } from '../util/log.ts';
import { TcError } from './errors.ts';
import { buildChangeArgs, buildClassReplaceArgs, buildLiftArgs, buildQdiscArgs, buildReadArgs, isMissingClass, isNothingToLift, type HtbTuning } from './htb-plan.ts';
import { parseTcShow } from './parse.ts';
import { capFromShow, capMatches, type TcCapReading } from './readback.ts';
import type { TcRunner, TcRunResult } from './runner.ts';

/** Options of GuestTc. */
export interface GuestTcOptions {
  /** tc in the guest (default "tc", found on the agent's PATH). */
  readonly tcPath?: string;
  readonly tuning?: HtbTuning;
  /** Bound on one tc run (default 900 ms). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

/** What applyCap did. */
export type ApplyOutcome = 'unchanged' | 'changed' | 'created' | 'lifted';

/** tc in one guest, through its runner. */
export class GuestTc {
  private readonly applied = new Map<string, number | null>();
  private readonly tcPath: string;
  private readonly log: Logger;

  constructor(private readonly runner: TcRunner, private readonly opts: GuestTcOptions = {}) {
    this.tcPath = opts.tcPath ?? 'tc';
    this.log = (opts.logger ?? silentLogger).child({ vm: runner.vm });
  }

  /** Makes capBps the TX cap of iface (null lifts it); changes the class in place when daqs' qdisc is there. */
  async applyCap(iface: string, capBps: number | null, signal?: AbortSignal): Promise<ApplyOutcome> {
    const cached = this.applied.get(iface);
    if (cached !== undefined && capMatches(capBps, cached)) return 'unchanged';
    this.applied.delete(iface);
    if (capBps === null) {
      const r = await this.tc(buildLiftArgs(iface), signal);
      if (r.exitCode !== 0 && !isNothingToLift(r.stderr)) throw this.failure('lift cap', r);
      this.applied.set(iface, null);
      return 'lifted';
    }
    let outcome: ApplyOutcome = 'changed';
    // A lifted cap means no qdisc of ours: skip the change attempt that would fail.
    if (cached !== null) {
      const r = await this.tc(buildChangeArgs(iface, capBps, this.opts.tuning), signal);
      if (r.exitCode !== 0) {
        if (!isMissingClass(r.stderr)) throw this.failure('change cap', r);
        outcome = 'created';
      }
    } else {
      outcome = 'created';
    }
    if (outcome === 'created') {
      const now = await this.readCap(iface, signal);
      if (!now.rootIsOurs) {
        const q = await this.tc(buildQdiscArgs(iface), signal);
        if (q.exitCode !== 0) throw this.failure('install qdisc', q);
      }
      const r = await this.tc(buildClassReplaceArgs(iface, capBps, this.opts.tuning), signal);
      if (r.exitCode !== 0) throw this.failure('install cap', r);
      this.log.debug({ capBps, op: 'tc-create' }, 'cap installed');
    }
    this.applied.set(iface, capBps);
    return outcome;
  }

  /** Reads the cap in force on iface from the guest's tc; a result unlike the cached cap clears the cache (drift). */
  async readCap(iface: string, signal?: AbortSignal): Promise<TcCapReading> {
    const [qdiscArgs, classArgs] = buildReadArgs(iface);
    const q = await this.tc(qdiscArgs, signal);
    if (q.exitCode !== 0) throw this.failure('read tc', q);
    const c = await this.tc(classArgs, signal);
    if (c.exitCode !== 0) throw this.failure('read tc', c);
    const reading = capFromShow(parseTcShow(`${q.stdout}\n${c.stdout}`));
    const cached = this.applied.get(iface);
    if (cached !== undefined && !capMatches(cached, reading.capBps)) {
      this.log.warn({ op: 'tc-read', wantedBps: cached, found: reading.detail }, 'tc drift: the guest changed or removed the cap');
      this.applied.delete(iface);
    }
    return reading;
  }

  /** Forgets what was applied, so the next applyCap runs tc whatever the cache said. */
  forget(iface?: string): void {
    if (iface === undefined) this.applied.clear();
    else this.applied.delete(iface);
  }

  private async tc(args: string[], signal?: AbortSignal): Promise<TcRunResult> {
    try {
      return await this.runner.run({ path: this.tcPath, args, timeoutMs: this.opts.timeoutMs ?? 900, signal });
    } catch (e) {
      // An exec whose outcome we did not see may or may not have changed tc.
      this.applied.clear();
      throw e;
    }
  }

  private failure(what: string, r: TcRunResult): TcError {
    return new TcError('E_EXEC_FAILED', this.runner.vm, `tc ${what}`, `${what}: ${this.tcPath} exited ${r.exitCode ?? `by signal ${r.signal}`}: ${r.stderr.trim().slice(0, 400) || '(no stderr)'}`);
  }
}
