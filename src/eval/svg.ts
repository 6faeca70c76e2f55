/**
 * Small SVG building blocks for the figures: escaped text, shapes, a linear scale and nice
 * axis ticks. Strings only, so figures render the same in tests, in a browser and in resvg.
 */

/** Font stack: DejaVu Sans ships with Debian, so the PNG (resvg) and browsers agree. */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** Escapes text for XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? fmt(v) : (v as string))}"`)
    .join('');
}

// Two decimals are plenty for pixels and keep the files small.
function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A self-closing element. */
export function el(name: string, a: Attrs): string {
  return `<${name}${attrs(a)}/>`;
}

/** A text element; anchor start/middle/end. */
export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return `<text${attrs({ x, y, ...a })}>${escapeXml(content)}</text>`;
}

/** A group wrapping children, e.g. to tag a policy's marks with data-policy. */
export function group(children: readonly string[], a: Attrs = {}): string {
  return `<g${attrs(a)}>${children.join('')}</g>`;
}

/** A polyline through points. */
export function polyline(points: readonly (readonly [number, number])[], a: Attrs): string {
  return el('polyline', { points: points.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(' '), fill: 'none', ...a });
}

/** The whole document with a white background (PNG viewers show transparency as black). */
export function svgDocument(widthPx: number, heightPx: number, children: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}" font-family="${escapeXml(FONT_FAMILY)}">`,
    el('rect', { x: 0, y: 0, width: widthPx, height: heightPx, fill: '#ffffff' }),
    ...children,
    '</svg>',
    '',
  ].join('\n');
}

/** Maps a domain [d0, d1] linearly onto a range [r0, r1]. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Ticks 0..>=max at a 1/2/5 × 10^k step, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/** Formats a tick value without float noise (0.30000000000000004 -> "0.3"). */
export function tickLabel(v: number): string {
  return String(Number(v.toPrecision(6)));
}
