import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/server/grafana-dashboard.ts';
import { DaqsMetrics } from '../../src/server/metrics.ts';
import { paperLikeVms, SyntheticHost } from './synthetic-host.ts';

interface Panel { id: number; type: string; datasource?: { uid: string }; gridPos: { x: number; w: number }; targets?: { expr: string }[] }
interface Dashboard { panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } }

const file = new URL('../../deploy/grafana-dashboard.json', import.meta.url);

describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

  it('is what buildDashboard() makes (regenerate: npx tsx src/server/grafana-dashboard.ts > deploy/grafana-dashboard.json)', () => {
    expect(dashboard).toEqual(buildDashboard());
  });

  it('queries only metrics daqs exports', async () => {
    const metrics = new DaqsMetrics({ processMetrics: false });
    const host = new SyntheticHost({ capacityBps: 2e9, vms: paperLikeVms(3, 10) });
    for (let i = 0; i < 3; i++) metrics.observeTick(host.step().report);
    const families = [...(await metrics.render()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    const exported = new Set(families.flatMap((f) => (f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name])));
    const used = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\bdaqs_[a-z_]+/g)].map((m) => m[0]))));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('picks its Prometheus data source by variable, with host and VM filters', () => {
    const vars = dashboard.templating.list;
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'instance', 'port', 'vm']);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, `panel ${p.id}`).toBe('${datasource}');
      for (const t of p.targets ?? []) {
        expect(t.expr, `panel ${p.id}`).toContain('instance=~"$instance"');
        // Per-VM and port series carry a port label: one daemon per port may share a host.
        if (/daqs_(vm_|port_|vms\b|inventory_)/.test(t.expr)) expect(t.expr, `panel ${p.id}`).toContain('port=~"$port"');
        // Rates come from the byte counters, never from a gauge.
        if (t.expr.includes('daqs_vm_tx_bytes_total')) expect(t.expr, `panel ${p.id}`).toMatch(/rate\(daqs_vm_tx_bytes_total\{[^}]*\}\[1m\]\)/);
      }
    }
  });

  it('has unique panel ids laid out on the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });
});
