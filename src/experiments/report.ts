/**
 * Experiment reports: per-method aggregates over seeds (exact trainable parameters, metric mean ± sample
 * standard deviation, wall time), a markdown table, the results JSON and a plot of the metric against
 * trainable parameters on a log axis (Vega-Lite → SVG and PNG through `src/plot`).
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { placeLabels } from '../plot/labels.ts';
import { svgToPng, type VegaLiteSpec, vegaLiteToSvg } from '../plot/render.ts';
import type { MetricInfo } from '../train/tasks.ts';
import { formatTable } from '../util/table.ts';
import type { FinetuneResult } from './finetune.ts';

/** One row of an experiment table: a method over its seeds. */
export interface ReportRow {
  label: string;
  method: string;
  /** Exact trainable scalars (the same for every seed). */
  trainableParams: number;
  adapterParams: number;
  headParams: number;
  seeds: number[];
  /** Metric per seed, in the table's unit (accuracy in %, bits per byte as is). */
  values: number[];
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one seed. */
  std: number;
  /** Mean wall time per run (training + evaluation), seconds. */
  seconds: number;
  samplesPerSecond: number;
  steps: number;
  /** Mean peak tfjs memory of a training step in bytes, where the runs measured it. */
  peakBytes?: number;
}

/** Mean and sample standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) throw new InputError('meanStd needs at least one value, got none');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, std: 0 };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** A metric value in table units: accuracy as a percentage, bits per byte unchanged. */
export function tableValue(metric: MetricInfo, value: number): number {
  return metric.name === 'accuracy' ? 100 * value : value;
}

/** Group runs by label (in first-seen order) into rows. */
export function aggregate(results: readonly FinetuneResult[]): ReportRow[] {
  const groups = new Map<string, FinetuneResult[]>();
  for (const r of results) {
    if (!groups.has(r.label)) groups.set(r.label, []);
    groups.get(r.label)!.push(r);
  }
  return [...groups].map(([label, rs]) => {
    const params = new Set(rs.map((r) => r.trainableParams));
    if (params.size !== 1) {
      throw new InputError(
        `${label}: runs disagree on the trainable parameter count (${[...params].join(', ')})`,
      );
    }
    const values = rs.map((r) => tableValue(r.metric, r.value));
    const { mean, std } = meanStd(values);
    return {
      label,
      method: rs[0]!.method.method,
      trainableParams: rs[0]!.trainableParams,
      adapterParams: rs[0]!.adapterParams,
      headParams: rs[0]!.headParams,
      seeds: rs.map((r) => r.seed),
      values,
      mean,
      std,
      seconds: meanStd(rs.map((r) => r.seconds)).mean,
      samplesPerSecond: meanStd(rs.map((r) => r.samplesPerSecond)).mean,
      steps: rs[0]!.steps,
      ...(rs.every((r) => r.peakBytes !== undefined)
        ? { peakBytes: meanStd(rs.map((r) => r.peakBytes!)).mean }
        : {}),
    };
  });
}

function commas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The markdown table of rows (metric as mean ± std over the seeds). */
export function markdownTable(rows: readonly ReportRow[], metric: MetricInfo): string {
  const digits = metric.name === 'accuracy' ? 2 : 4;
  const peak = rows.length > 0 && rows.every((r) => r.peakBytes !== undefined);
  const head = [
    'method',
    'trainable params',
    'of which adapter',
    `${metric.label} (mean ± std)`,
    'seeds',
    'wall time / run',
    ...(peak ? ['peak memory / step'] : []),
  ];
  const body = rows.map((r) => [
    r.label,
    commas(r.trainableParams),
    r.method === 'full' ? '–' : commas(r.adapterParams),
    `${r.mean.toFixed(digits)} ± ${r.std.toFixed(digits)}`,
    r.seeds.length,
    `${r.seconds.toFixed(1)} s`,
    ...(peak ? [`${(r.peakBytes! / 2 ** 20).toFixed(0)} MiB`] : []),
  ]);
  return formatTable([head, ...body], 'markdown', {
    align: ['left', 'right', 'right', 'right', 'right', 'right', ...(peak ? (['right'] as const) : [])],
  });
}

/** Longest title line in characters: a longer title would widen the canvas far beyond the plot itself. */
const TITLE_LINE_CHARS = 90;

