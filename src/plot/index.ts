/** Plots without a browser: Vega-Lite → SVG → PNG. */

export { writeFileAtomic } from '../io/atomic.ts';
export { plotFontFile } from './fonts.ts';
export { svgToPng, type VegaLiteSpec, vegaLiteToSvg } from './render.ts';
export { metricSpec, type PlotMetric, plotSweep, SWEEP_METRICS } from './sweep-plots.ts';
