/**
 * The quantization sweep behind `qpeft quantize`: an adapter (a saved adapter directory, a `qpeft finetune`
 * run, or a synthetic demo adapter trained here) quantized at each bit width, uniformly and optionally with
 * adaptive bit loading, each scored by the run's held-out task metric and by the ΔW error against float32
 * (docs/method.md §5, docs/quantization.md). A notebook gets the same table as the command.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataError, describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { checkBits, DEFAULT_GROUP_SIZE } from '../io/quant/quantize.ts';
import { type QuantizeReport, quantizeAdapterDir } from '../quant/adapter.ts';
import { trainDemoAdapter } from '../quant/demo.ts';
import { type Cell, formatTable, type TableFormat } from '../util/table.ts';
import { isFinetuneRun, type RunEvaluator, runEvaluator } from './quant-eval.ts';

export type QuantEvalKind = 'finetune' | 'delta-w' | 'params';
export const QUANT_EVAL_KINDS: readonly QuantEvalKind[] = ['finetune', 'delta-w', 'params'];
export const QUANT_DEMO_METHODS = ['quantum-peft', 'quantum-peft-lie'] as const;

export interface QuantSweepOptions {
  /** An adapter directory (saveAdapter's layout) or a `qpeft finetune` output directory. */
  readonly adapter?: string;
  /** Instead of `adapter`: train a small synthetic adapter of this method first (seeded). */
  readonly demo?: (typeof QUANT_DEMO_METHODS)[number];
  /** Adam steps of the demo adapter (default 150). */
  readonly steps?: number;
  /** Seed of the demo adapter (default 0). */
  readonly seed?: number;
  /** Bit widths, each in 1..8 (default 8, 4, 3, 2, 1). */
  readonly bits?: readonly number[];
  /** Also quantize with adaptive bit loading at the same total storage. */
  readonly adaptive?: boolean;
  /** The table's metric (default finetune for a run directory, else delta-w). */
  readonly eval?: QuantEvalKind;
  /** With `eval: 'finetune'`: score the first N held-out examples only. */
  readonly evalLimit?: number;
  /** Values per quantization group (default 128). */
  readonly groupSize?: number;
  /** Adaptive allocation weights: ΔW sensitivity (default) or equal. */
  readonly weighting?: 'delta-w' | 'none';
  /** Keep the quantized adapters under this directory (int<b>, int<b>-adaptive, and fp32 for a demo). */
  readonly out?: string;
  /** Also write the Markdown table into this file's `quant-<section>` markers (see `writeQuantSection`). */
  readonly markdown?: { readonly file: string; readonly section?: string };
  /** Progress and provenance lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One bit width of the sweep. */
export interface QuantSweepRow {
  readonly bits: number;
  readonly uniform: QuantizeReport;
  readonly adaptive: QuantizeReport | null;
}

export interface QuantSweepResult {
  /** What was quantized, in words (with the float32 score for a run). */
  readonly source: string;
  readonly eval: QuantEvalKind;
  /** Task metric per format (`fp32`, `int4`, `int4-adaptive`, …); empty unless `eval` is finetune. */
  readonly scores: Readonly<Record<string, number>>;
  readonly rows: readonly QuantSweepRow[];
  readonly groupSize: number;
  /** Whether the adaptive columns are present. */
  readonly adaptive: boolean;
  /** The metric the table reports, in words. */
  readonly metricName: string;
  /** How the task metric is printed (`98.12%`, `1.2345`); null without a task metric. */
  readonly taskMetric: { readonly name: string; readonly accuracy: boolean } | null;
}

function checkOptions(o: QuantSweepOptions): void {
  if ((o.adapter === undefined) === (o.demo === undefined))
    throw new InputError(
      'give exactly one of an adapter directory and a demo method (quantum-peft, quantum-peft-lie)',
    );
  if (o.demo !== undefined && !QUANT_DEMO_METHODS.includes(o.demo))
    throw new InputError(`the demo method must be quantum-peft or quantum-peft-lie, got ${describe(o.demo)}`);
  if (o.eval !== undefined && !QUANT_EVAL_KINDS.includes(o.eval))
    throw new InputError(`the evaluation must be finetune, delta-w or params, got ${describe(o.eval)}`);
  if (o.weighting !== undefined && o.weighting !== 'delta-w' && o.weighting !== 'none')
    throw new InputError(`the weighting must be delta-w or none, got ${describe(o.weighting)}`);
  for (const b of o.bits ?? []) checkBits(b);
  if (o.bits !== undefined && o.bits.length === 0)
    throw new InputError('give at least one bit width, got none');
  if (o.markdown) checkSection(o.markdown.section ?? 'table');
}

