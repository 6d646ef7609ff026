/**
 * Experiment reports: per-method aggregates over seeds (exact trainable parameters, metric mean ± sample
 * standard deviation, wall time), a markdown table, the results JSON and a plot of the metric against
 * trainable parameters on a log axis (Vega-Lite → SVG and PNG through `src/plot`).
 */

import path from 'node:path';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { svgToPng, type VegaLiteSpec, vegaLiteToSvg } from '../plot/render.ts';
import { formatTable } from '../util/table.ts';
import type { FinetuneResult } from './finetune.ts';
import type { MetricInfo } from './tasks.ts';

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
    };
  });
}

function commas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The markdown table of rows (metric as mean ± std over the seeds). */
export function markdownTable(rows: readonly ReportRow[], metric: MetricInfo): string {
  const digits = metric.name === 'accuracy' ? 2 : 4;
  const head = [
    'method',
    'trainable params',
    'of which adapter',
    `${metric.label} (mean ± std)`,
    'seeds',
    'wall time / run',
  ];
  const body = rows.map((r) => [
    r.label,
    commas(r.trainableParams),
    r.method === 'full' ? '–' : commas(r.adapterParams),
    `${r.mean.toFixed(digits)} ± ${r.std.toFixed(digits)}`,
    r.seeds.length,
    `${r.seconds.toFixed(1)} s`,
  ]);
  return formatTable([head, ...body], 'markdown', {
    align: ['left', 'right', 'right', 'right', 'right', 'right'],
  });
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
  const x = {
    field: 'params',
    type: 'quantitative',
    title: 'trainable parameters (log scale)',
    scale: { type: 'log' },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: `mean ± std over seeds; ${metric.higherIsBetter ? 'higher' : 'lower'} is better`,
    },
    width: 460,
    height: 300,
    background: 'white',
    config: { font: 'DejaVu Sans, sans-serif' },
    data: { values },
    layer: [
      {
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: metric.label, scale: { zero: false } },
          color: { field: 'quantum', type: 'nominal', title: null, scale: { scheme: 'set1' } },
          shape: { field: 'quantum', type: 'nominal', title: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10 },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, text: { field: 'label' } },
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
    const svg = await vegaLiteToSvg(plotSpec(report.rows, report.metric, report.title));
    writeFileAtomic(path.join(dir, 'plot.svg'), svg);
    writeFileAtomic(path.join(dir, 'plot.png'), await svgToPng(svg));
    files.push(path.join(dir, 'plot.svg'), path.join(dir, 'plot.png'));
  }
  return files;
}
