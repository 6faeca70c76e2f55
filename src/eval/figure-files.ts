/**
 * Writes a result's figures as SVG and PNG. PNG comes from @resvg/resvg-js (a prebuilt native
 * binary from npm, no browser); if it cannot load, the SVGs are still written and the caller
 * is told why the PNGs are missing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderAttainmentSvg, renderContentionSvg, renderTimeseriesSvg } from './figures.ts';
import type { Resvg as ResvgClass } from '@resvg/resvg-js';
import type { ExperimentResult } from './result.ts';

/** Error converting SVG to PNG (resvg missing for this platform, or bad SVG). */
export class PngRenderError extends Error {
  readonly code = 'E_PNG_RENDER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PngRenderError';
  }
}

/** Renders SVG text to PNG bytes at `zoom` × its size (2 keeps text crisp on screens). */
export async function svgToPng(svg: string, zoom = 2): Promise<Buffer> {
  // Loaded lazily so a platform without the prebuilt binary still gets its SVGs.
  let Resvg: typeof ResvgClass;
  try {
    ({ Resvg } = await import('@resvg/resvg-js'));
  } catch (e) {
    throw new PngRenderError(`cannot load @resvg/resvg-js (no prebuilt binary for ${process.platform}-${process.arch}?): ${(e as Error).message}`, { cause: e });
  }
  try {
    const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: zoom }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
    return r.render().asPng();
  } catch (e) {
    throw new PngRenderError(`resvg could not render the figure: ${(e as Error).message}`, { cause: e });
  }
}

/** The figures of a scenario, by file stem: SVG text for each. */
export function renderFigures(result: ExperimentResult): Record<string, string> {
  switch (result.scenario) {
    case 'contention': return { contention: renderContentionSvg(result), 'contention-timeseries': renderTimeseriesSvg(result) };
    case 'multi': return { multi: renderAttainmentSvg(result), 'multi-timeseries': renderTimeseriesSvg(result) };
    case 'adaptability':
    case 'churn': return { [result.scenario]: renderTimeseriesSvg(result) };
  }
}

/** What writeFigures produced: file paths, and why PNGs are missing if they are. */
export interface FigureFiles {
  readonly svg: string[];
  readonly png: string[];
  readonly pngError: { code: string; message: string } | null;
}

/** Writes every figure of the result into dir as SVG, then PNG when resvg works here. */
export async function writeFigures(dir: string, result: ExperimentResult): Promise<FigureFiles> {
  await mkdir(dir, { recursive: true });
  const svg: string[] = [];
  const png: string[] = [];
  let pngError: FigureFiles['pngError'] = null;
  for (const [stem, doc] of Object.entries(renderFigures(result))) {
    const svgPath = join(dir, `${stem}.svg`);
    await writeFile(svgPath, doc);
    svg.push(svgPath);
    if (pngError) continue;
    try {
      const pngPath = join(dir, `${stem}.png`);
      await writeFile(pngPath, await svgToPng(doc));
      png.push(pngPath);
    } catch (e) {
      const err = e as PngRenderError;
      pngError = { code: err.code ?? 'E_PNG_RENDER', message: err.message };
    }
  }
  return { svg, png, pngError };
}
