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
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fortuneSplit, textStreams } from '../data/corpus.ts';
import { loadFortunes } from '../data/fortunes.ts';
import type { ImageSet } from '../data/images.ts';
import { formatDataSpec, loadImageSet, parseDataSpec } from '../data/spec.ts';
import { batchOrder, permutation } from '../data/split.ts';
import { lmBatch, windowStarts } from '../data/text.ts';
import { describe, InputError, TrainingDivergedError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';
import { tf } from '../tf/backend.ts';
import { createRng } from '../util/random.ts';
import { type BaseModel, createModel, type ModelKind, saveModel } from './checkpoint.ts';
import { correctCount, crossEntropy } from './losses.ts';
import { AdamW, warmupCosine } from './optim.ts';
import { formatDuration, ProgressBar, type ProgressSink } from './progress.ts';
import type { TextTransformer } from './text.ts';
import type { ViT } from './vit.ts';

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

interface Task {
  /** The mini-batches (example indices or text window starts) of `epoch`, in order. */
  epochBatches(epoch: number): Int32Array[];
  loss(batch: Int32Array, epoch: number): tf.Scalar;
  evaluate(): { loss: number; accuracy?: number; bitsPerByte?: number };
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

/** Pretrain a base model (see the module comment); resolves when all epochs are done. */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
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
  let stored: {
    key: RunKey;
    history: EpochRecord[];
    step: number;
    tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;
  } | null = null;
  if (opts.resume) {
    if (!existsSync(ckptFile))
      throw new InputError(
        `--resume: no checkpoint in ${describe(opts.out)} (${CHECKPOINT_FILE} is missing); run without --resume to start`,
      );
    stored = readCheckpoint(ckptFile);
    const diff = (Object.keys(key) as (keyof RunKey)[]).filter(
      (k) => JSON.stringify(key[k]) !== JSON.stringify(stored!.key[k]),
    );
    if (diff.length) {
      throw new InputError(
        `--resume: the checkpoint was made with different options: ${diff.map((k) => `${k} ${JSON.stringify(stored!.key[k])} (now ${JSON.stringify(key[k])})`).join('; ')}`,
      );
    }
  } else if (existsSync(ckptFile)) {
    throw new InputError(
      `${describe(opts.out)} already holds a pretraining checkpoint; pass --resume to continue it or choose another --out`,
    );
  }
  const startEpoch = stored ? Math.max(...stored.history.map((h) => h.epoch)) : 0;
  const history: EpochRecord[] = stored ? [...stored.history] : [];
  if (startEpoch >= opts.epochs) {
    log(`nothing to do: the checkpoint in ${opts.out} already has ${startEpoch} of ${opts.epochs} epochs`);
    return result(opts.out, history, startEpoch, Number.NaN);
  }

  // Data and model.
  let model: BaseModel;
  let task: Task;
  if (spec.kind === 'image') {
    const train = loadImageSet(spec.name, 'train', { limit: key.trainLimit ?? undefined });
    const test = loadImageSet(spec.name, 'test', { limit: key.evalLimit ?? undefined });
    model = createModel('vit', {
      imageSize: train.height,
      numClasses: train.numClasses,
      seed: key.seed,
      ...key.modelConfig,
    });
    task = imageTask(model as ViT, train, test, key);
    log(
      `data: ${spec.name} ${train.count} training and ${test.count} test images (${train.numClasses} classes)`,
    );
  } else if (spec.kind === 'text') {
    const set = loadFortunes(spec.categories);
    model = createModel('text', { seed: key.seed, ...key.modelConfig });
    const split = fortuneSplit(set);
    task = textTask(model as TextTransformer, split, key);
    log(
      `data: fortunes ${spec.categories.join(',')}: ${split.train.length} training and ${split.val.length} validation quotations`,
    );
  } else {
    throw new InputError(
      `pretraining on ${formatDataSpec(spec)} is not supported; use an image data set or fortunes:<categories>`,
    );
  }
  const params = model.namedParameters();
  const opt = new AdamW(params, { weightDecay: key.weightDecay, clipNorm: 1 });
  try {
    if (stored) {
      const modelState: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
      const optState: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
      for (const [n, t] of Object.entries(stored.tensors)) {
        if (n.startsWith('model.')) modelState[n.slice(6)] = t;
        else if (n.startsWith('optim.')) optState[n.slice(6)] = t;
      }
      model.loadStateDict(modelState);
      opt.loadStateDict({ step: stored.step, tensors: optState });
      log(`resuming from epoch ${startEpoch} of ${opts.epochs} (optimizer step ${stored.step})`);
    }
    const { total: nParams } = model.countParameters();
    const stepsPerEpoch = task.epochBatches(1).length;
    const totalSteps = stepsPerEpoch * opts.epochs;
    const warmup = key.warmupSteps ?? Math.min(200, Math.ceil(totalSteps * 0.05));
    log(
      `model: ${opts.model}, ${nParams} parameters; ${stepsPerEpoch} steps per epoch of batch ${key.batchSize}, lr ${key.lr}`,
    );

    if (history.length === 0) {
      const t0 = performance.now();
      const ev = task.evaluate();
      history.push({
        epoch: 0,
        steps: 0,
        trainLoss: Number.NaN,
        evalLoss: ev.loss,
        ...extra(ev),
        seconds: (performance.now() - t0) / 1000,
      });
      log(`epoch 0 (initial): ${describeEval(ev)}`);
    }

    const runStart = performance.now();
    let stepsDone = 0;
    const stepsLeft = (opts.epochs - startEpoch) * stepsPerEpoch;
    const vars = params.map(([, v]) => v);
    for (let epoch = startEpoch + 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      const batches = task.epochBatches(epoch);
      const bar =
        opts.progress === null
          ? null
          : new ProgressBar(`epoch ${epoch}/${opts.epochs}`, batches.length, { sink: opts.progress });
      let sum = 0;
      let ema = Number.NaN;
      for (let s = 0; s < batches.length; s++) {
        const step = opt.step;
        const lr = warmupCosine(step, totalSteps, key.lr, warmup);
        let loss = Number.NaN;
        let norm = 0;
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => task.loss(batches[s]!, epoch), vars);
          loss = value.dataSync()[0]!;
          if (Number.isFinite(loss)) norm = opt.apply(grads, lr);
        });
        if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
          bar?.finish();
          const what = Number.isFinite(loss) ? `the gradient norm is ${norm}` : `the loss is ${loss}`;
          throw new TrainingDivergedError(
            `${what} at epoch ${epoch}, step ${s + 1}/${batches.length} (lr ${lr.toPrecision(3)}); nothing of this epoch was saved. ` +
              (epoch > 1 ? `The last checkpoint (epoch ${epoch - 1}) is in ${opts.out}: ` : '') +
              'try a lower --lr.',
          );
        }
        sum += loss;
        ema = Number.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
        stepsDone++;
        const elapsed = (performance.now() - runStart) / 1000;
        bar?.update(s + 1, {
          loss: ema.toFixed(4),
          lr: lr.toExponential(1),
          'run ETA': formatDuration((elapsed / stepsDone) * (stepsLeft - stepsDone)),
        });
      }
      bar?.finish();
      const ev = task.evaluate();
      const rec: EpochRecord = {
        epoch,
        steps: batches.length,
        trainLoss: sum / batches.length,
        evalLoss: ev.loss,
        ...extra(ev),
        seconds: (performance.now() - t0) / 1000,
      };
      history.push(rec);
      writeCheckpoint(ckptFile, model, opt, key, history);
      saveModel(opts.out, model, { epoch: String(epoch), data: key.data, seed: String(key.seed) });
      writeRunFile(opts.out, key, opts.epochs, history, nParams);
      log(
        `epoch ${epoch}/${opts.epochs}: train loss ${rec.trainLoss.toFixed(4)}, ${describeEval(ev)} (${formatDuration(rec.seconds)}); checkpoint written to ${opts.out}`,
      );
      opts.onEpoch?.(rec);
    }
    return result(opts.out, history, startEpoch, nParams);
  } finally {
    opt.dispose();
    model.dispose();
  }
}

