/**
 * The fine-tuning loop: a saved base model + a task on real data + a method (`MethodSpec`) → a trained
 * adapter (or head, or model) and its held-out metric.
 *
 * Seeded (head and adapter initial values, batch order). AdamW with warm-up and cosine decay and gradient
 * clipping; AdaLoRA's rank allocator runs after each step and its orthogonality term joins the loss. A
 * progress bar on stderr shows the loss, the running training accuracy and the ETA. A NaN or infinite loss
 * (or gradient) stops the run with a `TrainingDivergedError` that says where and what to try; nothing of
 * the bad step is applied and the last checkpoint stays.
 *
 * With `out`, the run writes (atomically) `checkpoint.safetensors` every `checkpointEvery` steps and at the
 * end of every epoch (the trainable variables, the optimiser moments and the run state), and `resume`
 * continues from it: the same batches follow, so an interrupted and resumed run reaches the same weights
 * as an uninterrupted one. At the end it writes `result.json`, the adapter (`adapter/`, Hugging Face PEFT
 * layout, with the circuits as OpenQASM 3 under `adapter/circuits/` for quantum methods), its LoRA-layout
 * export (`adapter-lora/`, where ΔW is a low-rank product), and the trained head (`head.safetensors`) or,
 * for full fine-tuning, the whole model (`model/`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AdapterError, describe, InputError } from '../errors.ts';
import { removeOrphanedTemps, writeFileAtomic } from '../io/atomic.ts';
import { withOutputDir } from '../io/output.ts';
import { saveSafetensors } from '../io/safetensors.ts';
import { type BaseModel, loadModel, saveModel } from '../models/checkpoint.ts';
import { exportLora, saveAdapter } from '../peft/serialize.ts';
import { tf } from '../tf/backend.ts';
import { openCheckpoint, type TrainEpoch } from '../train/checkpoint.ts';
import { runLength, type TrainResult, train } from '../train/engine.ts';
import type { MetricInfo } from '../train/task.ts';
import { createTask, formatTaskSpec, parseTaskSpec } from '../train/tasks.ts';
import type { ProgressSink } from '../util/progress.ts';
import {
  checkMethodSpec,
  type MethodSpec,
  methodLabel,
  setupMethod,
  type TrainingSetup,
  taskHead,
} from './methods.ts';

export { formatMetric } from '../train/task.ts';

export const FINETUNE_CHECKPOINT = 'checkpoint.safetensors';
export const FINETUNE_RESULT = 'result.json';

export interface FinetuneOptions {
  /** Directory of a saved base model (`config.json` + `model.safetensors`). */
  base: string;
  /** `mnist`, `fashion-mnist`, `fortunes:<cats>` (LM) or `fortunes-classify:<cats>`. */
  data: string;
  /** `lm` or `classify` for `fortunes:<cats>` (default lm). */
  task?: string;
  method: MethodSpec;
  epochs: number;
  /** Peak learning rate (default 5e-3 for adapters and probes, 1e-3 for full fine-tuning). */
  lr?: number;
  batchSize?: number;
  seed?: number;
  weightDecay?: number;
  /** Warm-up steps (default 5% of all steps, at most 100). */
  warmupSteps?: number;
  /** Use at most this many training examples (LM: windows per epoch). */
  trainLimit?: number;
  /** Evaluate on at most this many held-out examples (LM: windows). */
  evalLimit?: number;
  /** Stop after this many optimiser steps in all (for smoke runs; the schedule still spans all epochs). */
  maxSteps?: number;
  /** Output directory (checkpoints, result, adapter); without it nothing is written. */
  out?: string;
  /**
   * Continue from `out/checkpoint.safetensors` (same options; `epochs` may grow). Exact for every method
   * except AdaLoRA, whose rank allocator's importance averages are not checkpointed and restart (its masked
   * singular values are kept, being part of the variables).
   */
  resume?: boolean;
  /** Checkpoint every this many steps (default 100) besides every epoch's end. */
  checkpointEvery?: number;
  /** Evaluate the model before training too (epoch 0). */
  evalInitial?: boolean;
  /** Progress bar sink (default stderr; null for none). */
  progress?: ProgressSink | null;
  /** Log lines (default stderr). */
  log?: (line: string) => void;
  /** Called after each checkpoint is written, with the global step (a throw stops the run there). */
  onCheckpoint?: (step: number) => void;
}

/** Metrics after an epoch (epoch 0: before training). */
export type FinetuneEpoch = TrainEpoch;

