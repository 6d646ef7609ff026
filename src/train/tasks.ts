/**
 * Fine-tuning tasks on real data: what a batch is, its loss, and the held-out metric.
 *
 * - `image`: classify MNIST or Fashion-MNIST images with a ViT (its head is replaced for the target labels).
 * - `lm`: byte-level language modelling of fortune quotations (the text model's pretrained `lmHead` is kept);
 *   metric: validation bits per byte (= bits per character for ASCII text).
 * - `classify`: which fortune category a quotation comes from, from the mean of the text model's features
 *   (a fresh classifier `head`); metric: validation accuracy.
 *
 * Every split and batch order is a pure function of the task's seed and the epoch, so a resumed run sees
 * exactly the batches an uninterrupted one would.
 */
import { fortuneSplit, textStreams } from '../data/corpus.ts';
import { loadFortunes, parseCategories } from '../data/fortunes.ts';
import type { ImageSet } from '../data/images.ts';
import { loadImageSet } from '../data/spec.ts';
import { batchOrder, permutation } from '../data/split.ts';
import { encodeSequences, lmBatch, windowStarts } from '../data/text.ts';
import { describe, InputError } from '../errors.ts';
import type { BaseModel } from '../models/checkpoint.ts';
import { correctCount, crossEntropy } from '../models/losses.ts';
import { TextTransformer } from '../models/text.ts';
import { ViT } from '../models/vit.ts';
import { tf } from '../tf/backend.ts';
import { createRng } from '../util/random.ts';
import { ACCURACY, BITS_PER_BYTE, type Task as TrainTask } from './task.ts';

export { ACCURACY, type BatchStats, BITS_PER_BYTE, type MetricInfo } from './task.ts';

/** A parsed `--data` value of `qpeft finetune`. */
export type TaskSpec =
  | { kind: 'image'; name: 'mnist' | 'fashion-mnist' }
  | { kind: 'lm'; categories: string[] }
  | { kind: 'classify'; categories: string[] };

/** Size limits of a task's data (for quick runs and smoke tests). */
export interface TaskLimits {
  /** Training examples (LM: windows per epoch) to use at most. */
  readonly trainLimit?: number;
  /** Held-out examples (LM: windows) to evaluate on at most. */
  readonly evalLimit?: number;
  /**
   * Keep the model's own classifier head instead of giving it a fresh one (pretraining, where the model was
   * built for the task's classes).
   */
  readonly keepHead?: boolean;
}

/** A fine-tuning task bound to a model: the engine's `Task` plus what the logs and reports show. */
export interface Task extends TrainTask {
  readonly spec: TaskSpec;
  /** Training examples per epoch, held-out examples. */
  readonly trainCount: number;
  readonly evalCount: number;
  /** A line for the log: what the data is. */
  readonly summary: string;
}

/**
 * Parse a task: `mnist`, `fashion-mnist`, `fortunes:<cats>` (with `task` `lm`, the default, or
 * `classify`), `fortunes-lm:<cats>` or `fortunes-classify:<cats>`.
 */
export function parseTaskSpec(data: string, task?: string): TaskSpec {
  const s = data.trim();
  if (task !== undefined && task !== 'lm' && task !== 'classify') {
    throw new InputError(`--task must be lm or classify, got ${describe(task)}`);
  }
  if (s === 'mnist' || s === 'fashion-mnist') {
    if (task === 'lm') throw new InputError(`--task lm needs text data (fortunes:<categories>), got ${s}`);
    return { kind: 'image', name: s };
  }
  const m = /^fortunes(-lm|-classify)?:(.*)$/.exec(s);
  if (m) {
    const kind = m[1] === '-classify' ? 'classify' : m[1] === '-lm' ? 'lm' : (task ?? 'lm');
    if (m[1] && task !== undefined && task !== kind) {
      throw new InputError(`--data ${s} is a ${kind} task but --task says ${task}`);
    }
    const categories = parseCategories(m[2]!);
    if (kind === 'classify' && categories.length < 2) {
      throw new InputError(
        `classifying fortunes needs at least two categories, got ${describe(categories.join(','))}`,
      );
    }
    return { kind, categories };
  }
  throw new InputError(
    `unknown data ${describe(data)}; expected mnist, fashion-mnist, fortunes:<cat,cat,…> (language model) or fortunes-classify:<cat,cat,…>`,
  );
}

