/**
 * The Grafana dashboard for daqs' metrics, built in code so its queries name the metrics
 * metrics.ts really exports (a test checks every name). deploy/grafana-dashboard.json is this
 * function's output; regenerate it with:
 *   npx tsx src/server/grafana-dashboard.ts > deploy/grafana-dashboard.json
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DS = { type: 'prometheus', uid: '${datasource}' };
const SEL = 'instance=~"$instance"';
const PORT_SEL = `${SEL}, port=~"$port"`;
const VM_SEL = `${PORT_SEL}, vm=~"$vm"`;

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
  // Rates come from the byte counters through PromQL, in bits per second as networks are sold.
  const txBps = (sel: string): string => `8 * rate(daqs_vm_tx_bytes_total{${sel}}[1m])`;
  const panels: Json[] = [
    row('Guarantees', 0),
    stat('Guarantees met', 'Share of Guarantee-VM time at or above min(guarantee, demand) over the last 5 minutes (from daqs_vm_guarantee_unmet_seconds_total).', { x: 0, y: 1, w: 4, h: 4 }, 'percentunit',
      { expr: `1 - sum(rate(daqs_vm_guarantee_unmet_seconds_total{${PORT_SEL}}[5m])) / count(daqs_vm_guarantee_unmet_seconds_total{${PORT_SEL}})`, legend: 'met' },
      [{ color: 'red', value: null }, { color: 'orange', value: 0.99 }, { color: 'green', value: 1 }]),
    stat('Port use', 'TX of all VMs (rate of their byte counters over 1 minute) over the learned port capacity.', { x: 4, y: 1, w: 4, h: 4 }, 'percentunit',
      { expr: `sum(rate(daqs_vm_tx_bytes_total{${PORT_SEL}}[1m])) / sum(daqs_port_learned_capacity_bytes_per_second{${PORT_SEL}})`, legend: 'use' },
      [{ color: 'blue', value: null }]),
    stat('VMs', 'VMs the control loop handled in the last tick.', { x: 8, y: 1, w: 4, h: 4 }, 'none',
      { expr: `sum(daqs_vms{${PORT_SEL}})`, legend: 'VMs' }, [{ color: 'blue', value: null }]),
    stat('Agents down', 'VMs whose guest agent failed in the last tick.', { x: 12, y: 1, w: 4, h: 4 }, 'none',
      { expr: `count(daqs_vm_agent_up{${PORT_SEL}} == 0) or vector(0)`, legend: 'down' }, [{ color: 'green', value: null }, { color: 'red', value: 1 }]),
    stat('Tick p99', 'Control loop tick duration, 99th percentile over 5 minutes.', { x: 16, y: 1, w: 4, h: 4 }, 's',
      { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
      [{ color: 'green', value: null }, { color: 'orange', value: 0.1 }, { color: 'red', value: 0.2 }]),
    stat('Last tick', 'Seconds since the control loop last ticked: it should stay below a second.', { x: 20, y: 1, w: 4, h: 4 }, 's',
      { expr: `time() - max(daqs_last_tick_timestamp_seconds{${SEL}})`, legend: 'age' },
      [{ color: 'green', value: null }, { color: 'orange', value: 2 }, { color: 'red', value: 10 }]),
    timeseries('TX rate vs guarantee', 'TX rate per VM from its VF byte counter (solid, 1-minute rate) and its guarantee (dashed). A Guarantee VM under its dashed line while it wants more is a violation.', { x: 0, y: 5, w: 24, h: 9 }, 'bps',
      [
        { expr: txBps(VM_SEL), legend: '{{vm}}' },
        { expr: `8 * daqs_vm_guarantee_bytes_per_second{${VM_SEL}} > 0`, legend: '{{vm}} guarantee' },
      ],
      [dashedWhere('.* guarantee$')], { min: 0 }),
    {
      id: nextId++,
      type: 'state-timeline',
      title: 'Guarantee met',
      description: 'Per Guarantee VM and tick: met (green), violated (red), or idle (grey: it sends almost nothing, so nothing is delivered but nothing is owed).',
      datasource: DS,
      gridPos: { x: 0, y: 14, w: 24, h: 5 },
      fieldConfig: {
        defaults: {
          color: { mode: 'thresholds' },
          thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }, { color: 'gray', value: 2 }] },
          mappings: [{ type: 'value', options: { '0': { text: 'violated', color: 'red' }, '1': { text: 'met', color: 'green' }, '2': { text: 'idle', color: 'gray' } } }],
        },
        overrides: [],
      },
      options: { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
      // met + idle: 0 violated, 1 met, 2 idle (an idle VM counts as met).
      targets: [target({ expr: `daqs_vm_guarantee_met{${VM_SEL}} + daqs_vm_guarantee_idle{${VM_SEL}}`, legend: '{{vm}}' }, 0)],
    },
    timeseries('Time below guarantee', 'Share of time each Guarantee VM spent below its guarantee, over 5 minutes (rate of daqs_vm_guarantee_unmet_seconds_total).', { x: 0, y: 19, w: 24, h: 6 }, 'percentunit',
      [{ expr: `rate(daqs_vm_guarantee_unmet_seconds_total{${VM_SEL}}[5m])`, legend: '{{vm}}' }], [], { min: 0 }),
    row('Allocation', 25),
    timeseries('Cap in force', 'TX cap daqs enforces in each VM; no line = uncapped (see daqs_vm_capped).', { x: 0, y: 26, w: 12, h: 8 }, 'bps',
      [{ expr: `8 * daqs_vm_cap_bytes_per_second{${VM_SEL}}`, legend: '{{vm}}' }], [], { min: 0 }),
    timeseries('Demand estimate', 'What each VM would send if uncapped, as the policy estimates it.', { x: 12, y: 26, w: 12, h: 8 }, 'bps',
      [{ expr: `8 * daqs_vm_demand_bytes_per_second{${VM_SEL}}`, legend: '{{vm}}' }], [], { min: 0 }),
    timeseries('Port: use and capacity', 'TX of all VMs (1-minute rates of their byte counters) stacked by VM, against the learned (dashed) and nominal capacity.', { x: 0, y: 34, w: 12, h: 8 }, 'bps',
      [
        { expr: txBps(VM_SEL), legend: '{{vm}}' },
        { expr: `8 * daqs_port_learned_capacity_bytes_per_second{${PORT_SEL}}`, legend: 'learned capacity' },
        { expr: `8 * daqs_port_nominal_capacity_bytes_per_second{${PORT_SEL}}`, legend: 'nominal capacity' },
      ],
      [
        { matcher: { id: 'byRegexp', options: '.* capacity$' }, properties: [{ id: 'custom.stacking', value: { mode: 'none', group: 'A' } }, { id: 'custom.fillOpacity', value: 0 }, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] },
      ],
      { min: 0, stack: true }),
    timeseries('Cap changes and drift', 'Cap changes per second by action and result (each one is an audit log line), and caps found changed in a guest (drift, repaired by the next apply).', { x: 12, y: 34, w: 12, h: 8 }, 'ops',
      [
        { expr: `sum by (action, result) (rate(daqs_reconcile_actions_total{${SEL}}[5m]))`, legend: '{{action}} {{result}}' },
        { expr: `sum by (vm) (rate(daqs_vm_drift_total{${VM_SEL}}[5m]))`, legend: 'drift {{vm}}' },
      ], [], { min: 0 }),
    row('Control loop, agents and inventory', 42),
    timeseries('Tick duration', 'Percentiles of the time one tick takes (observe, decide, reconcile).', { x: 0, y: 43, w: 8, h: 8 }, 's',
      [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_tick_duration_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
        { expr: `rate(daqs_tick_overruns_total{${SEL}}[5m])`, legend: 'overruns/s' },
      ], [], { min: 0 }),
    timeseries('Agent round-trip time', 'Guest agent RTT over all VMs.', { x: 8, y: 43, w: 8, h: 8 }, 's',
      [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(daqs_agent_rtt_seconds_bucket{${SEL}}[5m])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(daqs_agent_rtt_seconds_bucket{${SEL}}[5m])))`, legend: 'p99' },
      ], [], { min: 0 }),
    timeseries('Agent errors', 'Ticks skipped per second because an agent failed, by VM and error code.', { x: 16, y: 43, w: 8, h: 8 }, 'ops',
      [{ expr: `sum by (vm, code) (rate(daqs_agent_errors_total{${VM_SEL}}[5m]))`, legend: '{{vm}} {{code}}' }], [], { min: 0 }),
    timeseries('Inventory', 'VMs the inventory lists, by status (ready, not-ready, lookup-failed are controlled; no-agent, ignored are not), and seconds since it last listed VMs.', { x: 0, y: 51, w: 8, h: 8 }, 'none',
      [
        { expr: `sum by (status) (daqs_inventory_vms{${PORT_SEL}})`, legend: '{{status}}' },
        { expr: `time() - max(daqs_inventory_last_refresh_timestamp_seconds{${PORT_SEL}})`, legend: 'seconds since refresh' },
      ], [], { min: 0 }),
    timeseries('Events', 'Daemon events per kind (VM appeared, guarantee violated, agent unreachable, ...), per 5 minutes.', { x: 8, y: 51, w: 8, h: 8 }, 'none',
      [{ expr: `sum by (kind) (increase(daqs_events_total{${SEL}}[5m]))`, legend: '{{kind}}' }], [], { min: 0 }),
    timeseries('Config reloads', 'Accepted and refused configuration reloads per hour.', { x: 16, y: 51, w: 8, h: 8 }, 'none',
      [
        { expr: `increase(daqs_config_reloads_total{${SEL}}[1h])`, legend: 'reloaded' },
        { expr: `increase(daqs_config_rejections_total{${SEL}}[1h])`, legend: 'rejected' },
      ], [], { min: 0 }),
  ];
  const query = (name: string, label: string, q: string): Json => ({ name, label, type: 'query', datasource: DS, query: { query: q, refId: name }, definition: q, includeAll: true, allValue: '.*', multi: true, current: {}, refresh: 2, sort: 1, hide: 0, options: [] });
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
        query('instance', 'Host', 'label_values(daqs_build_info, instance)'),
        query('port', 'Port', 'label_values(daqs_build_info{instance=~"$instance"}, port)'),
        query('vm', 'VM', 'label_values(daqs_vm_info{instance=~"$instance", port=~"$port"}, vm)'),
      ],
    },
    panels,
  };
}

// Run directly: print the dashboard.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(buildDashboard(), null, 2)}\n`);
}
