/**
 * Pretraining of the base models on a source task: the ViT as an image classifier, the text transformer
 * as a byte-level language model. Seeded (initial weights, data order), AdamW with warm-up and cosine
 * decay, a progress bar, an atomic checkpoint after every epoch and exact resumption from it, and a typed
 * error on a non-finite loss.
 *
 * Files in the output directory: `config.json` + `model.safetensors` (the model, what fine-tuning loads),
 * `checkpoint.safetensors` (model, optimiser moments and run state: what `resume` reads; one atomic file so
 * that it is always consistent) and `pretrain.json` (options and per-epoch metrics).
 */
import path from 'node:path';
import { formatDataSpec, loadImageSet, parseDataSpec } from '../data/spec.ts';
import { describe, InputError } from '../errors.ts';
import { removeOrphanedTemps, writeFileAtomic } from '../io/atomic.ts';
import { withOutputDir } from '../io/output.ts';
import { type BaseModel, createModel, type ModelKind, saveModel } from '../models/checkpoint.ts';
import { tf } from '../tf/backend.ts';
import type { ProgressSink } from '../util/progress.ts';
import { type TrainEpoch as EngineEpoch, openCheckpoint } from './checkpoint.ts';
import { train } from './engine.ts';
import { createTask, parseTaskSpec } from './tasks.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const RUN_FILE = 'pretrain.json';

export interface PretrainOptions {
  model: ModelKind;
  /** `mnist`, `fashion-mnist` (ViT) or `fortunes:<categories>` (text). */
  data: string;
  epochs: number;
  seed: number;
  out: string;
  /** Continue from `out/checkpoint.safetensors` (same options; `epochs` may grow). */
  resume?: boolean;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Warm-up steps of the learning-rate schedule (default: 5% of all steps, at most 200). */
  warmupSteps?: number;
  /** Overrides of the model's default config (`dim`, `depth`, `heads`, `mlpDim`, `patchSize`, `contextLength`, …). */
  modelConfig?: Record<string, number | string>;
  /** Use at most this many training images (or text windows per epoch). */
  trainLimit?: number;
  /** Evaluate on at most this many test images (or validation windows). */
  evalLimit?: number;
  /** Where the progress bar goes (default stderr; `null` for none). */
  progress?: ProgressSink | null;
  /** One line per epoch and event (default: to stderr). */
  log?: (line: string) => void;
  /** Called after each epoch's checkpoint is written (a throw stops the run there, as an interruption would). */
  onEpoch?: (record: EpochRecord) => void;
}

/** Metrics after one epoch (epoch 0: the initial model, before any update). */
export interface EpochRecord {
  epoch: number;
  steps: number;
  /** Mean training loss over the epoch (nats; NaN for epoch 0). */
  trainLoss: number;
  /** Loss on the held-out split (nats per image or per byte). */
  evalLoss: number;
  /** Test accuracy (image models). */
  evalAccuracy?: number;
  /** Validation bits per byte (`evalLoss / ln 2`, text models). */
  evalBitsPerByte?: number;
  /** Wall time of the epoch's training and evaluation. */
  seconds: number;
}

export interface PretrainResult {
  out: string;
  history: EpochRecord[];
  /** The epoch the run started from (0 for a fresh run). */
  resumedFrom: number;
  parameters: number;
  /** Sum of the epochs' wall times, across resumptions. */
  trainSeconds: number;
}

/** The options that must match between a checkpoint and a resumed run. */
interface RunKey {
  model: ModelKind;
  data: string;
  seed: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number | null;
  modelConfig: Record<string, number | string>;
  trainLimit: number | null;
  evalLimit: number | null;
}

/** Defaults per model kind (chosen for minutes per epoch on two cores). */
export const PRETRAIN_DEFAULTS = {
  vit: { batchSize: 64, lr: 2e-3, weightDecay: 0.05 },
  text: { batchSize: 32, lr: 2e-3, weightDecay: 0.05 },
} as const;

function checkPositiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1))
    throw new InputError(`${name} must be a positive integer, got ${describe(v)}`);
}

/**
 * Pretrain a base model (see the module comment); resolves when all epochs are done. `opts.out` is checked
 * and locked first (io/output.ts): a second run writing the same folder is refused before any work.
 */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  return withOutputDir(opts.out, () => pretrainLocked(opts), { command: 'pretrain' });
}