export interface FinetuneResult {
  label: string;
  method: MethodSpec;
  data: string;
  base: string;
  seed: number;
  metric: MetricInfo;
  /** The final held-out metric (after the last epoch; accuracy as a fraction). */
  value: number;
  evalLoss: number;
  /** Exact trainable scalars (from the model's trainable variables), adapter-only and head-only parts. */
  trainableParams: number;
  adapterParams: number;
  headParams: number;
  /** The registry's closed form for the same setup (must equal `trainableParams`). */
  closedFormParams: number;
  totalParams: number;
  targets: string[];
  steps: number;
  /** Training + evaluation wall time, summed across resumptions. */
  seconds: number;
  /** Training samples per second of the training steps. */
  samplesPerSecond: number;
  /** Peak tfjs memory (bytes of live tensors, weights and data included) during a training step, if measured. */
  peakBytes?: number;
  resumedFromStep: number;
  /** The options that shaped the run (what a rerun must match to reuse this result). */
  settings: FinetuneSettings;
  history: FinetuneEpoch[];
  backend: string;
  /** Files written (relative to `out`). */
  files: string[];
}

/** Hyper-parameters and sizes of a run, as recorded in `result.json`. */
export interface FinetuneSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  warmupSteps: number | null;
  trainLimit: number | null;
  evalLimit: number | null;
  maxSteps: number | null;
}

/** The options a resumed run must share with its checkpoint. */
interface RunKey {
  base: string;
  data: string;
  method: MethodSpec;
  lr: number;
  batchSize: number;
  seed: number;
  weightDecay: number;
  warmupSteps: number | null;
  trainLimit: number | null;
  evalLimit: number | null;
}

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new InputError(`${name} must be an integer ≥ ${min}, got ${describe(v)}`);
  }
}

/** Default hyper-parameters. */
export const FINETUNE_DEFAULTS = { batchSize: 32, lr: 5e-3, fullLr: 1e-3, weightDecay: 0 } as const;

/**
 * Fine-tune a base model (see the module comment). `opts.out` is checked and locked first (io/output.ts):
 * a file in the way or a second run writing the same folder is refused before any work.
 */
export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  return withOutputDir(opts.out, () => finetuneLocked(opts), { command: 'finetune' });
}

async function finetuneLocked(opts: FinetuneOptions): Promise<FinetuneResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  checkInt('epochs', opts.epochs, 1);
  checkInt('batch size', opts.batchSize, 1);
  checkInt('seed', opts.seed, 0);
  checkInt('train limit', opts.trainLimit, 1);
  checkInt('eval limit', opts.evalLimit, 1);
  checkInt('max steps', opts.maxSteps, 1);
  checkInt('checkpoint interval', opts.checkpointEvery, 1);
  checkInt('warm-up steps', opts.warmupSteps, 0);
  checkMethodSpec(opts.method);
  const spec = parseTaskSpec(opts.data, opts.task);
  const key: RunKey = {
    base: path.resolve(opts.base),
    data: formatTaskSpec(spec),
    method: opts.method,
    lr: opts.lr ?? (opts.method.method === 'full' ? FINETUNE_DEFAULTS.fullLr : FINETUNE_DEFAULTS.lr),
    batchSize: opts.batchSize ?? FINETUNE_DEFAULTS.batchSize,
    seed: opts.seed ?? 0,
    weightDecay: opts.weightDecay ?? FINETUNE_DEFAULTS.weightDecay,
    warmupSteps: opts.warmupSteps ?? null,
    trainLimit: opts.trainLimit ?? null,
    evalLimit: opts.evalLimit ?? null,
  };
  if (!(key.lr > 0 && Number.isFinite(key.lr)))
    throw new InputError(`learning rate must be a positive number, got ${describe(key.lr)}`);
  if (!(key.weightDecay >= 0))
    throw new InputError(`weight decay must be ≥ 0, got ${describe(key.weightDecay)}`);

  const ckptFile = opts.out ? path.join(opts.out, FINETUNE_CHECKPOINT) : null;
  const stored = openCheckpoint({
    file: ckptFile,
    dir: opts.out,
    resume: opts.resume === true,
    key: key as unknown as Record<string, unknown>,
    what: 'fine-tuning',
  });
  if (opts.out) removeOrphanedTemps(opts.out);

  const model = loadModel(opts.base);
  try {
    const task = createTask(model, spec, key.seed, {
      trainLimit: opts.trainLimit,
      evalLimit: opts.evalLimit,
    });
    const { stepsPerEpoch, totalSteps, lastStep } = runLength(
      task,
      opts.epochs,
      key.batchSize,
      opts.maxSteps,
    );
    const label = methodLabel(opts.method);
    const resultFile = opts.out ? path.join(opts.out, FINETUNE_RESULT) : null;
    if (stored && stored.step >= lastStep && resultFile && existsSync(resultFile)) {
      // a resume with nothing left to do must not rewrite the record of the run that did the work
      log(
        `nothing to do: ${label} in ${opts.out} already ran ${stored.step} of ${lastStep} steps; ${FINETUNE_RESULT} is unchanged`,
      );
      return readResult(resultFile);
    }
    const setup = setupMethod(model, spec, opts.method, key.seed, totalSteps);
    log(`data: ${task.summary}`);
    log(
      `method: ${label}; trainable params ${setup.counts.trainable} (adapter ${setup.counts.adapter}, head ${setup.counts.head}) of ${setup.counts.total}` +
        `${setup.targets.length ? ` on ${setup.targets.length} layers (${shortTargets(setup.targets)})` : ''}; ${stepsPerEpoch} steps per epoch of batch ${key.batchSize}, lr ${key.lr}`,
    );
    const run = await train({
      label,
      task,
      params: setup.trainable,
      epochs: opts.epochs,
      batchSize: key.batchSize,
      lr: key.lr,
      weightDecay: key.weightDecay,
      warmupSteps: key.warmupSteps,
      warmupCap: 100,
      maxSteps: opts.maxSteps,
      regularizer: setup.peft ? () => setup.peft!.regularizationLoss() : undefined,
      hooks: setup.hooks,
      key: key as unknown as Record<string, unknown>,
      checkpoint: ckptFile ? { file: ckptFile, dir: opts.out!, every: opts.checkpointEvery ?? 100 } : null,
      stored,
      evalInitial: opts.evalInitial,
      progress: opts.progress,
      log,
      onCheckpoint: opts.onCheckpoint,
    });
    const files: string[] = [];
    if (opts.out) files.push(...writeArtifacts(opts.out, model, spec, setup, opts.method, log));
    const result = runRecord({
      label,
      method: opts.method,
      data: key.data,
      base: opts.base,
      seed: key.seed,
      metric: task.metric,
      setup,
      run,
      settings: {
        epochs: opts.epochs,
        lr: key.lr,
        batchSize: key.batchSize,
        weightDecay: key.weightDecay,
        warmupSteps: key.warmupSteps,
        trainLimit: key.trainLimit,
        evalLimit: key.evalLimit,
        maxSteps: opts.maxSteps ?? null,
      },
      files,
    });
    if (resultFile) {
      writeFileAtomic(resultFile, `${JSON.stringify(result, null, 2)}\n`);
      files.push(FINETUNE_RESULT);
    }
    return result;
  } finally {
    model.dispose();
  }
}

