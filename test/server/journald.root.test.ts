/**
 * Log levels reach a real journal as priorities: `daqs run` with its stdout connected to a
 * real systemd-journald (started for the test in a private mount namespace, so the host's
 * /run is untouched), as systemd connects a service's stdout, with JOURNAL_STREAM set as
 * systemd sets it. `journalctl -p warning` must then show daqs' warnings and not its info
 * lines; without JOURNAL_STREAM (the issue's "before") every line lands at one priority.
 * Needs root (mount namespace) and the systemd package (journald, systemd-cat, journalctl).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JOURNALD = '/lib/systemd/systemd-journald';

interface Entry { PRIORITY: string; MESSAGE: string; SYSLOG_IDENTIFIER: string }

const dir = mkdtempSync(join(tmpdir(), 'daqs-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One VM whose agent socket does not exist: the loop warns that its agent is unreachable.
const config = join(dir, 'daqs.yaml');
writeFileSync(config, ['port:', '  interface: lo', '  capacity: 1gbit', 'inventory:', '  source: static', '  static:', `    - name: opsjvm`, `      socket: ${dir}/missing.sock`, 'daemon:', '  logLevel: info', ''].join('\n'));

// Runs inside `unshare -m`: a private /run/systemd and /run/log, journald, two daemons, the queries.
const script = `
set -eu
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; }
mkdir -p /run/systemd/journal
mkdir -p /run/log && mount -t tmpfs tmpfs /run/log && mkdir -p /run/log/journal
${JOURNALD} >/dev/null 2>&1 &
J=$!
trap 'kill $J 2>/dev/null; wait $J 2>/dev/null || true' EXIT
for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done
cd ${ROOT}
# As systemd does for a service: JOURNAL_STREAM names the stream stdout is connected to.
systemd-cat -t daqs-prio sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/1); export JOURNAL_STREAM; exec timeout -s TERM 8 ${process.execPath} bin/daqs.js run --config ${config} --listen 127.0.0.1:0' || true
systemd-cat -t daqs-plain sh -c 'exec timeout -s TERM 6 ${process.execPath} bin/daqs.js run --config ${config} --listen 127.0.0.1:0' || true
journalctl --sync 2>/dev/null || sleep 1
echo '--- all'
journalctl -D /run/log/journal -o json --no-pager -t daqs-prio
echo '--- warning'
journalctl -D /run/log/journal -o json --no-pager -t daqs-prio -p warning
echo '--- plain'
journalctl -D /run/log/journal -o json --no-pager -t daqs-plain
`;

function sections(out: string): Record<string, Entry[]> {
  const result: Record<string, Entry[]> = {};
  let current = '';
  for (const line of out.split('\n')) {
    const m = /^--- (\w+)$/.exec(line);
    if (m) {
      current = m[1]!;
      result[current] = [];
    } else if (current && line.startsWith('{')) {
      result[current]!.push(JSON.parse(line) as Entry);
    }
  }
  return result;
}

describe('daqs run under a real journald', () => {
  it('files warnings at priority 4 and info at 6, so journalctl -p warning shows only the warnings', () => {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const s = sections(r.stdout);
    const all = s.all ?? [];
    const parsed = all.map((e) => ({ priority: Number(e.PRIORITY), line: JSON.parse(e.MESSAGE) as { level: string; msg: string } }));
    // The journal stripped the prefix: the message is daqs' JSON line as it was.
    expect(parsed.length).toBeGreaterThan(3);
    const byLevel = (level: string) => parsed.filter((p) => p.line.level === level);
    expect(byLevel('info').length).toBeGreaterThan(0);
    expect(byLevel('warn').length).toBeGreaterThan(0);
    expect(new Set(byLevel('info').map((p) => p.priority))).toEqual(new Set([6]));
    expect(new Set(byLevel('warn').map((p) => p.priority))).toEqual(new Set([4]));
    expect(byLevel('warn').some((p) => p.line.msg.includes('agent unreachable'))).toBe(true);
    const warningOnly = (s.warning ?? []).map((e) => (JSON.parse(e.MESSAGE) as { level: string }).level);
    expect(warningOnly.length).toBe(byLevel('warn').length + byLevel('error').length + byLevel('fatal').length);
    expect(warningOnly.filter((l) => l === 'info' || l === 'debug')).toEqual([]);
    // Before: without JOURNAL_STREAM nothing is prefixed and every line is filed at one priority.
    const plain = s.plain ?? [];
    expect(plain.some((e) => (JSON.parse(e.MESSAGE) as { level: string }).level === 'warn')).toBe(true);
    expect(new Set(plain.map((e) => e.PRIORITY))).toEqual(new Set(['6']));
  });
});
