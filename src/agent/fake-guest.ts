/**
 * A guest for the scripted fake agent: interfaces with TX counters, guest-info, guest-exec of
 * `tc` with the subset of tc that daqs uses (htb root qdisc and class: replace, change, del,
 * show), kept as real state. Lets the endpoint and the controller run without root, and
 * shows what the guest saw (exec count, the cap in force).
 */
import type { FakeHandler, FakeReply } from './fake-agent.ts';
import type { JsonValue } from '../util/json.ts';

/** One interface of the fake guest. */
export interface FakeGuestInterface {
  name: string;
  mac: string;
  txBytes: bigint;
  /** false: the agent lists the interface without statistics. */
  hasStats?: boolean;
}

type Cls = { rateBps: number; burstBytes: number };
type Qdisc = { handle: string; classes: Map<string, Cls> };

/** A fake guest's state plus the handler that serves it. */
export class FakeGuest {
  /** guest-exec calls so far (each one is a process a real guest would spawn). */
  execCount = 0;
  private readonly qdiscs = new Map<string, Qdisc>();
  private readonly results = new Map<number, { exitcode: number; out: string; err: string }>();
  private nextPid = 1000;

  constructor(readonly interfaces: FakeGuestInterface[], readonly version = '7.2.22') {}

  /** The cap (ceil) of class dac5:1 on iface, or null. */
  capOf(iface: string): number | null {
    return this.qdiscs.get(iface)?.classes.get('dac5:1')?.rateBps ?? null;
  }

  /** What a guest user renaming the interface does (`ip link set OLD name NEW`): its qdiscs go with it. */
  renameInterface(from: string, to: string): void {
    const i = this.interfaces.find((x) => x.name === from);
    if (!i) throw new Error(`fake guest has no interface ${from}`);
    i.name = to;
    const q = this.qdiscs.get(from);
    this.qdiscs.delete(from);
    if (q) this.qdiscs.set(to, q);
  }

  /** What a guest user deleting the root qdisc does. */
  deleteRootQdisc(iface: string): void {
    this.qdiscs.delete(iface);
  }

  /** The FakeHandler to pass to startFakeAgent. */
  readonly handler: FakeHandler = (req) => {
    switch (req.execute) {
      case 'guest-info':
        return { return: { version: this.version, supported_commands: ['guest-exec', 'guest-exec-status', 'guest-network-get-interfaces', 'guest-info'].map((name) => ({ name, enabled: true })) } };
      case 'guest-network-get-interfaces':
        return { return: this.interfaces.map((i) => ({ name: i.name, 'hardware-address': i.mac, ...(i.hasStats === false ? {} : { statistics: { 'tx-bytes': i.txBytes, 'rx-bytes': 0 } }) })) };
      case 'guest-exec':
        return this.exec(req.arguments);
      case 'guest-exec-status': {
        const pid = Number(req.arguments.pid);
        const r = this.results.get(pid);
        if (!r) return { error: { class: 'GenericError', desc: "Invalid parameter 'pid'" } };
        this.results.delete(pid);
        return { return: { exited: true, exitcode: r.exitcode, 'out-data': Buffer.from(r.out).toString('base64'), 'err-data': Buffer.from(r.err).toString('base64') } };
      }
      default:
        return undefined;
    }
  };

  private exec(args: { readonly [k: string]: JsonValue }): FakeReply {
    this.execCount++;
    const path = String(args.path);
    const argv = Array.isArray(args.arg) ? args.arg.map(String) : [];
    const stdin = typeof args['input-data'] === 'string' ? Buffer.from(args['input-data'], 'base64').toString() : '';
    if (!path.endsWith('tc')) return { error: { class: 'GenericError', desc: `Guest agent command failed, error was 'Failed to execute child process “${path}” (No such file or directory)'` } };
    // argv as given (a name may hold any character but blanks); -batch lines split like tc does.
    const commands = argv.includes('-batch') ? stdin.split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/)) : [argv];
    let out = '';
    let err = '';
    let exitcode = 0;
    for (const command of commands) {
      const r = this.tc(command.filter((a) => a !== '-s'));
      out += r.out;
      if (r.err) {
        err += r.err;
        exitcode = r.code;
        break;
      }
    }
    const pid = this.nextPid++;
    this.results.set(pid, { exitcode, out, err });
    return { return: { pid } };
  }

  private tc(t: string[]): { out: string; err: string; code: number } {
    const at = (k: string): string | undefined => t[t.indexOf(k) + 1];
    const dev = at('dev') ?? '';
    if (!this.interfaces.some((i) => i.name === dev)) return { out: '', err: `Cannot find device "${dev}"\n`, code: 1 };
    const q = this.qdiscs.get(dev);
    const [obj, verb] = t;
    if (obj === 'qdisc' && verb === 'show') {
      return { out: q ? `qdisc htb ${q.handle} root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000\n Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n` : 'qdisc noqueue 0: root refcnt 2\n', err: '', code: 0 };
    }
    if (obj === 'class' && verb === 'show') {
      const lines = q ? [...q.classes].map(([id, c]) => `class htb ${id} root prio 0 rate ${c.rateBps}bit ceil ${c.rateBps}bit burst ${c.burstBytes}b cburst ${c.burstBytes}b\n`) : [];
      return { out: lines.join(''), err: '', code: 0 };
    }
    if (obj === 'qdisc' && verb === 'replace') {
      if (q) return { out: '', err: 'Error: Change operation not supported by specified qdisc.\n', code: 2 };
      this.qdiscs.set(dev, { handle: at('handle') ?? '0:', classes: new Map() });
      return { out: '', err: '', code: 0 };
    }
    if (obj === 'qdisc' && verb === 'del') {
      if (!q) return { out: '', err: 'Error: Cannot delete qdisc with handle of zero.\n', code: 2 };
      if (at('handle') !== undefined && at('handle') !== q.handle) return { out: '', err: 'Error: Invalid handle.\n', code: 2 };
      this.qdiscs.delete(dev);
      return { out: '', err: '', code: 0 };
    }
    if (obj === 'class' && (verb === 'change' || verb === 'replace')) {
      const id = at('classid') ?? '';
      if (!q || (verb === 'change' && !q.classes.has(id))) return { out: '', err: 'RTNETLINK answers: No such file or directory\n', code: 2 };
      q.classes.set(id, { rateBps: Number.parseInt(at('rate') ?? '0', 10), burstBytes: Number(at('burst') ?? 0) });
      return { out: '', err: '', code: 0 };
    }
    return { out: '', err: `fake tc does not know: ${t.join(' ')}\n`, code: 1 };
  }
}
