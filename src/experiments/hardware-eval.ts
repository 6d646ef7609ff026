/**
 * `evaluate`: what a QPU would give. For a `qpeft finetune` run with a Quantum-PEFT adapter, the held-out
 * metric of the fine-tuned model whose adapter is rebuilt from simulated hardware counts (plan → noisy
 * shots → reconstruct → the normal adapter loader), against shots and noise, mean ± std over seeds. Several
 * runs trained at different depths L give the depth study: deeper circuits are more expressive but have
 * more gates for noise to act on.
 *
 * The run's own model is rebuilt exactly as `finetune` left it: its base model, its task (same seed and
 * limits, so the same held-out examples), its trained head from `head.safetensors`; the metric with the
 * trained adapter itself is measured first (the "exact" row, which equals the run's `result.json` value).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, InputError } from '../errors.ts';
import { adapterFactors, buildPlan, type MeasurementPlan } from '../hardware/plan.ts';
import { reconstruct, writeReconstructedAdapter } from '../hardware/reconstruct.ts';
import type { NoiseModel } from '../hardware/shots.ts';
import { simulatePlan } from '../hardware/simulate.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadSafetensors } from '../io/safetensors.ts';
import type { BaseModel } from '../models/checkpoint.ts';
import { loadModel } from '../models/checkpoint.ts';
import { loadPeftModel } from '../peft/serialize.ts';
import { svgToPng, vegaLiteToSvg } from '../plot/render.ts';
import { tf } from '../tf/backend.ts';
import { createTask, parseTaskSpec } from '../train/tasks.ts';
import { taskHead } from './methods.ts';
import { meanStd } from './report.ts';

/** A noise setting of the study, with its label in tables. */
export interface NoiseSetting {
  readonly label: string;
  readonly model: NoiseModel;
}

/** One row of the study: a run × noise × shots cell, over seeds. */
export interface EvaluateRow {
  readonly run: string;
  /** Circuit layers L of the run's adapter. */
  readonly layers: number;
  readonly rank: number;
  readonly noise: string;
  /** Shots per circuit (null: the trained adapter itself, no measurement). */
  readonly shots: number | null;
  readonly metric: string;
  readonly mean: number;
  readonly std: number;
  readonly values: readonly number[];
  /** Mean over factors and seeds of ‖P̂ᵀP‖²/K (null for the exact row). */
  readonly fidelity: number | null;
  /** Mean over layers and seeds of ‖ΔŴ − ΔW‖_F/‖ΔW‖_F (null for the exact row). */
  readonly deltaWError: number | null;
  readonly circuits: number;
}

/** Options of `evaluateHardware`. */
export interface EvaluateOptions {
  /** `qpeft finetune` output folders (quantum-peft adapters). */
  runs: readonly string[];
  shots: readonly number[];
  noise: readonly NoiseSetting[];
  /** Seeds per cell (default 3). */
  seeds?: number;
  workers?: number;
  log?: (line: string) => void;
}

interface LoadedRun {
  model: BaseModel;
  evaluate(): number;
  metric: string;
  layers: number;
  rank: number;
  plan: MeasurementPlan;
}

/** Rebuild a finetune run's model with its trained head (the adapter is not loaded). */
async function loadRun(dir: string): Promise<LoadedRun> {
  let result: {
    base: string;
    data: string;
    seed: number;
    method: { method: string };
    metric: { name: string };
    settings: { trainLimit: number | null; evalLimit: number | null };
  };
  try {
    result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
  } catch (e) {
    throw new InputError(
      `--run ${describe(dir)}: no readable result.json (expected a 'qpeft finetune --out' folder): ${(e as Error).message}`,
    );
  }
  if (result.method?.method !== 'quantum-peft') {
    throw new InputError(
      `--run ${dir}: the run's method is ${describe(result.method?.method)}; hardware evaluation needs quantum-peft`,
    );
  }
  const adapterDir = path.join(dir, 'adapter');
  const a = adapterFactors(adapterDir);
  const { plan } = buildPlan({ kind: 'adapter', dir: adapterDir, config: a.config }, a.factors, a.layers);
  const model = loadModel(result.base);
  const spec = parseTaskSpec(result.data);
  const task = createTask(model, spec, result.seed, {
    ...(result.settings.trainLimit !== null ? { trainLimit: result.settings.trainLimit } : {}),
    ...(result.settings.evalLimit !== null ? { evalLimit: result.settings.evalLimit } : {}),
  });
  const head = taskHead(model, spec);
  if (head) {
    const { tensors } = loadSafetensors(path.join(dir, 'head.safetensors'));
    model.loadStateDict(
      tensors as Record<string, { shape: readonly number[]; data: ArrayLike<number> }>,
      false,
    );
  }
  const config = a.config as { layers?: number; rank?: number };
  return {
    model,
    evaluate: () => tf.tidy(() => task.evaluate()).metric,
    metric: result.metric.name,
    layers: config.layers ?? 2,
    rank: a.factors[0]?.columns ?? 0,
    plan,
  };
}

