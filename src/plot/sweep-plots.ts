/**
 * Plots of an expressivity sweep: one chart per metric against depth L, one line per qubit count, written
 * as SVG and PNG.
 */
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { ExpressivityRow } from '../expressivity/row.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { svgToPng, type VegaLiteSpec, vegaLiteToSvg } from './render.ts';

/** A metric to plot: a row field, a chart title, a short axis title, and whether the axis is logarithmic. */
export interface PlotMetric {
  readonly field: keyof ExpressivityRow;
  readonly title: string;
  readonly axis: string;
  readonly log?: boolean;
  /** A row field drawn as a dashed line of the same colour (a reference value, e.g. random states). */
  readonly reference?: keyof ExpressivityRow;
  /** What the dashed line is, for the subtitle. */
  readonly referenceLabel?: string;
}

/** The charts `plotSweep` draws, in file-name order. */
export const SWEEP_METRICS: readonly PlotMetric[] = [
  {
    field: 'expressibility',
    title: 'Expressibility: KL to the real-state law (lower = more expressive)',
    axis: 'KL (nats)',
    log: true,
    reference: 'expressibilityFloor',
    referenceLabel: 'the sampling floor (a perfectly random circuit)',
  },
  {
    field: 'expressibilityHaar',
    title: 'KL to the complex Haar law (a floor for real circuits)',
    axis: 'KL (nats)',
    log: true,
    reference: 'expressibilityFloor',
    referenceLabel: 'the sampling floor (a perfectly random circuit)',
  },
  {
    field: 'entanglement',
    title: 'Entangling capability: mean Meyer–Wallach Q',
    axis: 'Q',
    reference: 'entanglementReference',
    referenceLabel: 'random real states, (N−2)/(N+2)',
  },
  { field: 'effectiveDimension', title: 'Effective dimension: Jacobian rank', axis: 'rank' },
  { field: 'redundancy', title: 'Redundant parameters: #θ − rank', axis: '#θ − rank' },
  { field: 'gradVariance', title: 'Trainability: Var ∂C/∂θ, global cost', axis: 'variance', log: true },
  { field: 'gradVarianceLocal', title: 'Trainability: Var ∂C/∂θ, local cost', axis: 'variance', log: true },
  { field: 'reachability', title: 'Reachability: best fidelity to random targets', axis: 'fidelity' },
];

/**
 * A Vega-Lite line chart of one metric against layers, one coloured line per qubit count; with a
 * `reference`, a dashed line of the same colour shows it (for `expressibility`: the sampling floor, for
 * `entanglement`: the random real-state value).
 */
export function metricSpec(
  rows: readonly ExpressivityRow[],
  metric: PlotMetric,
  subtitle?: string,
): VegaLiteSpec {
  const usable = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && (!metric.log || v > 0);
  const values = rows
    .filter((r) => r.layers !== null && usable(r[metric.field]))
    .map((r) => ({
      layers: r.layers,
      qubits: r.qubits,
      value: r[metric.field],
      ...(metric.reference && usable(r[metric.reference]) ? { reference: r[metric.reference] } : {}),
    }));
  const x = { field: 'layers', type: 'quantitative', title: 'layers L', axis: { tickMinStep: 1 } };
  const color = { field: 'qubits', type: 'ordinal', title: 'qubits n', scale: { scheme: 'category10' } };
  const y = (field: string) => ({
    field,
    type: 'quantitative',
    title: metric.axis,
    ...(metric.log ? { scale: { type: 'log' } } : {}),
  });
  const main = { mark: { type: 'line', point: true }, encoding: { x, y: y('value'), color } };
  const layers: Record<string, unknown>[] = [main];
  if (metric.reference && values.some((v) => 'reference' in v)) {
    layers.push({
      mark: { type: 'line', strokeDash: [4, 4], strokeWidth: 1 },
      encoding: { x, y: y('reference'), color },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: metric.title,
      // One subtitle line per fact: a single long line made the canvas far wider than the chart.
      ...(subtitle || metric.reference
        ? {
            subtitle: [
              subtitle,
              metric.reference ? `dashed: ${metric.referenceLabel ?? metric.reference}` : undefined,
            ].filter((l): l is string => Boolean(l)),
          }
        : {}),
    },
    width: 480,
    height: 260,
    background: 'white',
    config: { font: 'DejaVu Sans, sans-serif' },
    data: { values },
    layer: layers,
  };
}

/**
 * Write `<dir>/<metric>.svg` and `.png` for every metric with data (atomically); returns the paths written.
 * Rows without layers (a single given circuit) cannot be drawn against depth.
 */
export async function plotSweep(
  rows: readonly ExpressivityRow[],
  dir: string,
  options: { subtitle?: string; metrics?: readonly PlotMetric[] } = {},
): Promise<string[]> {
  if (!rows.some((r) => r.layers !== null)) {
    throw new InputError(
      'plots show metrics against layers; these rows have none (a single circuit, e.g. --qasm)',
    );
  }
  const written: string[] = [];
  for (const metric of options.metrics ?? SWEEP_METRICS) {
    const spec = metricSpec(rows, metric, options.subtitle);
    if ((spec.data as { values: unknown[] }).values.length === 0) continue;
    const svg = await vegaLiteToSvg(spec);
    const base = join(dir, String(metric.field));
    writeFileAtomic(`${base}.svg`, svg);
    writeFileAtomic(`${base}.png`, await svgToPng(svg));
    written.push(`${base}.svg`, `${base}.png`);
  }
  return written;
}
