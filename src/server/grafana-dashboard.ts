/**
 * The Grafana dashboard for daqs' metrics, built in code so its queries name the metrics
 * metrics.ts really exports (a test checks every name). deploy/grafana-dashboard.json is this
 * function's output; regenerate it with:
 *   npx tsx src/server/grafana-dashboard.ts > deploy/grafana-dashboard.json
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DS = { type: 'prometheus', uid: '${datasource}' };
const SEL = 'instance=~"$instance"';
const VM_SEL = `${SEL}, vm=~"$vm"`;

interface Target { expr: string; legend: string }

let nextId = 1;

function target(t: Target, i: number): Json {
  return { datasource: DS, expr: t.expr, legendFormat: t.legend, refId: String.fromCharCode(65 + i), range: true };
}

function timeseries(title: string, description: string, grid: { x: number; y: number; w: number; h: number }, unit: string, targets: Target[], overrides: Json[] = [], extra: { min?: number; stack?: boolean } = {}): Json {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    description,
    datasource: DS,
    gridPos: grid,
    fieldConfig: {
      defaults: {
        unit,
        min: extra.min ?? null,
        custom: { lineWidth: 2, fillOpacity: extra.stack ? 35 : 8, showPoints: 'never', spanNulls: false, stacking: { mode: extra.stack ? 'normal' : 'none', group: 'A' } },
      },
      overrides,
    },
    options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets.map(target),
  };
}

function stat(title: string, description: string, grid: { x: number; y: number; w: number; h: number }, unit: string, t: Target, thresholds: { color: string; value: number | null }[]): Json {
  return {
    id: nextId++,
    type: 'stat',
    title,
    description,
    datasource: DS,
    gridPos: grid,
    fieldConfig: { defaults: { unit, thresholds: { mode: 'absolute', steps: thresholds }, color: { mode: 'thresholds' } }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto' },
    targets: [target(t, 0)],
  };
}

function row(title: string, y: number): Json {
  return { id: nextId++, type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] };
}

function dashedWhere(regex: string, color?: string): Json {
  const properties: Json[] = [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }, { id: 'custom.fillOpacity', value: 0 }];
  if (color) properties.push({ id: 'color', value: { mode: 'fixed', fixedColor: color } });
  return { matcher: { id: 'byRegexp', options: regex }, properties };
}

/** Builds the dashboard JSON (Grafana 10+, schemaVersion 39, datasource picked by variable). */
export function buildDashboard(): Json {
  nextId = 1;
  const panels: Json[] = [
    row('Guarantees', 0),
    stat('Guarantees met', 'Guarantee VMs at or above min(guarantee, demand) right now.', { x: 0, y: 1, w: 4, h: 4 }, 'percentunit',
      { expr: `sum(daqs_vm_guarantee_met{${SEL}}) / count(daqs_vm_guarantee_met{${SEL}})`, legend: 'met' },
      [{ color: 'red', value: null }, { color: 'orange', value: 0.99 }, { color: 'green', value: 1 }]),
    stat('Port use', 'Measured TX of all VMs over the learned port capacity.', { x: 4, y: 1, w: 4, h: 4 }, 'percentunit',
      { expr: `sum(daqs_port_used_bits_per_second{${SEL}}) / sum(daqs_port_learned_capacity_bits_per_second{${SEL}})`, legend: 'use' },
      [{ color: 'blue', value: null }]),
    stat('VMs', 'VMs in the last tick.', { x: 8, y: 1, w: 4, h: 4 }, 'none',
      { expr: `sum(daqs_vms{${SEL}})`, legend: 'VMs' }, [{ color: 'blue', value: null }]),
    stat('Agents down', 'VMs whose guest agent failed in the last tick.', { x: 12, y: 1, w: 4, h: 4 }, 'none',
      { expr: `count(daqs_vm_agent_up{${SEL}} == 0) or vector(0)`, legend: 'down' }, [{ color: 'green', value: null }, { color: 'red', value: 1 }]),
    stat('Tick p99', 'Control loop tick duration, 99th percentile over 5 minutes.', { x: 16, y: 1, w: 4, h: 4 }, 's',
      { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
      [{ color: 'green', value: null }, { color: 'orange', value: 0.1 }, { color: 'red', value: 0.2 }]),
    stat('Last tick', 'Seconds since the control loop last ticked: it should stay below a second.', { x: 20, y: 1, w: 4, h: 4 }, 's',
      { expr: `time() - max(daqs_last_tick_timestamp_seconds{${SEL}})`, legend: 'age' },
      [{ color: 'green', value: null }, { color: 'orange', value: 2 }, { color: 'red', value: 10 }]),
    timeseries('TX rate vs guarantee', 'Measured TX rate per VM (solid) and its guarantee (dashed). A Guarantee VM under its dashed line while it wants more is a violation.', { x: 0, y: 5, w: 24, h: 9 }, 'bps',
      [
        { expr: `daqs_vm_tx_rate_bits_per_second{${VM_SEL}}`, legend: '{{vm}}' },
        { expr: `daqs_vm_guarantee_bits_per_second{${VM_SEL}} > 0`, legend: '{{vm}} guarantee' },
      ],
      [dashedWhere('.* guarantee$')], { min: 0 }),
    {
      id: nextId++,
      type: 'state-timeline',
      title: 'Guarantee met',
      description: '1 (green) when a Guarantee VM is at or above min(guarantee, demand); 0 (red) when not.',
      datasource: DS,
      gridPos: { x: 0, y: 14, w: 24, h: 5 },
      fieldConfig: {
        defaults: {
          color: { mode: 'thresholds' },
          thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
          mappings: [{ type: 'value', options: { '0': { text: 'violated', color: 'red' }, '1': { text: 'met', color: 'green' } } }],
        },
        overrides: [],
      },
      options: { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
      targets: [target({ expr: `daqs_vm_guarantee_met{${VM_SEL}}`, legend: '{{vm}}' }, 0)],
    },
    row('Allocation', 19),
    timeseries('Cap in force', 'TX cap daqs enforces in each VM; no line = uncapped (see daqs_vm_capped).', { x: 0, y: 20, w: 12, h: 8 }, 'bps',
      [{ expr: `daqs_vm_cap_bits_per_second{${VM_SEL}}`, legend: '{{vm}}' }], [], { min: 0 }),
    timeseries('Demand estimate', 'What each VM would send if uncapped, as the policy estimates it.', { x: 12, y: 20, w: 12, h: 8 }, 'bps',
      [{ expr: `daqs_vm_demand_bits_per_second{${VM_SEL}}`, legend: '{{vm}}' }], [], { min: 0 }),
    timeseries('Port: use and capacity', 'TX of all VMs stacked by VM, against the learned (dashed) and nominal capacity.', { x: 0, y: 28, w: 12, h: 8 }, 'bps',
      [
        { expr: `daqs_vm_tx_rate_bits_per_second{${VM_SEL}}`, legend: '{{vm}}' },
        { expr: `daqs_port_learned_capacity_bits_per_second{${SEL}}`, legend: 'learned capacity' },
        { expr: `daqs_port_nominal_capacity_bits_per_second{${SEL}}`, legend: 'nominal capacity' },
      ],
      [
        { matcher: { id: 'byRegexp', options: '.* capacity$' }, properties: [{ id: 'custom.stacking', value: { mode: 'none', group: 'A' } }, { id: 'custom.fillOpacity', value: 0 }, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] },
      ],
      { min: 0, stack: true }),
    timeseries('Bytes sent (from counters)', 'rate() of daqs_vm_tx_bytes_total x 8: a cross-check of the gauges over the scrape interval.', { x: 12, y: 28, w: 12, h: 8 }, 'bps',
      [{ expr: `8 * rate(daqs_vm_tx_bytes_total{${VM_SEL}}[1m])`, legend: '{{vm}}' }], [], { min: 0 }),
    row('Control loop and agents', 36),
    timeseries('Tick duration', 'Percentiles of the time one tick takes (observe, decide, reconcile).', { x: 0, y: 37, w: 8, h: 8 }, 's',
      [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
        { expr: `rate(daqs_tick_overruns_total{${SEL}}[5m])`, legend: 'overruns/s' },
      ], [], { min: 0 }),
    timeseries('Agent round-trip time', 'Guest agent RTT over all VMs.', { x: 8, y: 37, w: 8, h: 8 }, 's',
      [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(daqs_agent_rtt_seconds_bucket{${SEL}}[5m])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_agent_rtt_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
      ], [], { min: 0 }),
    timeseries('Agent errors', 'Ticks skipped per second because an agent failed, by VM and error code.', { x: 16, y: 37, w: 8, h: 8 }, 'ops',
      [{ expr: `sum by (vm, code) (rate(daqs_agent_errors_total{${VM_SEL}}[5m]))`, legend: '{{vm}} {{code}}' }], [], { min: 0 }),
    timeseries('Reconcile actions', 'Cap changes per second by action (cap, lift) and result (ok, failed).', { x: 0, y: 45, w: 8, h: 8 }, 'ops',
      [{ expr: `sum by (action, result) (rate(daqs_reconcile_actions_total{${SEL}}[5m]))`, legend: '{{action}} {{result}}' }], [], { min: 0 }),
    timeseries('Events', 'Daemon events per kind (VM appeared, guarantee violated, agent unreachable, ...), per 5 minutes.', { x: 8, y: 45, w: 8, h: 8 }, 'none',
      [{ expr: `sum by (kind) (increase(daqs_events_total{${SEL}}[5m]))`, legend: '{{kind}}' }], [], { min: 0 }),
    timeseries('Config reloads', 'Accepted and refused configuration reloads per hour.', { x: 16, y: 45, w: 8, h: 8 }, 'none',
      [
        { expr: `increase(daqs_config_reloads_total{${SEL}}[1h])`, legend: 'reloaded' },
        { expr: `increase(daqs_config_rejections_total{${SEL}}[1h])`, legend: 'rejected' },
      ], [], { min: 0 }),
  ];
  return {
    title: 'daqs',
    uid: 'daqs-overview',
    description: 'Bandwidth guarantees for VMs sharing an SR-IOV NIC: rates against guarantees, caps, port use, control loop health.',
    tags: ['daqs', 'network', 'qos'],
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [] },
        { name: 'instance', label: 'Host', type: 'query', datasource: DS, query: { query: 'label_values(daqs_info, instance)', refId: 'instance' }, definition: 'label_values(daqs_info, instance)', includeAll: true, allValue: '.*', multi: true, current: {}, refresh: 2, sort: 1, hide: 0, options: [] },
        { name: 'vm', label: 'VM', type: 'query', datasource: DS, query: { query: 'label_values(daqs_vm_info{instance=~"$instance"}, vm)', refId: 'vm' }, definition: 'label_values(daqs_vm_info{instance=~"$instance"}, vm)', includeAll: true, allValue: '.*', multi: true, current: {}, refresh: 2, sort: 1, hide: 0, options: [] },
      ],
    },
    panels,
  };
}

// Run directly: print the dashboard.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(buildDashboard(), null, 2)}\n`);
}