/** The `--data` string of a spec. */
export function formatTaskSpec(spec: TaskSpec): string {
  if (spec.kind === 'image') return spec.name;
  return `fortunes${spec.kind === 'classify' ? '-classify' : ''}:${spec.categories.join(',')}`;
}

/** Check that the model can do the task (ViT for images, text transformer for fortunes). */
export function checkModelFits(model: BaseModel, spec: TaskSpec): void {
  if (spec.kind === 'image' && !(model instanceof ViT)) {
    throw new InputError(`image data (${spec.name}) needs a ViT base model, got a ${model.kind} model`);
  }
  if (spec.kind !== 'image' && !(model instanceof TextTransformer)) {
    throw new InputError(`fortunes data needs a text base model, got a ${model.kind} model`);
  }
}

/** Gather images `idx` of a set as `[n, H·W]` pixels and int32 labels. */
function imageBatch(set: ImageSet, idx: ArrayLike<number>): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const px = set.height * set.width;
  const x = new Float32Array(idx.length * px);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    x.set(set.images.subarray(j * px, (j + 1) * px), i * px);
    y[i] = set.labels[j]!;
  }
  return { x: tf.tensor2d(x, [idx.length, px]), y: tf.tensor1d(y, 'int32') };
}

function range(from: number, to: number): Int32Array {
  return Int32Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

/**
 * Bind a task to a model. For `image` and `classify` the model gets a fresh classifier head sized for the
 * task's classes (seeded by `seed`); call this before wrapping the model with adapters.
 */
export function createTask(model: BaseModel, spec: TaskSpec, seed: number, limits: TaskLimits = {}): Task {
  checkModelFits(model, spec);
  if (spec.kind === 'image') return imageTask(model as ViT, spec, seed, limits);
  if (spec.kind === 'lm') return lmTask(model as TextTransformer, spec, seed, limits);
  return classifyTask(model as TextTransformer, spec, seed, limits);
}

const EVAL_BATCH = 256;

function imageTask(
  model: ViT,
  spec: Extract<TaskSpec, { kind: 'image' }>,
  seed: number,
  limits: TaskLimits,
): Task {
  const train = loadImageSet(spec.name, 'train', { limit: limits.trainLimit });
  const test = loadImageSet(spec.name, 'test', { limit: limits.evalLimit });
  if (train.height !== model.config.imageSize || train.width !== model.config.imageSize) {
    throw new InputError(
      `the ViT expects ${model.config.imageSize}×${model.config.imageSize} images, ${spec.name} has ${train.height}×${train.width}`,
    );
  }
  if (!limits.keepHead) model.resetHead(train.numClasses, seed + 1);
  return {
    spec,
    metric: ACCURACY,
    trainCount: train.count,
    evalCount: test.count,
    summary: `${spec.name}: ${train.count} training and ${test.count} test images, ${train.numClasses} classes`,
    batches: (epoch, batchSize) => batchOrder(train.count, batchSize, seed * 1000 + epoch),
    loss(batch, stats) {
      const { x, y } = imageBatch(train, batch);
      const logits = model.forward(x);
      if (stats) {
        stats.correct += correctCount(logits, gatherLabels(train, batch));
        stats.count += batch.length;
      }
      return crossEntropy(logits, y);
    },
    evaluate() {
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < test.count; i += EVAL_BATCH) {
        const idx = range(i, Math.min(test.count, i + EVAL_BATCH));
        tf.tidy(() => {
          const { x, y } = imageBatch(test, idx);
          const logits = model.forward(x);
          loss += crossEntropy(logits, y).dataSync()[0]! * idx.length;
          correct += correctCount(logits, test.labels.subarray(i, i + idx.length));
        });
      }
      return { loss: loss / test.count, metric: correct / test.count };
    },
  };
}

/** The labels of examples `idx` of a set, in batch order. */
export function gatherLabels(set: { labels: Int32Array }, idx: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: idx.length }, (_, i) => set.labels[idx[i]!]!);
}