function extra(ev: { accuracy?: number; bitsPerByte?: number }): Partial<EpochRecord> {
  return ev.accuracy !== undefined
    ? { evalAccuracy: ev.accuracy }
    : ev.bitsPerByte !== undefined
      ? { evalBitsPerByte: ev.bitsPerByte }
      : {};
}

function describeEval(ev: { loss: number; accuracy?: number; bitsPerByte?: number }): string {
  if (ev.accuracy !== undefined)
    return `test loss ${ev.loss.toFixed(4)}, test accuracy ${(100 * ev.accuracy).toFixed(2)}%`;
  return `validation loss ${ev.loss.toFixed(4)} nats/byte = ${ev.bitsPerByte!.toFixed(3)} bits/byte`;
}

function result(
  out: string,
  history: EpochRecord[],
  resumedFrom: number,
  parameters: number,
): PretrainResult {
  return { out, history, resumedFrom, parameters, trainSeconds: history.reduce((a, h) => a + h.seconds, 0) };
}

function imageTask(model: ViT, train: ImageSet, test: ImageSet, key: RunKey): Task {
  const px = train.height * train.width;
  const gather = (set: ImageSet, idx: ArrayLike<number>) => {
    const x = new Float32Array(idx.length * px);
    const y = new Int32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      x.set(set.images.subarray(idx[i]! * px, (idx[i]! + 1) * px), i * px);
      y[i] = set.labels[idx[i]!]!;
    }
    return { x: tf.tensor3d(x, [idx.length, set.height, set.width]), y: tf.tensor1d(y, 'int32') };
  };
  return {
    epochBatches: (epoch) => batchOrder(train.count, key.batchSize, key.seed * 1000 + epoch),
    loss(batch) {
      const { x, y } = gather(train, batch);
      return crossEntropy(model.forward(x), y);
    },
    evaluate() {
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < test.count; i += 256) {
        const idx = Int32Array.from({ length: Math.min(256, test.count - i) }, (_, k) => i + k);
        tf.tidy(() => {
          const { x, y } = gather(test, idx);
          const logits = model.forward(x);
          loss += crossEntropy(logits, y).dataSync()[0]! * idx.length;
          correct += correctCount(logits, test.labels.subarray(i, i + idx.length));
        });
      }
      return { loss: loss / test.count, accuracy: correct / test.count };
    },
  };
}

