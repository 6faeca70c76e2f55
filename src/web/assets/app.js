/* daqs live view: loads /api/status, /api/history and /api/events once, then follows
 * /api/events/stream (server-sent events) from the cursors those returned. Plain browser
 * JavaScript with no build step; uPlot (served by daqs from node_modules) draws the charts. */
/* global uPlot, document, window, fetch, EventSource, ResizeObserver, getComputedStyle, setTimeout, setInterval, clearTimeout */
'use strict';

(() => {
  // Kept apart from the guarantee (green), cap (orange) and demand (grey) line colours.
  const VM_COLORS = ['#6aa8ff', '#c792ea', '#5fd3e6', '#ff8fa3', '#f5e17a', '#9fb0ff', '#e0a3ff', '#7fdbca', '#ff9f6b', '#82aaff'];
  const EVENT_KINDS = {
    'guarantee-violated': ['bad', 'guarantee violated'],
    'guarantee-restored': ['good', 'guarantee restored'],
    'agent-unreachable': ['warn', 'agent unreachable'],
    'agent-recovered': ['good', 'agent recovered'],
    'vm-appeared': ['info', 'VM appeared'],
    'vm-disappeared': ['neutral', 'VM disappeared'],
    'config-reloaded': ['config', 'config reloaded'],
    'config-rejected': ['bad', 'config rejected'],
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
    vmColors: new Map(),
    cards: new Map(), // vm id -> { el, chart, fields }
    portChart: null,
    es: null,
    retryTimer: null,
  };

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

  function vmColor(id) {
    if (!state.vmColors.has(id)) state.vmColors.set(id, VM_COLORS[state.vmColors.size % VM_COLORS.length]);
    return state.vmColors.get(id);
  }

  function sortVms(vms) {
    // Guarantee VMs first: they are what the operator promised.
    return [...vms].sort((a, b) => (a.role === b.role ? a.id.localeCompare(b.id, undefined, { numeric: true }) : a.role === 'guarantee' ? -1 : 1));
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
    if (redraw) redrawCharts();
  }

  // ---- charts -----------------------------------------------------------------------------

  function chartOptions(width, height, series) {
    const axis = { stroke: color('--muted'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1 }, font: '11px system-ui, sans-serif' };
    return {
      width,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.12 : 1e6] } },
      axes: [{ ...axis, space: 55, values: formatTimeAxis }, { ...axis, size: 50, values: (_u, vals) => vals.map(formatAxisRate) }],
      series: [{}, ...series],
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

  function redrawCharts() {
    for (const [id, card] of state.cards) {
      card.chart.setData(vmChartData(id), false);
      setWindow(card.chart);
    }
    if (state.portChart) {
      state.portChart.setData([state.times, state.port.used, state.port.learned, state.port.nominal], false);
      setWindow(state.portChart);
    }
  }

  function chartWidth(container) {
    return Math.max(200, Math.floor(container.getBoundingClientRect().width));
  }

  function ensurePortChart() {
    if (state.portChart) return;
    const box = $('port-chart');
    state.portChart = new uPlot(chartOptions(chartWidth(box), 150, [
      { label: 'used', stroke: color('--rate'), fill: 'rgba(106, 168, 255, 0.18)', width: 2, points: { show: false } },
      { label: 'learned capacity', stroke: color('--guarantee'), width: 1.5, dash: [6, 4], points: { show: false } },
      { label: 'nominal capacity', stroke: color('--muted'), width: 1, dash: [2, 3], points: { show: false } },
    ]), [state.times, state.port.used, state.port.learned, state.port.nominal], box);
    setWindow(state.portChart);
  }

  // ---- VM cards ---------------------------------------------------------------------------

  function figure(key, field, legendColor, lineStyle) {
    const v = el('span', { class: 'v', 'data-field': field, text: '–' });
    const s = el('span', { class: 's', 'data-field': `${field}-note`, text: '' });
    const k = el('span', { class: 'k' }, legendColor ? el('i', { style: `border-color:${legendColor};border-top-style:${lineStyle || 'solid'}` }) : null, key);
    return { node: el('div', {}, k, v, s), v, s };
  }

  function createCard(vm) {
    const rate = figure('rate', 'rate', vmColor(vm.id));
    const guarantee = figure('guarantee', 'guarantee', color('--guarantee'), 'dashed');
    const cap = figure('cap', 'cap', color('--cap'));
    const demand = figure('demand', 'demand', color('--demand'), 'dotted');
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
    const card = { node, chart, chartBox, badge, stateTag, error, rate, guarantee, cap, demand };
    state.cards.set(vm.id, card);
    return card;
  }

  function updateCard(card, vm) {
    card.badge.textContent = vm.role === 'guarantee' ? 'guarantee' : 'best effort';
    card.badge.className = `badge ${vm.role === 'guarantee' ? 'guarantee' : ''}`;
    card.rate.v.textContent = formatRate(vm.rateBps);
    card.rate.s.textContent = vm.agentRttMs === null ? '' : `agent ${vm.agentRttMs.toFixed(1)} ms`;
    card.guarantee.v.textContent = vm.sla.guaranteeBps > 0 ? formatRate(vm.sla.guaranteeBps) : 'none';
    card.guarantee.s.textContent = `from ${vm.slaSource.guaranteeBps}`;
    card.cap.v.textContent = vm.capBps === null ? 'uncapped' : formatRate(vm.capBps);
    card.cap.s.textContent = vm.sla.maxBps === null ? '' : `max ${formatRate(vm.sla.maxBps)}`;
    card.demand.v.textContent = formatRate(vm.demandBps);
    card.demand.s.textContent = vm.sla.weight !== 1 ? `weight ${vm.sla.weight}` : '';
    // Best-Effort VMs have no guarantee to judge: the pill stays empty unless the agent failed.
    let cls = 'none', text = vm.role === 'guarantee' ? 'unknown' : '';
    if (vm.error) { cls = 'error'; text = vm.error.code; }
    else if (vm.guaranteeMet === true) { cls = 'met'; text = '✓ guarantee met'; }
    else if (vm.guaranteeMet === false) { cls = 'unmet'; text = '✗ below guarantee'; }
    card.stateTag.className = `state ${cls}`;
    card.stateTag.textContent = text;
    card.error.hidden = !vm.error;
    card.error.textContent = vm.error ? `skipped this tick: ${vm.error.message}` : '';
  }

  // ---- status -----------------------------------------------------------------------------

  function applyStatus(s) {
    state.status = s;
    state.lastStatusAtMs = Date.now();
    const info = s.info;
    $('fact-host').textContent = info.hostname;
    $('fact-policy').textContent = info.policy || '–';
    $('fact-version').textContent = info.version;
    $('fact-uptime').textContent = formatDuration(s.nowEpochMs - info.startedAtEpochMs);
    $('port-name').textContent = info.portName ? `· ${info.portName}` : '';
    const t = s.latest;
    $('fact-tick').textContent = t ? `#${t.tick} · ${t.durationMs.toFixed(1)} ms${t.overran ? ' (overran)' : ''}` : 'none yet';
    $('no-vms').hidden = !!(t && t.vms.length > 0);
    if (!t) { $('no-vms').textContent = 'Waiting for the first tick of the control loop…'; return; }
    if (t.vms.length === 0) $('no-vms').textContent = 'No VMs found on this host.';

    $('port-used').textContent = formatRate(t.port.usedBps);
    $('port-learned').textContent = formatRate(t.port.learnedCapacityBps);
    $('port-nominal').textContent = formatRate(t.port.nominalCapacityBps);
    const capacity = t.port.learnedCapacityBps || t.port.nominalCapacityBps;
    $('port-util').textContent = capacity > 0 ? `${Math.round((100 * t.port.usedBps) / capacity)} %` : '–';

    const vms = sortVms(t.vms);
    $('vm-count').textContent = `· ${vms.filter((v) => v.role === 'guarantee').length} guarantee, ${vms.filter((v) => v.role !== 'guarantee').length} best effort`;
    const share = $('port-share');
    const legend = $('port-legend');
    share.replaceChildren();
    legend.replaceChildren();
    for (const vm of vms) {
      const pct = capacity > 0 && vm.rateBps ? Math.min(100, (100 * vm.rateBps) / capacity) : 0;
      share.append(el('span', { style: `width:${pct}%;background:${vmColor(vm.id)}`, title: `${vm.id}: ${formatRate(vm.rateBps)}` }));
      legend.append(el('span', {}, el('i', { style: `background:${vmColor(vm.id)}` }), `${vm.id} ${formatRate(vm.rateBps)}`));
    }

    const present = new Set(vms.map((v) => v.id));
    for (const [id, card] of state.cards) {
      if (!present.has(id)) {
        card.chart.destroy();
        card.node.remove();
        state.cards.delete(id);
      }
    }
    let prev = null;
    for (const vm of vms) {
      const card = state.cards.get(vm.id) || createCard(vm);
      updateCard(card, vm);
      // Keep the cards in role/name order as VMs come and go.
      if (prev ? prev.nextSibling !== card.node : $('vms').firstChild !== card.node) {
        if (prev) prev.after(card.node); else $('vms').prepend(card.node);
      }
      prev = card.node;
    }
    ensurePortChart();
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
      redrawCharts();
    });
  }

  // Charts follow the page width; height changes (cards added) must not trigger redraws.
  let lastWidth = 0;
  new ResizeObserver(() => {
    const width = document.body.clientWidth;
    if (width === lastWidth) return;
    lastWidth = width;
    for (const card of state.cards.values()) card.chart.setSize({ width: chartWidth(card.chartBox), height: 140 });
    if (state.portChart) state.portChart.setSize({ width: chartWidth($('port-chart')), height: 150 });
  }).observe(document.body);

  setInterval(watchdog, 1000);
  load();
})();