/** The `result.json` record of a finished run (fine-tuning and the MobileNet experiment write the same). */
export function runRecord(r: {
  label: string;
  method: MethodSpec;
  data: string;
  base: string;
  seed: number;
  metric: MetricInfo;
  setup: TrainingSetup;
  run: TrainResult;
  settings: FinetuneSettings;
  files: string[];
}): FinetuneResult {
  const { state } = r.run;
  const last = state.history.at(-1);
  if (!last) throw new InputError('no epoch was run (maxSteps or epochs is 0?)');
  return {
    label: r.label,
    method: r.method,
    data: r.data,
    base: r.base,
    seed: r.seed,
    metric: r.metric,
    value: last.evalMetric,
    evalLoss: last.evalLoss,
    trainableParams: r.setup.counts.trainable,
    adapterParams: r.setup.counts.adapter,
    headParams: r.setup.counts.head,
    closedFormParams: r.setup.closedForm,
    totalParams: r.setup.counts.total,
    targets: r.setup.targets,
    steps: state.step,
    seconds: state.seconds,
    samplesPerSecond: state.trainSeconds > 0 ? state.samples / state.trainSeconds : Number.NaN,
    resumedFromStep: r.run.resumedFromStep,
    settings: r.settings,
    history: state.history,
    backend: tf.getBackend(),
    files: r.files,
  };
}

/** Read a `result.json` written by `finetune` (typed error naming the file when it is not one). */
export function readResult(file: string): FinetuneResult {
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const o = r as Partial<FinetuneResult> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.label !== 'string' ||
    !Array.isArray(o.history) ||
    typeof o.settings !== 'object'
  ) {
    throw new InputError(`${file} is not a fine-tuning result (expected label, settings and history)`);
  }
  return o as FinetuneResult;
}

function shortTargets(targets: string[]): string {
  const names = [...new Set(targets.map((t) => t.split('.').at(-1)))];
  return names.join(', ');
}

function writeArtifacts(
  out: string,
  model: BaseModel,
  spec: ReturnType<typeof parseTaskSpec>,
  setup: ReturnType<typeof setupMethod>,
  method: MethodSpec,
  log: (l: string) => void,
): string[] {
  const files: string[] = [];
  if (method.method === 'full') {
    saveModel(path.join(out, 'model'), model, { source: 'qpeft finetune --method full' });
    return ['model/'];
  }
  const head = taskHead(model, spec);
  if (head) {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const headName = model.namedModules().find(([, m]) => m === head)![0];
    for (const [n, v] of head.namedParameters())
      tensors[`${headName}.${n}`] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
    saveSafetensors(path.join(out, 'head.safetensors'), tensors, { format: 'qpeft-head' });
    files.push('head.safetensors');
  }
  if (setup.peft) {
    saveAdapter(setup.peft, path.join(out, 'adapter'));
    files.push('adapter/');
    try {
      exportLora(setup.peft, path.join(out, 'adapter-lora'));
      files.push('adapter-lora/');
    } catch (e) {
      if (!(e instanceof AdapterError)) throw e;
      log(`note: ${e.message} (no LoRA-layout export)`);
    }
  }
  return files;
}