/** A title broken at spaces into lines of at most `max` characters (vega-lite draws an array as lines). */
export function wrapTitle(title: string, max: number): string | string[] {
  if (title.length <= max) return title;
  const lines: string[] = [];
  let line = '';
  for (const word of title.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A Vega-Lite chart: metric (mean, with ± std bars) against trainable parameters on a log axis. */
export function plotSpec(rows: readonly ReportRow[], metric: MetricInfo, title: string): VegaLiteSpec {
  const values = rows.map((r) => ({
    label: r.label,
    params: r.trainableParams,
    mean: r.mean,
    lo: r.mean - r.std,
    hi: r.mean + r.std,
    quantum: r.method.startsWith('quantum-peft') ? 'Quantum-PEFT' : 'baseline',
  }));
  // Fixed domains, so that the labels can be placed in pixels without overlaps (plot/labels.ts).
  const width = 460;
  const height = 300;
  const xDomain: [number, number] = [
    10 ** Math.floor(Math.log10(Math.min(...values.map((v) => v.params)))),
    10 ** Math.ceil(Math.log10(Math.max(...values.map((v) => v.params)))),
  ];
  const lo = Math.min(...values.map((v) => v.lo));
  const hi = Math.max(...values.map((v) => v.hi));
  const pad = 0.06 * (hi - lo || Math.abs(hi) || 1);
  const yDomain: [number, number] = [lo - pad, hi + pad];
  const labels = placeLabels(
    values.map((v) => ({ x: v.params, y: v.mean, text: v.label })),
    {
      width,
      height,
      xDomain,
      yDomain,
      xLog: true,
      fontSize: 10,
      bars: values.map((v) => ({ x: v.params, y0: v.lo, y1: v.hi })),
    },
  );
  const x = {
    field: 'params',
    type: 'quantitative',
    title: 'trainable parameters (log scale)',
    scale: { type: 'log', domain: xDomain, nice: false },
  };
  const yScale = { domain: yDomain, nice: false, zero: false };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: wrapTitle(title, TITLE_LINE_CHARS),
      subtitle: `mean ± std over seeds; ${metric.higherIsBetter ? 'higher' : 'lower'} is better`,
    },
    width,
    height,
    background: 'white',
    config: { font: 'DejaVu Sans, sans-serif' },
    layer: [
      {
        data: { values },
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'lo', type: 'quantitative', scale: yScale }, y2: { field: 'hi' } },
      },
      {
        data: { values: labels.filter((l) => l.leader) },
        mark: { type: 'rule', color: '#999', strokeWidth: 0.7 },
        encoding: {
          x: { ...x, field: 'px' },
          y: { field: 'py', type: 'quantitative', scale: yScale },
          x2: { field: 'lx' },
          y2: { field: 'ly' },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: metric.label, scale: yScale },
          color: { field: 'quantum', type: 'nominal', title: null, scale: { scheme: 'set1' } },
          shape: { field: 'quantum', type: 'nominal', title: null },
        },
      },
      {
        data: { values: labels },
        mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 10 },
        encoding: {
          x: { ...x, field: 'x' },
          y: { field: 'y', type: 'quantitative', scale: yScale },
          text: { field: 'text' },
        },
      },
    ],
  };
}

/** What an experiment writes. */
export interface ExperimentReport {
  experiment: string;
  title: string;
  /** The command that reproduces it. */
  command: string;
  size: string;
  base: string;
  data: string;
  metric: MetricInfo;
  settings: Record<string, unknown>;
  rows: ReportRow[];
  runs: Omit<FinetuneResult, 'history'>[];
  notes: string[];
  backend: string;
  date: string;
}

/** Write `plot.svg` and `plot.png` of a report into `dir`; returns the paths. */
export async function writeReportPlot(dir: string, report: ExperimentReport): Promise<string[]> {
  const svg = await vegaLiteToSvg(plotSpec(report.rows, report.metric, report.title));
  const files = [path.join(dir, 'plot.svg'), path.join(dir, 'plot.png')];
  writeFileAtomic(files[0]!, svg);
  writeFileAtomic(files[1]!, await svgToPng(svg));
  return files;
}

/**
 * Redraw the plot of an experiment from its `results.json` in `dir` (no training): for a changed chart
 * layout, or results copied from elsewhere. Returns the paths written.
 */
export async function replotReport(dir: string): Promise<string[]> {
  const file = path.join(dir, 'results.json');
  let report: ExperimentReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as ExperimentReport;
  } catch (e) {
    throw new InputError(
      `cannot read the experiment results ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (
    !Array.isArray(report.rows) ||
    report.rows.length === 0 ||
    !report.metric ||
    typeof report.title !== 'string'
  )
    throw new InputError(`${file} is not an experiment's results.json (expected title, metric and rows)`);
  return writeReportPlot(dir, report);
}

/** Write `results.json`, `table.md` and `plot.svg` / `plot.png` into `dir`; returns the paths. */
export async function writeReport(
  dir: string,
  report: ExperimentReport,
  opts: { plot?: boolean } = {},
): Promise<string[]> {
  const files: string[] = [];
  const json = path.join(dir, 'results.json');
  writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  files.push(json);
  const md = path.join(dir, 'table.md');
  const text = [
    `# ${report.title}`,
    '',
    `Base \`${report.base}\`, data \`${report.data}\`, size \`${report.size}\`, backend ${report.backend}, ${report.date}.`,
    '',
    '```',
    report.command,
    '```',
    '',
    markdownTable(report.rows, report.metric),
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  writeFileAtomic(md, text);
  files.push(md);
  if (opts.plot !== false) {
    await writeReportPlot(dir, report);
    files.push(path.join(dir, 'plot.svg'), path.join(dir, 'plot.png'));
  }
  return files;
}