async function pretrainLocked(opts: PretrainOptions): Promise<PretrainResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  checkPositiveInt('epochs', opts.epochs);
  checkPositiveInt('batch size', opts.batchSize);
  checkPositiveInt('train limit', opts.trainLimit);
  checkPositiveInt('eval limit', opts.evalLimit);
  if (!Number.isInteger(opts.seed) || opts.seed < 0)
    throw new InputError(`seed must be a non-negative integer, got ${describe(opts.seed)}`);
  const spec = parseDataSpec(opts.data);
  if (opts.model === 'vit' && spec.kind !== 'image')
    throw new InputError(
      `--model vit needs an image data set (mnist or fashion-mnist), got ${describe(opts.data)}`,
    );
  if (opts.model === 'text' && spec.kind !== 'text')
    throw new InputError(`--model text needs fortunes:<categories>, got ${describe(opts.data)}`);
  if (opts.model !== 'vit' && opts.model !== 'text')
    throw new InputError(`--model must be vit or text, got ${describe(opts.model)}`);
  const d = PRETRAIN_DEFAULTS[opts.model];
  const key: RunKey = {
    model: opts.model,
    data: formatDataSpec(spec),
    seed: opts.seed,
    batchSize: opts.batchSize ?? d.batchSize,
    lr: opts.lr ?? d.lr,
    weightDecay: opts.weightDecay ?? d.weightDecay,
    warmupSteps: opts.warmupSteps ?? null,
    modelConfig: { ...(opts.modelConfig ?? {}) },
    trainLimit: opts.trainLimit ?? null,
    evalLimit: opts.evalLimit ?? null,
  };
  if (!(key.lr > 0)) throw new InputError(`learning rate must be > 0, got ${describe(key.lr)}`);

  const ckptFile = path.join(opts.out, CHECKPOINT_FILE);
  const stored = openCheckpoint({
    file: ckptFile,
    dir: opts.out,
    resume: opts.resume === true,
    key: key as unknown as Record<string, unknown>,
    what: 'pretraining',
  });
  const startEpoch = stored ? Math.max(0, ...stored.history.map((h) => h.epoch)) : 0;
  if (stored && startEpoch >= opts.epochs) {
    log(`nothing to do: the checkpoint in ${opts.out} already has ${startEpoch} of ${opts.epochs} epochs`);
    return result(opts.out, stored.history.map(toRecord(opts.model)), startEpoch, Number.NaN);
  }
  removeOrphanedTemps(opts.out);

  // Data and model.
  let model: BaseModel;
  if (spec.kind === 'image') {
    const probe = loadImageSet(spec.name, 'test', { limit: 1 });
    model = createModel('vit', {
      imageSize: probe.height,
      numClasses: probe.numClasses,
      seed: key.seed,
      ...key.modelConfig,
    });
  } else if (spec.kind === 'text') {
    model = createModel('text', { seed: key.seed, ...key.modelConfig });
  } else {
    throw new InputError(
      `pretraining on ${formatDataSpec(spec)} is not supported; use an image data set or fortunes:<categories>`,
    );
  }
  try {
    const task = createTask(model, parseTaskSpec(key.data), key.seed, {
      trainLimit: key.trainLimit ?? undefined,
      evalLimit: key.evalLimit ?? undefined,
      keepHead: true,
    });
    log(`data: ${task.summary}`);
    const params = model.namedParameters();
    const { total: nParams } = model.countParameters();
    log(
      `model: ${opts.model}, ${nParams} parameters; ${task.batches(1, key.batchSize).length} steps per epoch of batch ${key.batchSize}, lr ${key.lr}`,
    );
    const run = await train({
      label: opts.model,
      task,
      params,
      epochs: opts.epochs,
      batchSize: key.batchSize,
      lr: key.lr,
      weightDecay: key.weightDecay,
      warmupSteps: key.warmupSteps,
      warmupCap: 200,
      key: key as unknown as Record<string, unknown>,
      checkpoint: { file: ckptFile, dir: opts.out },
      stored,
      evalInitial: true,
      progress: opts.progress,
      log,
      onEpoch: (rec, state) => {
        saveModel(opts.out, model, { epoch: String(rec.epoch), data: key.data, seed: String(key.seed) });
        const history = state.history.map(toRecord(opts.model));
        writeRunFile(opts.out, key, opts.epochs, history, nParams);
        opts.onEpoch?.(history.at(-1)!);
      },
    });
    return result(opts.out, run.state.history.map(toRecord(opts.model)), startEpoch, nParams);
  } finally {
    model.dispose();
  }
}

/** The engine's epoch records in pretraining's own shape (`steps` per epoch, the metric by its name). */
function toRecord(kind: ModelKind) {
  return (h: EngineEpoch, i: number, all: readonly EngineEpoch[]): EpochRecord => ({
    epoch: h.epoch,
    steps: h.step - (i > 0 ? all[i - 1]!.step : 0),
    trainLoss: h.trainLoss ?? Number.NaN,
    evalLoss: h.evalLoss,
    ...(kind === 'vit' ? { evalAccuracy: h.evalMetric } : { evalBitsPerByte: h.evalMetric }),
    seconds: h.seconds,
  });
}

function result(
  out: string,
  history: EpochRecord[],
  resumedFrom: number,
  parameters: number,
): PretrainResult {
  return { out, history, resumedFrom, parameters, trainSeconds: history.reduce((a, h) => a + h.seconds, 0) };
}

function writeRunFile(
  out: string,
  key: RunKey,
  epochs: number,
  history: EpochRecord[],
  parameters: number,
): void {
  const record = {
    ...key,
    epochs,
    parameters,
    backend: tf.getBackend(),
    trainSeconds: history.reduce((a, h) => a + h.seconds, 0),
    history,
  };
  writeFileAtomic(path.join(out, RUN_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
