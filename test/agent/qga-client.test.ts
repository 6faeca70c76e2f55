import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../../src/agent/errors.ts';
import { startFakeAgent, type FakeAgent, type FakeHandler } from '../../src/agent/fake-agent.ts';
import { GuestExecutor } from '../../src/agent/guest-exec.ts';
import { QgaClient, type QgaClientOptions } from '../../src/agent/qga-client.ts';
import { checkCapabilities } from '../../src/agent/capabilities.ts';
import { createLogger } from '../../src/util/log.ts';

let dir: string;
let n = 0;
const open: { agent?: FakeAgent; client?: QgaClient }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agq-'));
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.client?.close();
    await o.agent?.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup(handler: FakeHandler, opts: Partial<QgaClientOptions> = {}): Promise<{ agent: FakeAgent; client: QgaClient }> {
  const path = join(dir, `s${n++}`);
  const agent = await startFakeAgent(path, handler);
  const client = new QgaClient({ socketPath: path, vm: 'vm-test', defaultTimeoutMs: 3000, ...opts });
  open.push({ agent, client });
  return { agent, client };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    return (e as AgentError).code;
  }
}

async function errOf(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AgentError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

// Retries like the control loop would at its next ticks, until the client has reconnected.
async function eventually<T>(f: () => Promise<T>, attempts = 40): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await f();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw last;
}

const echo: FakeHandler = (req) => (req.execute === 'echo' ? { return: req.arguments } : undefined);