function checkSection(section: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(section))
    throw new InputError(`the section name must match [A-Za-z0-9_-]+, got ${describe(section)}`);
}

/**
 * Quantize an adapter at every width of `bits` and score each version; see the module comment. Temporary
 * directories (a demo adapter without `out`, quantized adapters scored without `out`) are removed before
 * returning, also on failure.
 */
export function quantizeSweep(options: QuantSweepOptions): QuantSweepResult {
  checkOptions(options);
  const log = options.log ?? (() => {});
  const bitsList = options.bits ?? [8, 4, 3, 2, 1];
  const groupSize = options.groupSize ?? DEFAULT_GROUP_SIZE;
  const temps: string[] = [];
  const tempDir = (prefix: string) => {
    const t = mkdtempSync(path.join(tmpdir(), prefix));
    temps.push(t);
    return t;
  };
  try {
    let dir: string;
    let source: string;
    if (options.demo !== undefined) {
      const steps = options.steps ?? 150;
      dir = options.out ? path.join(options.out, 'fp32') : tempDir('qpeft-demo-');
      const r = trainDemoAdapter(dir, { method: options.demo, steps, seed: options.seed ?? 0 });
      source = `synthetic ${options.demo} adapter (${r.params} parameters, trained ${steps} Adam steps to a random rank-4 teacher ΔW*, final loss ${r.loss.toFixed(4)})`;
      log(`trained the demo adapter: ${source}`);
    } else {
      dir = options.adapter!;
      if (!existsSync(dir)) throw new InputError(`the adapter directory ${describe(dir)} does not exist`);
      source = `adapter ${dir}`;
    }
    const run = isFinetuneRun(dir) ? dir : null;
    if (run) dir = path.join(run, 'adapter');
    const evalKind = options.eval ?? (run ? 'finetune' : 'delta-w');
    if (evalKind === 'finetune' && !run)
      throw new InputError(
        `the finetune evaluation needs a 'qpeft finetune' output directory (result.json, head.safetensors, adapter/), got ${describe(options.adapter ?? 'a demo')}`,
      );
    let evaluator: RunEvaluator | null = null;
    const scores: Record<string, number> = {};
    if (evalKind === 'finetune') {
      evaluator = runEvaluator(run!, { evalLimit: options.evalLimit });
      const base = evaluator.evaluate(dir).metric;
      scores.fp32 = base;
      const r = JSON.parse(readFileSync(path.join(run!, 'result.json'), 'utf8')) as {
        label?: string;
        data?: string;
      };
      // A float32 score that differs from the run's own means the base model or data changed since the
      // run: every number of the table would compare against the wrong reference.
      if (options.evalLimit === undefined && Math.abs(base - evaluator.reported) > 1e-9)
        throw new DataError(
          `the float32 adapter of ${run} scores ${evaluator.format(base)} here, but the run reported ${evaluator.format(evaluator.reported)}: has its base model (result.json "base") or data changed since the run?`,
        );
      source = `${r.label ?? 'adapter'} fine-tuned on ${r.data ?? '?'} (${run}; float32: ${evaluator.format(base)}, the run reported ${evaluator.format(evaluator.reported)})`;
      log(`evaluating on ${source}`);
    }
    const writeRoot = options.out ?? (evaluator ? tempDir('qpeft-quant-') : null);
    const out = (tag: string) => (writeRoot ? path.join(writeRoot, tag) : null);
    const rows: QuantSweepRow[] = [];
    for (const bits of bitsList) {
      const uniform = quantizeAdapterDir(dir, out(`int${bits}`), { bits, groupSize });
      const adaptive = options.adaptive
        ? quantizeAdapterDir(dir, out(`int${bits}-adaptive`), {
            bits,
            groupSize,
            adaptive: true,
            weighting: options.weighting ?? 'delta-w',
          })
        : null;
      if (evaluator) {
        scores[`int${bits}`] = evaluator.evaluate(out(`int${bits}`)!).metric;
        if (adaptive) scores[`int${bits}-adaptive`] = evaluator.evaluate(out(`int${bits}-adaptive`)!).metric;
      }
      rows.push({ bits, uniform, adaptive });
    }
    if (options.out) log(`quantized adapters written under ${options.out}`);
    const errName =
      evalKind === 'params' || rows.some((r) => r.uniform.metric === 'params')
        ? 'relative parameter error ‖p_q − p‖/‖p‖ (angles mod 4π)'
        : 'relative Frobenius error of ΔW, ‖ΔW_q − ΔW‖_F / ‖ΔW‖_F over all adapted layers, against the float32 adapter';
    const metricName = evaluator
      ? `held-out ${evaluator.metric.label} of the fine-tuned model with each adapter (the normal loader), and the ${errName}`
      : errName;
    const result: QuantSweepResult = {
      source,
      eval: evalKind,
      scores,
      rows,
      groupSize,
      adaptive: options.adaptive === true,
      metricName,
      taskMetric: evaluator
        ? { name: evaluator.metric.name, accuracy: evaluator.metric.name === 'accuracy' }
        : null,
    };
    if (options.markdown) {
      writeQuantSection(options.markdown.file, options.markdown.section ?? 'table', result);
      log(`table written to ${options.markdown.file}`);
    }
    return result;
  } finally {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(100 * x).toPrecision(3)}%`;

/** The sweep's table (header first): FP32, then one row per width; adaptive columns when present. */
export function quantSweepRows(r: QuantSweepResult): Cell[][] {
  const task = r.taskMetric;
  const taskName = task ? (task.accuracy ? 'accuracy' : 'bits/byte') : '';
  const fmtTask = (v: number | undefined) =>
    v === undefined ? '' : task!.accuracy ? `${(100 * v).toFixed(2)}%` : v.toFixed(4);
  const errOf = (q: QuantizeReport) =>
    r.eval === 'params' || q.metric === 'params' ? q.paramError : q.error;
  const f32 = r.rows[0]!.uniform.float32Bytes;
  const head: Cell[] = ['format', 'bits/param'];
  if (task) head.push(`${taskName} (uniform)`);
  head.push('ΔW error (uniform)', 'file bytes');
  if (r.adaptive) {
    head.push('bits/param (adaptive)');
    if (task) head.push(`${taskName} (adaptive)`);
    head.push('ΔW error (adaptive)', 'pruned groups', 'dropped RY');
  }
  const fp: Cell[] = ['FP32', '32', ...(task ? [fmtTask(r.scores.fp32)] : []), '0', String(f32)];
  if (r.adaptive) fp.push('32', ...(task ? [fmtTask(r.scores.fp32)] : []), '0', '0', '0');
  const body: Cell[][] = [fp];
  for (const row of r.rows) {
    const u = row.uniform;
    const line: Cell[] = [`INT${row.bits}`, u.account.bitsPerParam.toFixed(4)];
    if (task) line.push(fmtTask(r.scores[`int${row.bits}`]));
    line.push(pct(errOf(u)), `${u.fileBytes} (${(f32 / u.fileBytes).toFixed(1)}×)`);
    if (row.adaptive) {
      const a = row.adaptive;
      line.push(a.account.bitsPerParam.toFixed(4));
      if (task) line.push(fmtTask(r.scores[`int${row.bits}-adaptive`]));
      line.push(pct(errOf(a)), `${a.account.prunedGroups}/${a.account.groups}`, String(a.droppedGates));
    }
    body.push(line);
  }
  return [head, ...body];
}

/** The sweep as a text report (source and metric lines, then the table) or a bare Markdown/CSV table. */
export function quantSweepTable(r: QuantSweepResult, format: TableFormat = 'text'): string {
  const table = formatTable(quantSweepRows(r), format);
  if (format !== 'text') return table;
  const params = r.rows[0]!.uniform.account.params;
  return [
    `${r.source}: ${params} quantized parameters, groups of ${r.groupSize}`,
    `metric: ${r.metricName}`,
    '',
    table,
  ].join('\n');
}

/**
 * Write the sweep's Markdown table into `file` between `<!-- quant-NAME:begin -->` and
 * `<!-- quant-NAME:end -->` (appended when the markers are absent), atomically.
 */
export function writeQuantSection(file: string, section: string, r: QuantSweepResult): void {
  checkSection(section);
  const begin = `<!-- quant-${section}:begin -->`;
  const end = `<!-- quant-${section}:end -->`;
  const params = r.rows[0]!.uniform.account.params;
  const md = [
    begin,
    `Source: ${r.source}; ${params} quantized parameters, groups of ${r.groupSize} (fp16 offset + fp16 scale each).`,
    `Metric: ${r.metricName}. File bytes: the whole adapter_model.safetensors (header included), ratio to float32.`,
    '',
    quantSweepTable(r, 'markdown'),
    end,
  ].join('\n');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const text =
    i >= 0 && j > i
      ? `${old.slice(0, i)}${md}${old.slice(j + end.length)}`
      : `${old}${old && !old.endsWith('\n') ? '\n' : ''}${md}\n`;
  writeFileAtomic(file, text);
}
