/**
 * Vega-Lite → SVG (vega's headless renderer, no browser or canvas) → PNG (resvg). vega and vega-lite are
 * ESM with top-level await, so they are imported lazily: loading qpeft does not load them.
 */
import { InputError } from '../errors.ts';
import { plotFontFile } from './fonts.ts';

/** A Vega-Lite specification (kept loose here; vega-lite validates it when compiling). */
export type VegaLiteSpec = Record<string, unknown>;

/** Render a Vega-Lite spec to an SVG document string. */
export async function vegaLiteToSvg(spec: VegaLiteSpec): Promise<string> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new InputError('a Vega-Lite spec must be an object');
  }
  const vl = await import('vega-lite');
  const vega = await import('vega');
  // biome-ignore lint/suspicious/noExplicitAny: vega-lite's TopLevelSpec type is a large union; the spec is validated by compile
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG document to PNG bytes at `scale` × its size, with a sans-serif font if one is found. */
export async function svgToPng(svg: string, options: { scale?: number } = {}): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const font = plotFontFile();
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    background: 'white',
    font: {
      loadSystemFonts: true,
      ...(font
        ? { fontFiles: [font], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }
        : {}),
    },
  });
  return r.render().asPng();
}