describe('QgaClient against a scripted agent', () => {
  it('returns the reply of its own request and keeps 64-bit integers exact', async () => {
    const { client } = await setup((req) => (req.execute === 'big' ? { raw: `{"return": {"tx-bytes": 18446744073709551615}, "id": ${String(req.id)}}\n` } : echo(req)));
    expect(await client.execute('echo', { a: 1 })).toEqual({ a: 1 });
    expect(await client.execute('big')).toEqual({ 'tx-bytes': 18446744073709551615n });
  });

  it('answers many concurrent callers each with their own reply, one in flight at a time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { client } = await setup(async (req) => {
      if (req.execute !== 'echo') return undefined;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      inFlight--;
      return { return: req.arguments };
    });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => client.execute<{ i: number }>('echo', { i }, { timeoutMs: 5000 })));
    expect(results.map((r) => r.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(maxInFlight).toBe(1);
  });

  it('ignores garbage lines and random bytes before the reply', async () => {
    const noise = Buffer.from([0x00, 0x7b, 0x22, 0xfe, 0x0a, 0x5b, 0x31, 0x2c, 0x0a, 0x6e, 0x75, 0x6c, 0x0a]);
    const { client } = await setup((req) =>
      req.execute === 'echo' ? { sequence: [{ raw: 'not json at all\n' }, { raw: noise }, { raw: '42\n[1,2]\n' }, { return: req.arguments }] } : undefined,
    );
    expect(await client.execute('echo', { x: 'y' })).toEqual({ x: 'y' });
    expect(client.ignored.garbage).toBeGreaterThanOrEqual(3);
  });

  it('times out on truncated JSON, then resyncs and answers the next call', async () => {
    let calls = 0;
    const { client } = await setup((req) => {
      if (req.execute !== 'echo') return undefined;
      calls++;
      return calls === 1 ? { raw: '{"return": {"pi\n' } : { return: req.arguments };
    });
    expect(await codeOf(client.execute('echo', { n: 1 }, { timeoutMs: 100 }))).toBe('E_AGENT_TIMEOUT');
    expect(await client.execute('echo', { n: 2 })).toEqual({ n: 2 });
  });

  it('discards a late reply that arrives after its caller timed out', async () => {
    const { client } = await setup((req) => {
      if (req.execute !== 'echo') return undefined;
      return req.arguments.n === 1 ? { delayMs: 250, then: { return: { n: 'late' } } } : { return: req.arguments };
    });
    expect(await codeOf(client.execute('echo', { n: 1 }, { timeoutMs: 80 }))).toBe('E_AGENT_TIMEOUT');
    expect(await client.execute('echo', { n: 2 }, { timeoutMs: 3000 })).toEqual({ n: 2 });
    expect(await client.execute('echo', { n: 3 })).toEqual({ n: 3 });
  });

  it('skips stale replies carrying other ids', async () => {
    const { client } = await setup((req) => {
      if (req.execute !== 'echo') return undefined;
      const id = Number(req.id);
      return { sequence: [{ raw: `{"return": "stale", "id": ${id - 1}}\n{"return": "no id"}\n` }, { return: req.arguments }, { raw: `{"return": "after", "id": ${id}}\n` }] };
    });
    expect(await client.execute('echo', { n: 1 })).toEqual({ n: 1 });
    expect(await client.execute('echo', { n: 2 })).toEqual({ n: 2 });
    expect(client.ignored.stale).toBeGreaterThanOrEqual(3);
  });

  it('recovers from a hung connection: timeout, failed resyncs, a fresh connection, then answers', async () => {
    const { agent, client } = await setup((req) => {
      if (req.execute === 'echo' && req.connection === 1) return { hang: true };
      return echo(req);
    }, { maxFailedResyncs: 2 });
    expect(await codeOf(client.execute('echo', { n: 1 }, { timeoutMs: 80 }))).toBe('E_AGENT_TIMEOUT');
    // One failed resync is a slow agent: the connection stays. The second gives it up (drained, not cut).
    expect(await codeOf(client.execute('echo', { n: 2 }, { timeoutMs: 80 }))).toBe('E_AGENT_TIMEOUT');
    expect(agent.connections).toBe(1);
    expect(await codeOf(client.execute('echo', { n: 3 }, { timeoutMs: 80 }))).toBe('E_AGENT_TIMEOUT');
    expect(await client.execute('echo', { n: 4 })).toEqual({ n: 4 });
    expect(agent.connections).toBe(2);
  });

  it('reports a disconnect mid-reply and reconnects', async () => {
    const { agent, client } = await setup((req) => {
      if (req.execute === 'echo' && req.connection === 1) return { disconnect: true, partial: '{"return": {"n": 1' };
      return echo(req);
    });
    expect(await codeOf(client.execute('echo', { n: 1 }))).toBe('E_AGENT_DISCONNECTED');
    expect(await eventually(() => client.execute('echo', { n: 2 }))).toEqual({ n: 2 });
    expect(agent.connections).toBe(2);
  });

  it('reports a disabled command once as a configuration problem and stops sending it', async () => {
    let execCalls = 0;
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', pretty: false, destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const { client } = await setup(
      (req) => {
        if (req.execute === 'guest-exec') {
          execCalls++;
          return { error: { class: 'CommandNotFound', desc: 'Command guest-exec has been disabled' } };
        }
        return echo(req);
      },
      { logger },
    );
    const errors: AgentError[] = [];
    for (let i = 0; i < 3; i++) await client.execute('guest-exec', { path: '/bin/true' }).catch((e: AgentError) => errors.push(e));
    expect(errors.map((e) => e.code)).toEqual(['E_AGENT_DISABLED', 'E_AGENT_DISABLED', 'E_AGENT_DISABLED']);
    expect(errors[0]?.agentClass).toBe('CommandNotFound');
    expect(errors[0]?.vm).toBe('vm-test');
    expect(errors[0]?.message).toMatch(/block-rpcs/);
    expect(execCalls).toBe(1);
    expect(lines.filter((l) => l.includes('configuration problem'))).toHaveLength(1);
    expect(await client.execute('echo', { ok: true })).toEqual({ ok: true });
  });

  it('keeps class and desc of an agent error', async () => {
    const { client } = await setup((req) => (req.execute === 'guest-exec-status' ? { error: { class: 'GenericError', desc: "Invalid parameter 'pid'" } } : undefined));
    const e = await errOf(client.execute('guest-exec-status', { pid: 1 }));
    expect(e).toBeInstanceOf(AgentError);
    expect([e.code, e.agentClass, e.agentDesc, e.operation]).toEqual(['E_AGENT_COMMAND', 'GenericError', "Invalid parameter 'pid'", 'guest-exec-status']);
  });

  it('reads exec output up to the bound the caller set, cleaned, with the truncation flags', async () => {
    const out = Buffer.alloc(2 * 1024 * 1024, 'x');
    const { client } = await setup((req) => {
      if (req.execute === 'guest-exec') return { return: { pid: 4242 } };
      if (req.execute === 'guest-exec-status') {
        return { return: { exited: true, exitcode: 0, 'out-data': out.toString('base64'), 'out-truncated': true, 'err-data': Buffer.from('\u001b[31mred\nline').toString('base64'), 'err-truncated': false } };
      }
      return undefined;
    });
    const r = await new GuestExecutor(client, { maxStatusReplyBytes: 4 * 1024 * 1024 }).run({ path: '/bin/cat', args: ['/dev/zero'], timeoutMs: 10_000 });
    expect(r.stdout).toBe(`${'x'.repeat(199)}…`);
    expect(r.stderr).toBe('red line');
    expect([r.stdoutTruncated, r.stderrTruncated, r.exitCode]).toEqual([true, false, 0]);
    expect(await codeOf(client.execute('echo', {}))).toBe('E_AGENT_NOT_FOUND');
  });

  it('drops a reply line over maxLineBytes and stays usable', async () => {
    const { client } = await setup((req) => (req.execute === 'huge' ? { return: 'y'.repeat(4096) } : echo(req)), { maxLineBytes: 1024 });
    expect(await codeOf(client.execute('huge'))).toBe('E_AGENT_PROTOCOL');
    expect(await client.execute('echo', { n: 5 })).toEqual({ n: 5 });
  });

  it('passes stdin as input-data and polls status until exit', async () => {
    let polls = 0;
    let stdin = '';
    const { client } = await setup((req) => {
      if (req.execute === 'guest-exec') {
        stdin = Buffer.from(String(req.arguments['input-data']), 'base64').toString();
        return { return: { pid: 7 } };
      }
      if (req.execute === 'guest-exec-status') {
        polls++;
        return polls < 3 ? { return: { exited: false } } : { return: { exited: true, signal: 9, 'err-data': Buffer.from('bye').toString('base64') } };
      }
      return undefined;
    });
    const r = await new GuestExecutor(client).run({ path: 'tc', args: ['-batch', '-'], stdin: 'qdisc show\n', timeoutMs: 5000, callTimeoutMs: 3000 });
    expect(stdin).toBe('qdisc show\n');
    expect(polls).toBe(3);
    expect([r.exitCode, r.signal, r.stderr]).toEqual([null, 9, 'bye']);
  });

  it('fails fast while the agent is down and connects at the very next call once it is up', async () => {
    const path = join(dir, `s${n++}`);
    const client = new QgaClient({ socketPath: path, vm: 'vm-late' });
    open.push({ client });
    for (let i = 0; i < 5; i++) expect(await codeOf(client.execute('echo', {}))).toBe('E_AGENT_UNAVAILABLE');
    const agent = await startFakeAgent(path, echo);
    open.push({ agent });
    // No backoff to sit out: the first call after the agent is back is answered.
    expect(await client.execute('echo', { up: 1 })).toEqual({ up: 1 });
  });

  it('refuses a second owner of the same socket', async () => {
    const { agent } = await setup(echo);
    expect(() => new QgaClient({ socketPath: agent.socketPath })).toThrow(expect.objectContaining({ code: 'E_AGENT_SOCKET_OWNED' }));
  });

  it('rejects an aborted call and answers the next one correctly', async () => {
    const { client } = await setup((req) => (req.execute === 'slow' ? { delayMs: 200, then: { return: 'slow' } } : echo(req)));
    const ac = new AbortController();
    const p = client.execute('slow', undefined, { signal: ac.signal, timeoutMs: 900 });
    setTimeout(() => ac.abort(), 20);
    expect(await codeOf(p)).toBe('E_AGENT_ABORTED');
    expect(await client.execute('echo', { n: 9 }, { timeoutMs: 3000 })).toEqual({ n: 9 });
  });

  it('rejects calls after close', async () => {
    const { client } = await setup(echo);
    await client.close();
    expect(await codeOf(client.execute('echo', {}))).toBe('E_AGENT_CLOSED');
  });

  it('names every missing capability', async () => {
    const { client } = await setup((req) =>
      req.execute === 'guest-info'
        ? { return: { version: '7.2.0', supported_commands: [{ name: 'guest-exec', enabled: false }, { name: 'guest-exec-status', enabled: true }] } }
        : undefined,
    );
    const e = await errOf(checkCapabilities(client));
    expect(e.code).toBe('E_AGENT_CAPABILITY');
    expect(e.message).toMatch(/guest-exec is disabled/);
    expect(e.message).toMatch(/guest-network-get-interfaces is not supported/);
  });
});
