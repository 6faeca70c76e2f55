/** The `daqs` entry point as a user meets it: exit codes, messages, --help of every command. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS, runMain } from '../../src/cli/main.ts';

const EXAMPLE = new URL('../../deploy/daqs.example.yaml', import.meta.url).pathname;

// Runs the CLI in-process; returns the exit code and what it printed.
async function daqs(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const before = process.exitCode;
  try {
    await runMain(argv);
    return { code: Number(process.exitCode ?? 0), out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.exitCode = before;
    log.mockRestore();
    error.mockRestore();
  }
}

describe('daqs', () => {
  it('lists every command with its summary, and exits 2 when no command is given', async () => {
    const help = await daqs('--help');
    expect(help.code).toBe(0);
    for (const [name, c] of Object.entries(COMMANDS)) expect(help.out).toContain(`  ${name}`.padEnd(14) + c.summary);
    expect((await daqs()).code).toBe(2);
  });

  it('refuses an unknown command with exit 2 and the list', async () => {
    const r = await daqs('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "frobnicate".*run, status, plan/);
  });

  it.each(Object.keys(COMMANDS))('daqs %s --help prints its usage and exits 0; an unknown option exits 2 with the usage', async (name) => {
    const help = await daqs(name, '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(new RegExp(`^usage: daqs ${name}`));
    expect(await daqs('help', name)).toEqual(help);
    const bad = await daqs(name, '--no-such-option');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(new RegExp(`^daqs ${name}: Unknown option '--no-such-option'`));
    expect(bad.err).toContain(`usage: daqs ${name}`);
  });

  it('daqs --version and daqs version print package.json\'s version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    expect(await daqs('--version')).toEqual({ code: 0, out: version, err: '' });
    expect(await daqs('version')).toEqual({ code: 0, out: version, err: '' });
  });
});

describe('daqs plan', () => {
  it('plans for the VMs of the config and for Best-Effort VMs it does not list', async () => {
    const r = await daqs('plan', '--config', EXAMPLE, '--rate', 'web1=12gbit', '--rate', 'batch1=35gbit', '--best-effort', 'other=5gbit', '--json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as { rows: { id: string; sla: { guaranteeBps: number } }[] };
    expect(plan.rows.map((row) => [row.id, row.sla.guaranteeBps])).toEqual([['web1', 10e9], ['db1', 5e9], ['batch1', 0], ['other', 0]]);
  });

  it.each<[string[], RegExp]>([
    // A typo must not become a Best-Effort VM: it would silently plan for the wrong VM set.
    [['--rate', 'web=12gbit'], /--rate web=\.\.\.: .* has no VM "web" \(it lists web1, db1, batch1\); for a Best-Effort VM the file does not list, use --best-effort web=RATE/],
    [['--best-effort', 'web1=1gbit'], /--best-effort web1=\.\.\.: web1 is in .*: use --rate web1=RATE/],
    [['--rate', 'web1=1gbit', '--rate', 'web1=2gbit'], /--rate: web1 is given twice/],
    [['--policy', 'bogus'], /--policy: "bogus" is not one of daqs, paper, fair, weighted, static/],
    [['--rate', 'web1'], /--rate: "web1" must be VM=RATE/],
    [['--ticks', '0'], /--ticks: "0" is not a whole number from 1 to 1000/],
  ])('%j exits 2 naming the mistake', async (args, message) => {
    const r = await daqs('plan', '--config', EXAMPLE, ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('daqs run --check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'daqs-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says what the daemon would run with, and exits 0', async () => {
    const r = await daqs('run', '--check', '--config', EXAMPLE);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('OK, daqs run would start with it');
    expect(r.out).toContain('port enp65s0f0, capacity 40gbit (port.capacity), tick 200 ms, policy daqs');
    expect(r.out).toContain('3 VMs in the file: 2 with a guarantee (15gbit of 40gbit)');
  });

  it('refuses a file the daemon would refuse, naming every problem, with exit 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'port: { interface: eth0, capacity: 10gbit }\nvms:\n  web1: { guarantee: 8gbit }\n  web2: { guarantee: 4gbit, maxx: 1gbit }\n');
    const r = await daqs('run', '--check', '--config', file);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/vms\.web2\.maxx: unknown key \(did you mean 'max'\?\)/);
    expect(r.err).toMatch(/guarantees add up to 12gbit .* more than the port capacity 10gbit/);
  });

  it('reports a missing file as such', async () => {
    const r = await daqs('run', '--check', '--config', join(dir, 'absent.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the file does not exist/);
  });
});
