/* daqs live view: loads /api/status, /api/history and /api/events once, then follows
 * /api/events/stream (server-sent events) from the cursors those returned. Plain browser
 * JavaScript with no build step; uPlot (served by daqs from node_modules) draws the charts.
 *
 * Two views of the VMs: cards (a chart per VM) for a few VMs, a compact table with sparklines
 * for many (the default above CARDS_MAX_VMS). The table keeps its work bounded by what is on
 * screen: a status update writes only cells whose text changed, and a new history point
 * redraws only the sparklines of visible rows (others are redrawn when scrolled into view). */
/* global uPlot, document, window, fetch, EventSource, ResizeObserver, IntersectionObserver, getComputedStyle, setTimeout, setInterval, clearTimeout, requestAnimationFrame, performance, localStorage */
'use strict';

(() => {
  // Kept apart from the guarantee (green), cap (orange), demand (grey) and capacity (white) colours.
  const VM_COLORS = ['#6aa8ff', '#c792ea', '#5fd3e6', '#ff8fa3', '#8c7dff', '#e879c6', '#4fb3bf', '#b6c9ff'];
  const OTHERS_COLOR = '#5c6b84';
  // Sparklines of VMs outside the stacked set: one quiet colour, so no two VMs seem to be one.
  const UNSTACKED_COLOR = '#8ea3c7';
  // The port chart stacks this many VMs one by one, the busiest; the rest are one "others" band.
  const STACKED_VMS = VM_COLORS.length;
  // Above this many VMs the table is the default view (one chart per VM does not scale).
  const CARDS_MAX_VMS = 24;
  // How long a chosen set of stacked VMs is kept before the busiest are picked again.
  const RESELECT_MS = 30_000;
  const LEARNED_DASH = [10, 4, 2, 4];
  const NOMINAL_DASH = [2, 3];
  const EVENT_KINDS = {
    'guarantee-violated': ['bad', 'guarantee violated'],
    'guarantee-restored': ['good', 'guarantee restored'],
    'agent-unreachable': ['warn', 'agent unreachable'],
    'agent-recovered': ['good', 'agent recovered'],
    'vm-appeared': ['info', 'VM appeared'],
    'vm-disappeared': ['neutral', 'VM disappeared'],
    'config-reloaded': ['config', 'config reloaded'],
    'config-rejected': ['bad', 'config rejected'],
    'config-restart-needed': ['warn', 'restart needed'],
    'drift-detected': ['warn', 'drift detected'],
  };
  const MAX_EVENTS_SHOWN = 300;
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const $ = (id) => document.getElementById(id);

  const state = {
    windowS: 300,
    maxPoints: 600,
    status: null,
    lastStatusAtMs: 0,
    times: [],
    series: new Map(), // vm id -> { rate: [], cap: [], guarantee: [], demand: [] } aligned with times
    port: { used: [], learned: [], nominal: [] },
    // The VMs the port chart stacks one by one, bottom first, each with its colour.
    stack: { ids: [], colors: new Map(), chosenAtMs: 0, key: '' },
    view: null, // 'cards' | 'table', null until the first status decides
    viewChosen: false,
    filter: '',
    cards: new Map(), // vm id -> card
    rows: new Map(), // vm id -> table row
    portChart: null,
    portChartKey: '',
    es: null,
    retryTimer: null,
    drawQueued: false,
  };

  // Work counters the tests read: they bound work per update, never time it.
  const perf = { statusUpdates: 0, cellWrites: 0, points: 0, sparklineDraws: 0, cardChartDraws: 0, busyMs: 0, since: performance.now() };

  // ---- formatting -------------------------------------------------------------------------

  function formatRate(bps) {
    if (bps === null || bps === undefined || !Number.isFinite(bps)) return '–';
    if (bps === 0) return '0 bit/s';
    const abs = Math.abs(bps);
    const [div, unit] = abs >= 1e9 ? [1e9, 'Gbit/s'] : abs >= 1e6 ? [1e6, 'Mbit/s'] : abs >= 1e3 ? [1e3, 'kbit/s'] : [1, 'bit/s'];
    const v = bps / div;
    return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
  }

  function formatAxisRate(bps) {
    if (bps === 0) return '0';
    const abs = Math.abs(bps);
    const [div, unit] = abs >= 1e9 ? [1e9, 'G'] : abs >= 1e6 ? [1e6, 'M'] : abs >= 1e3 ? [1e3, 'k'] : [1, ''];
    return `${Number((bps / div).toPrecision(3))}${unit}`;
  }

  function formatDuration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m ${s % 60}s`;
    return `${s}s`;
  }

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  // 24-hour axis labels; seconds only when ticks are closer than a minute.
  function formatTimeAxis(_u, splits) {
    const step = splits.length > 1 ? splits[1] - splits[0] : 60;
    return splits.map((s) => {
      const d = new Date(s * 1000);
      const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
      return step < 60 ? `${hm}:${pad2(d.getSeconds())}` : hm;
    });
  }

  function formatClock(epochMs) {
    return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  // A line sample for legends, drawn as the chart draws it (solid, dashed, dash-dot).
  function lineSwatch(stroke, dash, width) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', '22');
    svg.setAttribute('height', '8');
    svg.setAttribute('class', 'swatch-line');
    const line = document.createElementNS(ns, 'line');
    for (const [k, v] of Object.entries({ x1: '0', y1: '4', x2: '22', y2: '4', stroke, 'stroke-width': String(width || 2) })) line.setAttribute(k, v);
    if (dash) line.setAttribute('stroke-dasharray', dash.join(' '));
    svg.append(line);
    return svg;
  }

  // Writes text only when it changed: with hundreds of rows most cells stay the same.
  function setText(node, text) {
    if (node.textContent === text) return;
    node.textContent = text;
    perf.cellWrites++;
  }

  function sortVms(vms) {
    // Guarantee VMs first: they are what the operator promised.
    return [...vms].sort((a, b) => (a.role === b.role ? a.id.localeCompare(b.id, undefined, { numeric: true }) : a.role === 'guarantee' ? -1 : 1));
  }

  function matchesFilter(id) {
    return state.filter === '' || id.toLowerCase().includes(state.filter);
  }

  // What a VM's state pill says: an idle Guarantee VM is idle, not "met".
  function vmState(vm) {
    if (vm.error) return ['error', vm.error.code];
    if (vm.role !== 'guarantee') return ['none', ''];
    if (vm.idle) return ['idle', 'idle'];
    if (vm.guaranteeMet === true) return ['met', '✓ guarantee met'];
    if (vm.guaranteeMet === false) return ['unmet', '✗ below guarantee'];
    return ['none', 'unknown'];
  }

  // ---- which VMs the port chart stacks, and their colours ---------------------------------

  function meanRecentRate(id) {
    const s = state.series.get(id);
    if (!s) return 0;
    const since = (state.times.length ? state.times[state.times.length - 1] : 0) - state.windowS;
    let sum = 0, n = 0;
    for (let i = state.times.length - 1; i >= 0 && state.times[i] >= since; i--) {
      const v = s.rate[i];
      if (v !== null && v !== undefined) { sum += v; n++; }
    }
    return n > 0 ? sum / n : 0;
  }

  /** Picks the stacked VMs again when the VM set changed or a while passed; keeps colours of VMs that stay. */
  function chooseStack(vms, force) {
    const ids = vms.map((v) => v.id);
    const key = ids.join('\n');
    const now = Date.now();
    if (!force && key === state.stack.key && now - state.stack.chosenAtMs < RESELECT_MS) return;
    let chosen = ids;
    if (ids.length > STACKED_VMS + 1) {
      // The busiest over the visible window; ties (idle VMs) by the usual order.
      const rank = new Map(ids.map((id) => [id, meanRecentRate(id)]));
      const busiest = new Set([...ids].sort((a, b) => rank.get(b) - rank.get(a)).slice(0, STACKED_VMS));
      chosen = ids.filter((id) => busiest.has(id));
    }
    const colors = new Map();
    const free = [...VM_COLORS];
    for (const id of chosen) {
      const kept = state.stack.colors.get(id);
      if (kept && free.includes(kept)) { colors.set(id, kept); free.splice(free.indexOf(kept), 1); }
    }
    for (const id of chosen) if (!colors.has(id)) colors.set(id, free.shift());
    state.stack = { ids: chosen, colors, chosenAtMs: now, key, others: ids.length - chosen.length };
  }

  function vmColor(id) {
    return state.stack.colors.get(id) || OTHERS_COLOR;
  }

  // ---- history ----------------------------------------------------------------------------

  function resetHistory(snapshot) {
    state.maxPoints = Math.max(1, Math.ceil(snapshot.windowMs / snapshot.resolutionMs));
    state.times = [];
    state.series = new Map();
    state.port = { used: [], learned: [], nominal: [] };
    for (const p of snapshot.points) appendPoint(p, false);
  }

  function appendPoint(point, redraw) {
    const n = state.times.length;
    state.times.push(point.atEpochMs / 1000);
    state.port.used.push(point.port.usedBps);
    state.port.learned.push(point.port.learnedCapacityBps);
    state.port.nominal.push(point.port.nominalCapacityBps);
    for (const id of Object.keys(point.vms)) {
      if (!state.series.has(id)) {
        const pad = () => new Array(n).fill(null);
        state.series.set(id, { rate: pad(), cap: pad(), guarantee: pad(), demand: pad() });
      }
    }
    for (const [id, s] of state.series) {
      const vm = point.vms[id];
      s.rate.push(vm ? vm.rateBps : null);
      s.cap.push(vm ? vm.capBps : null);
      s.guarantee.push(vm && vm.guaranteeBps > 0 ? vm.guaranteeBps : null);
      s.demand.push(vm ? vm.demandBps : null);
    }
    if (state.times.length > state.maxPoints) {
      const drop = state.times.length - state.maxPoints;
      state.times.splice(0, drop);
      for (const arr of Object.values(state.port)) arr.splice(0, drop);
      for (const [id, s] of state.series) {
        for (const arr of Object.values(s)) arr.splice(0, drop);
        if (s.rate.every((v) => v === null) && s.cap.every((v) => v === null)) state.series.delete(id);
      }
    }
    if (redraw) {
      perf.points++;
      for (const row of state.rows.values()) row.dirty = true;
      redrawCharts();
    }
  }

  // ---- charts -----------------------------------------------------------------------------

  function chartOptions(width, height, series, extra) {
    const axis = { stroke: color('--muted'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1 }, font: '11px system-ui, sans-serif' };
    return {
      width,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.12 : 1e6] } },
      axes: [{ ...axis, space: 55, values: formatTimeAxis }, { ...axis, size: 50, values: (_u, vals) => vals.map(formatAxisRate) }],
      series: [{}, ...series],
      ...(extra || {}),
    };
  }

  function vmChartSeries(vmId) {
    const c = vmColor(vmId);
    return [
      { label: 'rate', stroke: c, fill: `${c}26`, width: 2, points: { show: false } },
      { label: 'guarantee', stroke: color('--guarantee'), width: 1.5, dash: [6, 4], points: { show: false } },
      { label: 'cap', stroke: color('--cap'), width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      { label: 'demand', stroke: color('--demand'), width: 1, dash: [2, 3], points: { show: false } },
    ];
  }

  function vmChartData(id) {
    const s = state.series.get(id) || { rate: [], cap: [], guarantee: [], demand: [] };
    const pad = (arr) => (arr.length === state.times.length ? arr : new Array(state.times.length).fill(null));
    return [state.times, pad(s.rate), pad(s.guarantee), pad(s.cap), pad(s.demand)];
  }

  function setWindow(chart) {
    const last = state.times.length ? state.times[state.times.length - 1] : Date.now() / 1000;
    chart.setScale('x', { min: last - state.windowS, max: last });
  }

  // The port's use stacked by VM (bottom first), then "others", then the capacity lines.
  function portChartData() {
    const n = state.times.length;
    const acc = new Array(n).fill(0);
    const layers = [];
    for (const id of state.stack.ids) {
      const rate = (state.series.get(id) || {}).rate || [];
      for (let i = 0; i < n; i++) acc[i] += rate[i] || 0;
      layers.push(acc.slice());
    }
    if (state.stack.others > 0) {
      // Everyone else: what the port carried beyond the stacked VMs.
      for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i], state.port.used[i] || 0);
      layers.push(acc.slice());
    }
    return [state.times, ...layers, state.port.learned, state.port.nominal];
  }

  function portSeries() {
    const series = state.stack.ids.map((id) => ({ label: id, stroke: vmColor(id), fill: `${vmColor(id)}99`, width: 1, points: { show: false } }));
    if (state.stack.others > 0) series.push({ label: `others (${state.stack.others} VMs)`, stroke: OTHERS_COLOR, fill: `${OTHERS_COLOR}99`, width: 1, points: { show: false } });
    series.push({ label: 'learned capacity', stroke: color('--capacity'), width: 1.5, dash: LEARNED_DASH, points: { show: false } });
    series.push({ label: 'nominal capacity', stroke: color('--muted'), width: 1, dash: NOMINAL_DASH, points: { show: false } });
    return series;
  }

  function ensurePortChart() {
    const key = `${state.stack.ids.join('\n')}|${state.stack.others}|${[...state.stack.colors.values()].join()}`;
    if (state.portChart && key === state.portChartKey) return;
    if (state.portChart) state.portChart.destroy();
    const box = $('port-chart');
    const series = portSeries();
    // Each layer fills only down to the one below it.
    const layers = state.stack.ids.length + (state.stack.others > 0 ? 1 : 0);
    const bands = [];
    for (let i = 2; i <= layers; i++) bands.push({ series: [i, i - 1] });
    state.portChart = new uPlot(chartOptions(chartWidth(box), 170, series, { bands }), portChartData(), box);
    state.portChartKey = key;
    setWindow(state.portChart);
    renderPortLegend();
  }

  function renderPortLegend() {
    const legend = $('port-legend');
    const items = state.stack.ids.map((id) => el('span', { class: 'item', 'data-vm': id, 'data-color': vmColor(id) }, el('i', { style: `background:${vmColor(id)}` }), el('b', { text: id }), el('span', { class: 'v', 'data-field': 'legend-rate', text: '' })));
    if (state.stack.others > 0) items.push(el('span', { class: 'item', 'data-vm': '', 'data-color': OTHERS_COLOR }, el('i', { style: `background:${OTHERS_COLOR}` }), el('b', { text: `others (${state.stack.others} VMs)` }), el('span', { class: 'v', 'data-field': 'legend-rate', text: '' })));
    items.push(el('span', { class: 'item line' }, lineSwatch(color('--capacity'), LEARNED_DASH, 1.5), 'learned capacity'));
    items.push(el('span', { class: 'item line' }, lineSwatch(color('--muted'), NOMINAL_DASH, 1), 'nominal capacity'));
    legend.replaceChildren(...items);
  }

  function redrawCharts() {
    const t0 = performance.now();
    for (const [id, card] of state.cards) {
      card.chart.setData(vmChartData(id), false);
      setWindow(card.chart);
      perf.cardChartDraws++;
    }
    if (state.portChart) {
      state.portChart.setData(portChartData(), false);
      setWindow(state.portChart);
    }
    queueSparklines();
    perf.busyMs += performance.now() - t0;
  }

  function chartWidth(container) {
    return Math.max(200, Math.floor(container.getBoundingClientRect().width));
  }

  // ---- VM cards ---------------------------------------------------------------------------

  function figure(key, field, swatch) {
    const v = el('span', { class: 'v', 'data-field': field, text: '–' });
    const s = el('span', { class: 's', 'data-field': `${field}-note`, text: '' });
    const k = el('span', { class: 'k' }, swatch, key);
    return { node: el('div', {}, k, v, s), v, s };
  }

  function createCard(vm) {
    const rate = figure('rate', 'rate', lineSwatch(vmColor(vm.id), null, 2));
    const guarantee = figure('guarantee', 'guarantee', lineSwatch(color('--guarantee'), [6, 4], 1.5));
    const cap = figure('cap', 'cap', lineSwatch(color('--cap'), null, 1.5));
    const demand = figure('demand', 'demand', lineSwatch(color('--demand'), [2, 3], 1));
    const badge = el('span', { class: 'badge' });
    const stateTag = el('span', { class: 'state none', 'data-field': 'guarantee-met' });
    const error = el('div', { class: 'vm-error', hidden: '' });
    const chartBox = el('div', { class: 'chart' });
    const node = el('article', { class: 'vm', 'data-vm': vm.id, style: `--vm-color:${vmColor(vm.id)}` },
      el('div', { class: 'vm-head' }, el('span', { class: 'vm-name', 'data-field': 'name', text: vm.id, title: vm.id }), badge, stateTag),
      el('div', { class: 'figures' }, rate.node, guarantee.node, cap.node, demand.node),
      error,
      chartBox);
    $('vms').append(node);
    const chart = new uPlot(chartOptions(chartWidth(chartBox), 140, vmChartSeries(vm.id)), vmChartData(vm.id), chartBox);
    setWindow(chart);
    const card = { node, chart, chartBox, badge, stateTag, error, rate, guarantee, cap, demand, color: vmColor(vm.id) };
    state.cards.set(vm.id, card);
    return card;
  }

  function updateCard(card, vm) {
    // A VM that joined or left the stacked set changes colour: the card follows the port chart.
    if (card.color !== vmColor(vm.id)) {
      card.color = vmColor(vm.id);
      card.node.style.setProperty('--vm-color', card.color);
      card.rate.node.querySelector('svg line').setAttribute('stroke', card.color);
      card.chart.destroy();
      card.chart = new uPlot(chartOptions(chartWidth(card.chartBox), 140, vmChartSeries(vm.id)), vmChartData(vm.id), card.chartBox);
      setWindow(card.chart);
    }
    setText(card.badge, vm.role === 'guarantee' ? 'guarantee' : 'best effort');
    card.badge.className = `badge ${vm.role === 'guarantee' ? 'guarantee' : ''}`;
    setText(card.rate.v, formatRate(vm.rateBps));
    setText(card.rate.s, vm.agentRttMs === null ? '' : `agent ${vm.agentRttMs.toFixed(1)} ms`);
    setText(card.guarantee.v, vm.sla.guaranteeBps > 0 ? formatRate(vm.sla.guaranteeBps) : 'none');
    setText(card.guarantee.s, `from ${vm.slaSource.guaranteeBps}`);
    setText(card.cap.v, vm.capBps === null ? 'uncapped' : formatRate(vm.capBps));
    setText(card.cap.s, vm.sla.maxBps === null ? '' : `max ${formatRate(vm.sla.maxBps)}`);
    setText(card.demand.v, formatRate(vm.demandBps));
    setText(card.demand.s, vm.sla.weight !== 1 ? `weight ${vm.sla.weight}` : '');
    const [cls, text] = vmState(vm);
    card.stateTag.className = `state ${cls}`;
    setText(card.stateTag, text);
    card.error.hidden = !vm.error;
    setText(card.error, vm.error ? `skipped this tick: ${vm.error.message}` : '');
  }

  function removeCards() {
    for (const card of state.cards.values()) {
      card.chart.destroy();
      card.node.remove();
    }
    state.cards.clear();
  }

  // ---- VM table ---------------------------------------------------------------------------

  const rowObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const row = state.rows.get(e.target.dataset.vm);
      if (!row) continue;
      row.visible = e.isIntersecting;
    }
    queueSparklines();
  }, { rootMargin: '200px 0px' });

  function createRow(vm) {
    const cell = (field, cls) => el('td', { 'data-field': field, class: cls || '' });
    const canvas = el('canvas', { class: 'spark', width: '160', height: '28' });
    const cells = {
      name: el('td', { class: 'name' }, el('span', { 'data-field': 'name', text: vm.id, title: vm.id })),
      role: el('td', {}, el('span', { class: 'badge' })),
      state: el('td', {}, el('span', { class: 'state none', 'data-field': 'guarantee-met' })),
      rate: cell('rate', 'num'),
      guarantee: cell('guarantee', 'num'),
      cap: cell('cap', 'num'),
      demand: cell('demand', 'num'),
      agent: cell('agent', 'num'),
      spark: el('td', { class: 'spark-cell' }, canvas),
    };
    const node = el('tr', { 'data-vm': vm.id }, ...Object.values(cells));
    const row = { node, cells, canvas, visible: false, dirty: true, roleText: '', stateText: '' };
    state.rows.set(vm.id, row);
    rowObserver.observe(node);
    return row;
  }

  function updateRow(row, vm) {
    const c = row.cells;
    const badge = c.role.firstChild;
    setText(badge, vm.role === 'guarantee' ? 'guarantee' : 'best effort');
    badge.className = `badge ${vm.role === 'guarantee' ? 'guarantee' : ''}`;
    const [cls, text] = vmState(vm);
    const pill = c.state.firstChild;
    if (pill.className !== `state ${cls}`) pill.className = `state ${cls}`;
    setText(pill, text);
    setText(c.rate, formatRate(vm.rateBps));
    setText(c.guarantee, vm.sla.guaranteeBps > 0 ? formatRate(vm.sla.guaranteeBps) : '–');
    setText(c.cap, vm.capBps === null ? 'uncapped' : formatRate(vm.capBps));
    setText(c.demand, formatRate(vm.demandBps));
    setText(c.agent, vm.error ? vm.error.code : vm.agentRttMs === null ? '–' : `${vm.agentRttMs.toFixed(1)} ms`);
    c.agent.title = vm.error ? vm.error.message : '';
  }

  function removeRows() {
    for (const row of state.rows.values()) {
      rowObserver.unobserve(row.node);
      row.node.remove();
    }
    state.rows.clear();
  }

  function queueSparklines() {
    if (state.drawQueued || state.rows.size === 0) return;
    state.drawQueued = true;
    requestAnimationFrame(() => {
      state.drawQueued = false;
      const t0 = performance.now();
      for (const [id, row] of state.rows) {
        if (row.visible && row.dirty && !row.node.hidden) drawSparkline(id, row);
      }
      perf.busyMs += performance.now() - t0;
    });
  }

  // Rate as an area, the guarantee dashed, the cap as steps, over the chosen window.
  function drawSparkline(id, row) {
    row.dirty = false;
    perf.sparklineDraws++;
    const canvas = row.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 160, h = canvas.clientHeight || 28;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const s = state.series.get(id);
    const n = state.times.length;
    if (!s || n === 0) return;
    const t1 = state.times[n - 1], t0 = t1 - state.windowS;
    let first = n - 1;
    while (first > 0 && state.times[first - 1] >= t0) first--;
    let max = 0;
    for (let i = first; i < n; i++) max = Math.max(max, s.rate[i] || 0, s.guarantee[i] || 0, s.cap[i] || 0);
    if (max <= 0) max = 1;
    const x = (t) => ((t - t0) / state.windowS) * w;
    const y = (v) => h - 1 - (v / (max * 1.1)) * (h - 2);
    ctx.beginPath();
    ctx.moveTo(x(state.times[first]), h);
    for (let i = first; i < n; i++) ctx.lineTo(x(state.times[i]), y(s.rate[i] || 0));
    ctx.lineTo(x(state.times[n - 1]), h);
    ctx.closePath();
    const c = row.color || UNSTACKED_COLOR;
    ctx.fillStyle = `${c}55`;
    ctx.fill();
    ctx.beginPath();
    for (let i = first; i < n; i++) ctx[i === first ? 'moveTo' : 'lineTo'](x(state.times[i]), y(s.rate[i] || 0));
    ctx.strokeStyle = c;
    ctx.lineWidth = 1.2;
    ctx.stroke();
    line(ctx, s.guarantee, first, n, x, y, color('--guarantee'), [4, 3], false);
    line(ctx, s.cap, first, n, x, y, color('--cap'), [], true);
  }

  function line(ctx, values, first, n, x, y, stroke, dash, stepped) {
    ctx.beginPath();
    let open = false;
    for (let i = first; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) { open = false; continue; }
      const px = x(state.times[i]), py = y(v);
      if (!open) ctx.moveTo(px, py);
      else if (stepped) ctx.lineTo(px, y(values[i - 1]));
      ctx.lineTo(px, py);
      open = true;
    }
    ctx.setLineDash(dash);
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1;
    ctx.stroke();
    ctx.setLineDash([]);
  }

  // ---- views ------------------------------------------------------------------------------

  function setView(view, byUser) {
    if (byUser) {
      state.viewChosen = true;
      try { localStorage.setItem('daqs.view', view); } catch { /* private mode: not remembered */ }
    }
    if (view === state.view) return;
    state.view = view;
    document.body.dataset.view = view;
    for (const b of document.querySelectorAll('[data-view]')) b.classList.toggle('on', b.dataset.view === view);
    $('vms').hidden = view !== 'cards';
    $('vm-table').hidden = view !== 'table';
    if (view === 'cards') removeRows(); else removeCards();
    if (state.status) applyStatus(state.status);
  }

  function renderVms(vms) {
    const container = view() === 'cards' ? $('vms') : $('vm-rows');
    const live = view() === 'cards' ? state.cards : state.rows;
    const present = new Set(vms.map((v) => v.id));
    for (const [id, item] of live) {
      if (present.has(id)) continue;
      if (item.chart) item.chart.destroy(); else rowObserver.unobserve(item.node);
      item.node.remove();
      live.delete(id);
    }
    let prev = null;
    for (const vm of vms) {
      const item = live.get(vm.id) || (view() === 'cards' ? createCard(vm) : createRow(vm));
      if (view() === 'cards') updateCard(item, vm);
      else {
        item.color = state.stack.colors.get(vm.id) || null;
        updateRow(item, vm);
      }
      const hidden = !matchesFilter(vm.id);
      if (item.node.hidden !== hidden) item.node.hidden = hidden;
      // Keep role/name order as VMs come and go.
      if (prev ? prev.nextSibling !== item.node : container.firstChild !== item.node) {
        if (prev) prev.after(item.node); else container.prepend(item.node);
      }
      prev = item.node;
    }
  }

  function view() {
    return state.view || 'cards';
  }

  // ---- status -----------------------------------------------------------------------------

  function applyStatus(s) {
    const t0 = performance.now();
    state.status = s;
    state.lastStatusAtMs = Date.now();
    perf.statusUpdates++;
    const info = s.info;
    setText($('fact-host'), info.hostname);
    setText($('fact-policy'), info.policy || '–');
    setText($('fact-version'), info.version);
    setText($('fact-uptime'), formatDuration(s.nowEpochMs - info.startedAtEpochMs));
    setText($('port-name'), info.portName ? `· ${info.portName}` : '');
    const t = s.latest;
    setText($('fact-tick'), t ? `#${t.tick} · ${t.durationMs.toFixed(1)} ms${t.overran ? ' (overran)' : ''}` : 'none yet');
    $('no-vms').hidden = !!(t && t.vms.length > 0);
    if (!t) { $('no-vms').textContent = 'Waiting for the first tick of the control loop…'; return; }
    if (t.vms.length === 0) $('no-vms').textContent = 'No VMs found on this host.';
    if (!state.viewChosen && state.view === null) setView(t.vms.length > CARDS_MAX_VMS ? 'table' : 'cards', false);

    setText($('port-used'), formatRate(t.port.usedBps));
    setText($('port-learned'), formatRate(t.port.learnedCapacityBps));
    setText($('port-nominal'), formatRate(t.port.nominalCapacityBps));
    const capacity = t.port.learnedCapacityBps || t.port.nominalCapacityBps;
    setText($('port-util'), capacity > 0 ? `${Math.round((100 * t.port.usedBps) / capacity)} %` : '–');

    const vms = sortVms(t.vms);
    const guarantees = vms.filter((v) => v.role === 'guarantee');
    const idle = guarantees.filter((v) => v.idle).length;
    setText($('vm-count'), `· ${guarantees.length} guarantee${idle ? ` (${idle} idle)` : ''}, ${vms.length - guarantees.length} best effort`);
    chooseStack(vms, false);
    renderShare(vms, t, capacity);
    renderVms(vms);
    ensurePortChart();
    updateLegendRates(vms);
    perf.busyMs += performance.now() - t0;
  }

  // The port bar: one segment per stacked VM in its colour, then the others together.
  function renderShare(vms, t, capacity) {
    const byId = new Map(vms.map((v) => [v.id, v]));
    const segments = [];
    let stackedBps = 0;
    for (const id of state.stack.ids) {
      const vm = byId.get(id);
      const bps = vm && vm.rateBps ? vm.rateBps : 0;
      stackedBps += bps;
      segments.push([id, bps, vmColor(id)]);
    }
    if (state.stack.others > 0) segments.push([`others (${state.stack.others} VMs)`, Math.max(0, t.port.usedBps - stackedBps), OTHERS_COLOR]);
    const share = $('port-share');
    while (share.children.length < segments.length) share.append(el('span', {}));
    while (share.children.length > segments.length) share.lastChild.remove();
    segments.forEach(([label, bps, c], i) => {
      const node = share.children[i];
      const pct = capacity > 0 ? Math.min(100, (100 * bps) / capacity) : 0;
      node.style.width = `${pct}%`;
      node.style.background = c;
      node.title = `${label}: ${formatRate(bps)}`;
    });
  }

  function updateLegendRates(vms) {
    const byId = new Map(vms.map((v) => [v.id, v]));
    let stackedBps = 0;
    for (const item of $('port-legend').querySelectorAll('.item[data-vm]')) {
      const id = item.dataset.vm;
      const v = item.querySelector('[data-field="legend-rate"]');
      if (id === '') continue;
      const bps = byId.get(id) ? byId.get(id).rateBps : null;
      stackedBps += bps || 0;
      setText(v, formatRate(bps));
    }
    const others = $('port-legend').querySelector('.item[data-vm=""] [data-field="legend-rate"]');
    if (others && state.status && state.status.latest) setText(others, formatRate(Math.max(0, state.status.latest.port.usedBps - stackedBps)));
  }

  // ---- events -----------------------------------------------------------------------------

  function addEvent(e, atTop) {
    const [cls, label] = EVENT_KINDS[e.kind] || ['neutral', e.kind];
    const li = el('li', { 'data-kind': e.kind },
      el('time', { datetime: new Date(e.atEpochMs).toISOString(), text: formatClock(e.atEpochMs) }),
      el('span', { class: `kind ${cls}` }, label, e.vm ? el('b', { text: e.vm }) : null),
      el('span', { class: 'msg', text: e.message }));
    const list = $('events');
    if (atTop) list.prepend(li); else list.append(li);
    while (list.children.length > MAX_EVENTS_SHOWN) list.lastChild.remove();
    $('no-events').hidden = list.children.length > 0;
  }

  // ---- connection -------------------------------------------------------------------------

  function setConn(kind, label) {
    const c = $('conn');
    c.dataset.state = kind;
    c.querySelector('.label').textContent = label;
  }

  async function getJson(path) {
    const r = await fetch(path, { cache: 'no-store' });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }

  async function load() {
    clearTimeout(state.retryTimer);
    if (state.es) { state.es.close(); state.es = null; }
    try {
      const [status, history, events] = await Promise.all([getJson('/api/status'), getJson('/api/history'), getJson('/api/events')]);
      resetHistory(history);
      $('events').replaceChildren();
      for (const e of events.events.slice(-MAX_EVENTS_SHOWN)) addEvent(e, true);
      $('no-events').hidden = events.events.length > 0;
      if (status.latest) chooseStack(sortVms(status.latest.vms), true);
      applyStatus(status);
      redrawCharts();
      openStream(history.lastSeq, events.lastSeq);
    } catch (err) {
      setConn('offline', 'offline, retrying');
      window.console.warn('daqs: cannot load status', err);
      state.retryTimer = setTimeout(load, 3000);
    }
  }

  function openStream(historySeq, eventSeq) {
    const es = new EventSource(`/api/events/stream?history=${historySeq}&events=${eventSeq}`);
    state.es = es;
    es.addEventListener('open', () => setConn('live', 'live'));
    es.addEventListener('status', (m) => applyStatus(JSON.parse(m.data)));
    es.addEventListener('point', (m) => appendPoint(JSON.parse(m.data).point, true));
    es.addEventListener('daemon-event', (m) => addEvent(JSON.parse(m.data), true));
    es.addEventListener('resync', () => load());
    es.addEventListener('error', () => {
      // Reconnect ourselves from fresh cursors rather than replaying from the old ones.
      es.close();
      if (state.es === es) state.es = null;
      setConn('offline', 'offline, retrying');
      state.retryTimer = setTimeout(load, 3000);
    });
  }

  function watchdog() {
    const s = state.status;
    if (!state.es || !s) return;
    const sinceStatusMs = Date.now() - state.lastStatusAtMs;
    const tickAgeMs = s.lastTickAgeMs === null ? null : s.lastTickAgeMs + sinceStatusMs;
    const periodMs = s.info.tickPeriodMs || 200;
    if (tickAgeMs !== null && tickAgeMs > Math.max(5000, 10 * periodMs)) setConn('stale', `no tick for ${formatDuration(tickAgeMs)}`);
    else if (s.latest === null) setConn('live', 'live, no tick yet');
    else setConn('live', 'live');
  }

  // ---- wiring -----------------------------------------------------------------------------

  for (const b of document.querySelectorAll('[data-window]')) {
    b.addEventListener('click', () => {
      state.windowS = Number(b.dataset.window);
      for (const o of document.querySelectorAll('[data-window]')) o.classList.toggle('on', o === b);
      for (const row of state.rows.values()) row.dirty = true;
      if (state.status && state.status.latest) chooseStack(sortVms(state.status.latest.vms), true);
      ensurePortChart();
      redrawCharts();
    });
  }
  for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => setView(b.dataset.view, true));
  $('vm-filter').addEventListener('input', (e) => {
    state.filter = e.target.value.trim().toLowerCase();
    if (state.status) applyStatus(state.status);
    queueSparklines();
  });
  try {
    const saved = localStorage.getItem('daqs.view');
    if (saved === 'cards' || saved === 'table') setView(saved, true);
  } catch { /* no storage: the VM count decides */ }

  // Charts follow the page width; height changes (cards added) must not trigger redraws.
  let lastWidth = 0;
  new ResizeObserver(() => {
    const width = document.body.clientWidth;
    if (width === lastWidth) return;
    lastWidth = width;
    for (const card of state.cards.values()) card.chart.setSize({ width: chartWidth(card.chartBox), height: 140 });
    if (state.portChart) state.portChart.setSize({ width: chartWidth($('port-chart')), height: 170 });
    for (const row of state.rows.values()) row.dirty = true;
    queueSparklines();
  }).observe(document.body);

  // Read-only hooks for tests and curious operators: what the port chart draws, and work done.
  window.daqsView = {
    perf,
    view: () => state.view,
    portSeries: () => (state.portChart ? state.portChart.series.slice(1).map((s, i) => ({ label: s.label, stroke: typeof s.stroke === 'function' ? s.stroke(state.portChart, i + 1) : s.stroke, last: state.portChart.data[i + 1][state.portChart.data[i + 1].length - 1] })) : []),
    visibleRows: () => [...state.rows.values()].filter((r) => r.visible && !r.node.hidden).length,
  };

  setInterval(watchdog, 1000);
  load();
})();