/** Run the study (see the file comment). Rows: per run the exact row, then noise × shots. */
export async function evaluateHardware(opts: EvaluateOptions): Promise<EvaluateRow[]> {
  const seeds = opts.seeds ?? 3;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 100) {
    throw new InputError(`seeds must be an integer in 1..100, got ${describe(seeds)}`);
  }
  if (!opts.runs.length) throw new InputError('give at least one --run');
  if (!opts.shots.length) throw new InputError('give at least one shot count');
  const log = opts.log ?? (() => {});
  const rows: EvaluateRow[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'qpeft-hw-eval-'));
  try {
    for (const dir of opts.runs) {
      const run = await loadRun(dir);
      const exactPeft = loadPeftModel(run.model, path.join(dir, 'adapter'));
      const exact = run.evaluate();
      exactPeft.unload();
      const base = {
        run: dir,
        layers: run.layers,
        rank: run.rank,
        metric: run.metric,
        circuits: run.plan.circuits.length,
      };
      rows.push({
        ...base,
        noise: 'exact',
        shots: null,
        mean: exact,
        std: 0,
        values: [exact],
        fidelity: null,
        deltaWError: null,
      });
      log(
        `${dir} (L=${run.layers}, K=${run.rank}, ${run.plan.circuits.length} circuits): trained adapter ${run.metric} ${exact.toFixed(4)}`,
      );
      for (const noise of opts.noise) {
        for (const shots of opts.shots) {
          const values: number[] = [];
          const fid: number[] = [];
          const dw: number[] = [];
          for (let s = 0; s < seeds; s++) {
            const counts = await simulatePlan(run.plan, {
              shots,
              noise: noise.model,
              seed: s,
              ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
            });
            const r = reconstruct(run.plan, counts);
            const out = path.join(scratch, `${rows.length}-${s}`);
            writeReconstructedAdapter(out, run.plan, r);
            const peft = loadPeftModel(run.model, out);
            values.push(run.evaluate());
            peft.unload();
            rmSync(out, { recursive: true, force: true });
            fid.push(r.factors.reduce((a, f) => a + f.fidelity, 0) / r.factors.length);
            const rel = r.layers.map((l) => l.relativeError).filter((x): x is number => x !== null);
            if (rel.length) dw.push(rel.reduce((a, x) => a + x, 0) / rel.length);
          }
          const { mean, std } = meanStd(values);
          const fidelity = meanStd(fid).mean;
          rows.push({
            ...base,
            noise: noise.label,
            shots,
            mean,
            std,
            values,
            fidelity,
            deltaWError: dw.length ? meanStd(dw).mean : null,
          });
          log(
            `  ${noise.label}, ${shots} shots: ${run.metric} ${mean.toFixed(4)} ± ${std.toFixed(4)} (fidelity ${fidelity.toFixed(5)})`,
          );
        }
      }
      run.model.dispose();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a markdown table (accuracy in %). */
export function evaluateMarkdown(rows: readonly EvaluateRow[]): string {
  const pct = (r: EvaluateRow, x: number) =>
    r.metric === 'accuracy' ? `${(100 * x).toFixed(2)}` : x.toFixed(4);
  const lines = [
    '| run | L | K | noise | shots/circuit | metric (mean ± std) | fidelity ‖P̂ᵀP‖²/K | ΔW rel. error |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${path.basename(r.run)} | ${r.layers} | ${r.rank} | ${r.noise} | ${r.shots ?? '–'} | ${pct(r, r.mean)}${r.shots === null ? '' : ` ± ${pct(r, r.std)}`} | ${r.fidelity === null ? '–' : r.fidelity.toFixed(5)} | ${r.deltaWError === null ? '–' : r.deltaWError.toExponential(2)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A Vega-Lite plot: metric against shots (log scale) per noise, one panel per depth, with ±std bands. */
export function evaluatePlotSpec(rows: readonly EvaluateRow[]): Record<string, unknown> {
  const data = rows
    .filter((r) => r.shots !== null)
    .map((r) => ({
      shots: r.shots,
      noise: r.noise,
      L: `L = ${r.layers}`,
      mean: r.metric === 'accuracy' ? 100 * r.mean : r.mean,
      lo: (r.metric === 'accuracy' ? 100 : 1) * (r.mean - r.std),
      hi: (r.metric === 'accuracy' ? 100 : 1) * (r.mean + r.std),
    }));
  const exact = rows
    .filter((r) => r.shots === null)
    .map((r) => ({ L: `L = ${r.layers}`, exact: r.metric === 'accuracy' ? 100 * r.mean : r.mean }));
  const label = rows[0]?.metric === 'accuracy' ? 'held-out accuracy (%)' : 'held-out metric';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values: data },
    facet: { field: 'L', type: 'nominal', title: null },
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          mark: { type: 'errorband', opacity: 0.2 },
          encoding: {
            x: { field: 'shots', type: 'quantitative', scale: { type: 'log' }, title: 'shots per circuit' },
            y: { field: 'lo', type: 'quantitative', title: label, scale: { zero: false } },
            y2: { field: 'hi' },
            color: { field: 'noise', type: 'nominal' },
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'shots', type: 'quantitative', scale: { type: 'log' } },
            y: { field: 'mean', type: 'quantitative' },
            color: { field: 'noise', type: 'nominal' },
          },
        },
      ],
    },
    ...(exact.length ? { description: `trained adapter: ${JSON.stringify(exact)}` } : {}),
  };
}

/** Write `results.json`, `results.md`, `plot.svg` and `plot.png` into `out`. */
export async function writeEvaluation(
  out: string,
  rows: readonly EvaluateRow[],
  command: string,
): Promise<string[]> {
  writeFileAtomic(path.join(out, 'results.json'), `${JSON.stringify({ command, rows }, null, 1)}\n`);
  writeFileAtomic(path.join(out, 'results.md'), `Made with: \`${command}\`\n\n${evaluateMarkdown(rows)}`);
  const svg = await vegaLiteToSvg(evaluatePlotSpec(rows));
  writeFileAtomic(path.join(out, 'plot.svg'), svg);
  writeFileAtomic(path.join(out, 'plot.png'), await svgToPng(svg));
  return ['results.json', 'results.md', 'plot.svg', 'plot.png'];
}
