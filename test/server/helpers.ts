/** Test helpers: feeding a hub from the synthetic host, and reading Prometheus text. */
import type { ObservationHub } from '../../src/server/hub.ts';
import type { SyntheticHost } from './synthetic-host.ts';

/** Publishes `ticks` steps of the model (reports and events) into the hub. */
export function feed(hub: ObservationHub, host: SyntheticHost, ticks: number): void {
  for (let i = 0; i < ticks; i++) {
    const { report, events } = host.step();
    for (const e of events) hub.publishEvent(e);
    hub.publishTick(report);
  }
}

/** One sample of the Prometheus text format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text exposition format (the subset prom-client writes). */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const raw = m[3]!;
    out.push({ name: m[1]!, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when absent. */
export function sampleValue(samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples match ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** Fetches a URL's body as text, failing on a non-2xx status. */
export async function getText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}: ${await r.text()}`);
  return r.text();
}
