/**
 * Writes metric families in the Prometheus text exposition format (version 0.0.4).
 * Used for the per-VM families, which are rendered straight from the latest TickReport: with
 * 1,000 VMs prom-client's label hash maps cost hundreds of milliseconds per scrape, this
 * costs a few, and the event loop the control loop runs on stays free.
 */

/** One sample: label pairs and a finite value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family to write. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: readonly Sample[];
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** Escapes a label value: backslash, double quote and newline, as the format requires. */
export function escapeLabelValue(value: string): string {
  // Most values (VM names) need nothing: skip the three replaces.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Writes a family's HELP and TYPE lines. */
export function familyHeader(name: string, type: 'gauge' | 'counter', help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** Renders families; samples with a non-finite value are skipped (absent, never NaN). */
export function renderFamilies(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    out += familyHeader(f.name, f.type, f.help);
    for (const s of f.samples) {
      if (!Number.isFinite(s.value)) continue;
      let labels = '';
      for (const k in s.labels) labels += `${labels === '' ? '' : ','}${k}="${escapeLabelValue(s.labels[k]!)}"`;
      out += labels === '' ? `${f.name} ${s.value}\n` : `${f.name}{${labels}} ${s.value}\n`;
    }
  }
  return out;
}
