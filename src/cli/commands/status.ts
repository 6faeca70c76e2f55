/**
 * `daqs status [--json] [--address HOST:PORT|SOCKET]`: what the running daemon sees right now,
 * read from its /api/status. The table is rendered by a pure function so it is tested on
 * real snapshots without a terminal.
 */
import { readFile } from 'node:fs/promises';
import { parseConfigText } from '../../config/index.ts';
import type { VmTickReport } from '../../core/types.ts';
import { DEFAULT_ADDRESS } from '../../server/address.ts';
import { ServerAddressError, formatListenAddress, parseListenAddress } from '../../util/listen-address.ts';
import { fetchStatus, type StatusResponse } from '../../server/status-client.ts';
import { formatRate } from '../../units/rate.ts';
import { renderTable } from '../../util/text-table.ts';
import { defineCommand, UsageError, type CommandIo } from '../define.ts';
import { wholeNumber } from '../values.ts';

/** Where run() writes; the CLI edge passes the console, tests pass collectors. */
export type StatusIo = CommandIo;

/** Runs `daqs status`; resolves to the exit code. */
export const run = defineCommand({
  name: 'status',
  description: 'Shows what the running daemon sees, read from its /api/status: the port, and each VM\'s\nrole, guarantee, rate, demand, cap and whether its guarantee is met.',
  options: {
    json: { type: 'boolean', help: "print the daemon's status as JSON (for scripts)" },
    address: { type: 'string', value: 'ADDR', help: `where the daemon serves status: HOST:PORT or a unix socket path (default ${DEFAULT_ADDRESS}, the default of daemon.status)` },
    config: { type: 'string', short: 'c', value: 'FILE', help: "read the address from daemon.status of the daemon's config file" },
    'timeout-ms': { type: 'string', value: 'N', default: '3000', parse: wholeNumber(1), help: 'give up after N milliseconds' },
  },
}, async ({ values }, io) => {
  if (values.address !== undefined && values.config !== undefined) throw new UsageError('--address and --config both say where the daemon is: give one');
  const address = values.address ?? (values.config !== undefined ? await statusAddressOf(values.config) : DEFAULT_ADDRESS);
  try {
    parseListenAddress(address);
  } catch (err) {
    if (err instanceof ServerAddressError) throw new UsageError(`--address: ${err.message}`);
    throw err;
  }
  const status = await fetchStatus(address, values['timeout-ms']);
  if (values.json) {
    io.out(JSON.stringify(status, null, 2));
    return 0;
  }
  io.out(renderStatus(status));
  const stale = staleWarning(status);
  if (stale) io.err(stale);
  return 0;
});

/** The human-readable status: a header, the port, and one row per VM. */
export function renderStatus(s: StatusResponse): string {
  const lines: string[] = [];
  const t = s.latest;
  const head = [`daqs ${s.info.version} on ${s.info.hostname}`, `policy ${s.info.policy ?? t?.policy ?? '?'}`, `up ${formatAge(s.nowEpochMs - s.info.startedAtEpochMs)}`];
  if (t) head.push(`tick #${t.tick} (${formatAge(s.lastTickAgeMs ?? 0)} ago, took ${t.durationMs.toFixed(1)} ms${t.overran ? ', overran' : ''})`);
  lines.push(head.join(' · '));
  const cfg = [`config ${s.info.configPath ?? '(none)'}`, `reloads ${s.config.reloads}`, `rejected ${s.config.rejections}`];
  if (s.config.lastRejection) cfg.push(`last rejection: ${s.config.lastRejection.message}`);
  lines.push(cfg.join(' · '));
  if (!t) {
    lines.push('', 'no tick yet: the control loop has not completed its first pass.');
    return lines.join('\n');
  }
  const p = t.port;
  const capacity = p.learnedCapacityBps || p.nominalCapacityBps;
  const pct = capacity > 0 ? ` (${Math.round((100 * p.usedBps) / capacity)}% of learned)` : '';
  const inv = s.inventory;
  if (inv) {
    const counts = Object.entries(inv.vms).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`);
    const refreshed = inv.lastRefreshEpochMs === null ? 'never listed VMs' : `listed ${formatAge(s.nowEpochMs - inv.lastRefreshEpochMs)} ago`;
    lines.push(`inventory: ${counts.length > 0 ? counts.join(', ') : 'no VMs'} · ${refreshed}${inv.refreshFailures > 0 ? ` · ${inv.refreshFailures} failed lookups` : ''}`);
  }
  lines.push(`port ${s.info.portName ?? ''}: used ${formatRate(p.usedBps)}${pct}, learned capacity ${formatRate(p.learnedCapacityBps)}, nominal ${formatRate(p.nominalCapacityBps)}`.replace('port :', 'port:'));
  lines.push('');
  if (t.vms.length === 0) {
    lines.push('no VMs found.');
    return lines.join('\n');
  }
  const withMax = t.vms.some((v) => v.sla.maxBps !== null);
  const header = ['VM', 'ROLE', 'GUARANTEE', ...(withMax ? ['MAX'] : []), 'RATE', 'DEMAND', 'CAP', 'MET', 'AGENT'];
  const rows = [...t.vms].sort(byRoleThenName).map((v) => [
    v.id,
    v.role,
    `${v.sla.guaranteeBps > 0 ? formatRate(v.sla.guaranteeBps) : '-'} (${v.slaSource.guaranteeBps})`,
    ...(withMax ? [v.sla.maxBps === null ? '-' : `${formatRate(v.sla.maxBps)} (${v.slaSource.maxBps})`] : []),
    rate(v.rateBps),
    rate(v.demandBps),
    v.capBps === null ? 'none' : formatRate(v.capBps),
    // An idle Guarantee VM is not being delivered anything: "idle", not "yes".
    v.idle ? 'idle' : v.guaranteeMet === null ? '-' : v.guaranteeMet ? 'yes' : 'NO',
    v.error ? `${v.error.code}: ${v.error.message}` : v.agentRttMs === null ? '-' : `${v.agentRttMs.toFixed(1)} ms`,
  ]);
  lines.push(...renderTable(header, rows));
  return lines.join('\n');
}

/** A warning when the loop has not ticked for a while, or null. */
export function staleWarning(s: StatusResponse): string | null {
  const periodMs = s.info.tickPeriodMs ?? 200;
  if (s.lastTickAgeMs === null || s.lastTickAgeMs <= Math.max(5000, 10 * periodMs)) return null;
  return `warning: the last tick was ${formatAge(s.lastTickAgeMs)} ago (tick period ${periodMs} ms): the control loop may be stuck; see \`journalctl -u daqs\`.`;
}

function rate(bps: number | null): string {
  return bps === null ? '-' : formatRate(bps);
}

function byRoleThenName(a: VmTickReport, b: VmTickReport): number {
  if (a.role !== b.role) return a.role === 'guarantee' ? -1 : 1;
  return a.id.localeCompare(b.id, undefined, { numeric: true });
}

function formatAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// The status address as the daemon reads it from its config file (a bad file says why).
async function statusAddressOf(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--config ${path}: cannot read it (${e.code ?? e.message})`);
  });
  return formatListenAddress(parseConfigText(text, path).daemon.status);
}