function lmTask(
  model: TextTransformer,
  spec: Extract<TaskSpec, { kind: 'lm' }>,
  seed: number,
  limits: TaskLimits,
): Task {
  const t = model.config.contextLength;
  const split = fortuneSplit(loadFortunes(spec.categories));
  const { train, val } = textStreams(split);
  const valStarts = windowStarts(val.length, t, 0).subarray(0, limits.evalLimit);
  const perEpoch = Math.min(windowStarts(train.length, t, 0).length, limits.trainLimit ?? Infinity);
  if (perEpoch < 1 || valStarts.length < 1) {
    throw new InputError(
      `fortunes ${spec.categories.join(',')} are too short for ${t}-byte windows (${train.length} training and ${val.length} validation bytes)`,
    );
  }
  const windows = (epoch: number) => {
    // a per-epoch offset moves the cut points; the permutation picks and orders the windows
    const starts = windowStarts(train.length, t, createRng(seed * 1000 + epoch).int(t));
    const perm = permutation(starts.length, seed * 1000 + epoch);
    const n = Math.min(starts.length, perEpoch);
    return Int32Array.from({ length: n }, (_, i) => starts[perm[i]!]!);
  };
  const lossOf = (stream: Uint8Array, starts: ArrayLike<number>) => {
    const { inputs, targets } = lmBatch(stream, starts, t);
    const logits = model.forward(tf.tensor2d(inputs, [starts.length, t], 'int32'));
    return crossEntropy(logits.reshape([-1, model.config.vocabSize]), tf.tensor1d(targets, 'int32'));
  };
  return {
    spec,
    metric: BITS_PER_BYTE,
    trainCount: perEpoch,
    evalCount: valStarts.length,
    summary: `fortunes ${spec.categories.join(',')} (language model): ${split.train.length} training quotations (${perEpoch} windows of ${t} bytes per epoch), ${valStarts.length} validation windows`,
    batches(epoch, batchSize) {
      const w = windows(epoch);
      const out: Int32Array[] = [];
      for (let i = 0; i < w.length; i += batchSize)
        out.push(w.subarray(i, Math.min(w.length, i + batchSize)));
      return out;
    },
    loss: (batch) => lossOf(train, batch),
    evaluate() {
      let loss = 0;
      for (let i = 0; i < valStarts.length; i += 64) {
        const s = valStarts.subarray(i, i + 64);
        loss += tf.tidy(() => lossOf(val, s).dataSync()[0]!) * s.length;
      }
      const l = loss / valStarts.length;
      return { loss: l, metric: l / Math.LN2 };
    },
  };
}

function classifyTask(
  model: TextTransformer,
  spec: Extract<TaskSpec, { kind: 'classify' }>,
  seed: number,
  limits: TaskLimits,
): Task {
  const t = model.config.contextLength;
  const split = fortuneSplit(loadFortunes(spec.categories));
  const train = split.train.slice(0, limits.trainLimit);
  const val = split.val.slice(0, limits.evalLimit);
  const enc = (qs: typeof train) => ({
    ...encodeSequences(
      qs.map((q) => q.text),
      t,
    ),
    labels: Int32Array.from(qs, (q) => q.category),
  });
  const tr = enc(train);
  const va = enc(val);
  model.resetHead(spec.categories.length, seed + 1);
  const head = (s: typeof tr, idx: ArrayLike<number>) => {
    const ids = new Int32Array(idx.length * t);
    const lengths = new Int32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i]!;
      ids.set(s.ids.subarray(j * t, (j + 1) * t), i * t);
      lengths[i] = s.lengths[j]!;
    }
    return model.classify(tf.tensor2d(ids, [idx.length, t], 'int32'), lengths);
  };
  const counts = new Array<number>(spec.categories.length).fill(0);
  for (const q of val) counts[q.category]!++;
  const majority = Math.max(...counts) / Math.max(1, val.length);
  return {
    spec,
    metric: ACCURACY,
    trainCount: train.length,
    evalCount: val.length,
    summary: `fortunes ${spec.categories.join(',')} (which category): ${train.length} training and ${val.length} validation quotations (first ${t} bytes); majority class ${(100 * majority).toFixed(1)}%`,
    batches: (epoch, batchSize) => batchOrder(train.length, batchSize, seed * 1000 + epoch),
    loss(batch, stats) {
      const logits = head(tr, batch);
      const labels = gatherLabels(tr, batch);
      if (stats) {
        stats.correct += correctCount(logits, labels);
        stats.count += batch.length;
      }
      return crossEntropy(logits, tf.tensor1d(labels, 'int32'));
    },
    evaluate() {
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < val.length; i += 128) {
        const idx = range(i, Math.min(val.length, i + 128));
        tf.tidy(() => {
          const logits = head(va, idx);
          loss +=
            crossEntropy(logits, tf.tensor1d(va.labels.subarray(i, i + idx.length), 'int32')).dataSync()[0]! *
            idx.length;
          correct += correctCount(logits, va.labels.subarray(i, i + idx.length));
        });
      }
      return { loss: loss / val.length, metric: correct / val.length };
    },
  };
}