function textTask(model: TextTransformer, split: ReturnType<typeof fortuneSplit>, key: RunKey): Task {
  const t = model.config.contextLength;
  const { train, val } = textStreams(split);
  const valStarts = windowStarts(val.length, t, 0).subarray(0, key.evalLimit ?? undefined);
  const windowsFor = (epoch: number) => {
    const offset = createRng(key.seed * 1000 + epoch).int(t);
    const starts = windowStarts(train.length, t, offset);
    const perm = permutation(starts.length, key.seed * 1000 + epoch);
    const n = Math.min(starts.length, key.trainLimit ?? starts.length);
    return Int32Array.from({ length: n }, (_, i) => starts[perm[i]!]!);
  };
  const lmLoss = (stream: Uint8Array, starts: ArrayLike<number>) => {
    const { inputs, targets } = lmBatch(stream, starts, t);
    const logits = model.forward(tf.tensor2d(inputs, [starts.length, t], 'int32'));
    return crossEntropy(logits.reshape([-1, model.config.vocabSize]), tf.tensor1d(targets, 'int32'));
  };
  return {
    epochBatches(epoch) {
      const w = windowsFor(epoch);
      const out: Int32Array[] = [];
      for (let i = 0; i < w.length; i += key.batchSize)
        out.push(w.subarray(i, Math.min(w.length, i + key.batchSize)));
      return out;
    },
    loss: (batch) => lmLoss(train, batch),
    evaluate() {
      let loss = 0;
      for (let i = 0; i < valStarts.length; i += 64) {
        const s = valStarts.subarray(i, i + 64);
        loss += tf.tidy(() => lmLoss(val, s).dataSync()[0]!) * s.length;
      }
      const l = loss / Math.max(1, valStarts.length);
      return { loss: l, bitsPerByte: l / Math.LN2 };
    },
  };
}

function writeCheckpoint(
  file: string,
  model: BaseModel,
  opt: AdamW,
  key: RunKey,
  history: EpochRecord[],
): void {
  const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const [n, t] of Object.entries(model.stateDict())) tensors[`model.${n}`] = t;
  const o = opt.stateDict();
  for (const [n, t] of Object.entries(o.tensors)) tensors[`optim.${n}`] = t;
  saveSafetensors(file, tensors, {
    format: 'qpeft-pretrain-checkpoint',
    run: JSON.stringify({ key, history, step: o.step }),
  });
}

function readCheckpoint(file: string) {
  const { tensors, metadata } = loadSafetensors(file);
  if (metadata.format !== 'qpeft-pretrain-checkpoint' || !metadata.run) {
    throw new InputError(
      `${file} is not a qpeft pretraining checkpoint (format ${describe(metadata.format)})`,
    );
  }
  const run = JSON.parse(metadata.run) as { key: RunKey; history: EpochRecord[]; step: number };
  return { ...run, tensors };
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
