/**
 * Experiment 4: MobileNetV2 from the `nsfwjs` package (an ImageNet-pretrained backbone fine-tuned by its
 * authors for 5-way image moderation; nobody here wrote or trained it) adapted to Fashion-MNIST.
 *
 * nsfwjs ships the model inside its npm tarball as a tfjs LayersModel: `dist/models/mobilenet_v2/model.min.js`
 * (a CommonJS module exporting the model.json object) and `group1-shard1of1.min.js` (the weights as one
 * base64 string). `loadMobileNetV2` loads them offline with `tf.io.fromMemory`.
 *
 * Design: the frozen convolutional backbone (input 224×224×3 in [0, 1], as nsfwjs feeds it, up to the global
 * average pool: 1,280 features) runs once per image; its features are cached in memory. The model's own dense
 * layers `dense_1` (1280→256, ReLU) and `dense_2` (256→128, ReLU) are copied into `MobileNetHead`, a module
 * of `Linear`s named `dense1` and `dense2`, followed by a new 10-class `head` (the nsfwjs `dense_3`
 * 128→5 is dropped). Every method trains the new head; adapters go on `dense1` and `dense2`; `full`
 * trains both dense layers in full; the linear probe trains the head alone on the frozen 128-dimensional
 * features, or (method option `input: 'backbone'`) a 1280→10 head on the backbone features.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { batchOrder } from '../data/split.ts';
import { describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { correctCount } from '../models/losses.ts';
import { Linear, Module } from '../nn/index.ts';
import { tf } from '../tf/backend.ts';
import { openCheckpoint } from '../train/checkpoint.ts';
import { runLength, train } from '../train/engine.ts';
import { ACCURACY, type Task } from '../train/task.ts';
import { FINETUNE_CHECKPOINT, FINETUNE_RESULT, type FinetuneResult, runRecord } from './finetune.ts';
import { methodLabel, setupModule, type TrainingSetup } from './methods.ts';
import {
  type ExperimentSize,
  type ExperimentStrategy,
  MissingDependencyError,
  type RunRequest,
} from './strategy.ts';

/** Side of the square input MobileNetV2 (nsfwjs) expects. */
export const MOBILENET_INPUT = 224;
/** The layer whose output is the backbone feature vector. */
export const MOBILENET_FEATURE_LAYER = 'flatten_1';
/** The pretrained dense layers copied into `MobileNetHead`, as (nsfwjs name, our name). */
export const MOBILENET_DENSE = [
  ['dense_1', 'dense1'],
  ['dense_2', 'dense2'],
] as const;

/** Error of a model that cannot be loaded from the nsfwjs package (missing file, unexpected layout). */
export class ModelLoadError extends InputError {}

/** The nsfwjs package root, or null when it is not installed. */
export function nsfwjsRoot(): string | null {
  try {
    // nsfwjs's `exports` map hides package.json; its CommonJS entry is dist/cjs/index.js.
    const main = createRequire(import.meta.url).resolve('nsfwjs');
    return path.resolve(path.dirname(main), '..', '..');
  } catch {
    return null;
  }
}

interface ShippedModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Load nsfwjs's MobileNetV2 LayersModel offline (model.json and weights from the npm tarball). */
export async function loadMobileNetV2(): Promise<tf.LayersModel> {
  const root = nsfwjsRoot();
  if (!root) {
    throw new ModelLoadError(
      'MobileNetV2 needs the npm package nsfwjs (npm i -E nsfwjs@4.4.0), which is not installed',
    );
  }
  const dir = path.join(root, 'dist', 'models', 'mobilenet_v2');
  const req = createRequire(import.meta.url);
  const files = ['model.min.js', 'group1-shard1of1.min.js'].map((f) => path.join(dir, f));
  for (const f of files) {
    if (!existsSync(f))
      throw new ModelLoadError(`expected the MobileNetV2 file ${f} in the nsfwjs package, found none`);
  }
  const json = req(files[0]!) as Partial<ShippedModelJson>;
  const weights = req(files[1]!) as unknown;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelLoadError(
      `${files[0]}: expected a tfjs model.json object with modelTopology and weightsManifest, got keys ${describe(Object.keys(json).join(','))}`,
    );
  }
  if (typeof weights !== 'string') {
    throw new ModelLoadError(`${files[1]}: expected the weights as a base64 string, got ${typeof weights}`);
  }
  const bytes = Buffer.from(weights, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  );
}

/** Cached backbone features of a Fashion-MNIST slice. */
export interface FeatureSet {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly dim: number;
}

/**
 * Run the frozen backbone (up to `MOBILENET_FEATURE_LAYER`) on 28×28 grey images in [0, 1]: grey → RGB,
 * bilinear resize to 224×224 (align corners, as nsfwjs does), batches of `batch`.
 */
export function extractFeatures(
  backbone: tf.LayersModel,
  images: Float32Array,
  labels: Int32Array,
  side: number,
  batch = 16,
): FeatureSet {
  const count = labels.length;
  if (images.length !== count * side * side) {
    throw new InputError(
      `expected ${count} images of ${side}×${side} (${count * side * side} pixels), got ${images.length}`,
    );
  }
  const dim = backbone.outputs[0]!.shape.at(-1) as number;
  const features = new Float32Array(count * dim);
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const out = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(i * side * side, (i + n) * side * side), [n, side, side, 1]);
      const rgb = tf.image.resizeBilinear(tf.tile(x, [1, 1, 1, 3]), [MOBILENET_INPUT, MOBILENET_INPUT], true);
      return (backbone.predict(rgb) as tf.Tensor).reshape([n, dim]);
    });
    features.set(out.dataSync(), i * dim);
    out.dispose();
  }
  return { features, labels, count, dim };
}

/** The pretrained dense layers of nsfwjs's MobileNetV2 (as `Linear`s, ReLU after each) + a new head. */
export class MobileNetHead extends Module {
  readonly dense1: Linear;
  readonly dense2: Linear;
  readonly head: Linear;
  /** `dense`: the head reads dense2's 128 features; `backbone`: it reads the 1,280 backbone features. */
  readonly input: 'dense' | 'backbone';

  constructor(
    model: tf.LayersModel,
    numClasses: number,
    seed: number,
    input: 'dense' | 'backbone' = 'dense',
  ) {
    super();
    const [d1, d2] = MOBILENET_DENSE.map(([src, name]) => {
      const layer = model.getLayer(src);
      const cfg = layer.getConfig() as { activation?: string; useBias?: boolean };
      if (cfg.activation !== 'relu') {
        throw new ModelLoadError(
          `MobileNetV2 layer ${src}: expected a ReLU Dense layer, got activation ${describe(cfg.activation)}`,
        );
      }
      const [w, b] = layer.getWeights();
      if (!w || !b || w.shape.length !== 2) {
        throw new ModelLoadError(
          `MobileNetV2 layer ${src}: expected a kernel and a bias, got ${layer.getWeights().length} weights`,
        );
      }
      const lin = new Linear({ inFeatures: w.shape[0]!, outFeatures: w.shape[1]!, seed });
      lin.weight.assign(w);
      lin.bias!.assign(b);
      return this.addModule(name, lin);
    }) as [Linear, Linear];
    this.dense1 = d1;
    this.dense2 = d2;
    this.input = input;
    const inFeatures = input === 'dense' ? d2.outFeatures : d1.inFeatures;
    this.head = this.addModule('head', new Linear({ inFeatures, outFeatures: numClasses, seed }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.input === 'backbone') return this.head.forward(x);
    return tf.tidy(() => this.head.forward(tf.relu(this.dense2.forward(tf.relu(this.dense1.forward(x))))));
  }
}

/** The MobileNetV2 base as recorded in reports. */
export const MOBILENET_BASE = 'nsfwjs@4.4.0 MobileNetV2';

/** The number of Fashion-MNIST classes the new head predicts. */
const NUM_CLASSES = 10;

/**
 * Training on cached features: seeded batch order (data/split's `batchOrder`, the same rule as the other
 * tasks), softmax cross-entropy, test accuracy on the cached test features.
 */
export function featureTask(net: MobileNetHead, train: FeatureSet, test: FeatureSet, seed: number): Task {
  const gather = (set: FeatureSet, idx: ArrayLike<number>) => {
    const xs = new Float32Array(idx.length * set.dim);
    for (let r = 0; r < idx.length; r++) {
      const j = idx[r]!;
      xs.set(set.features.subarray(j * set.dim, (j + 1) * set.dim), r * set.dim);
    }
    return tf.tensor2d(xs, [idx.length, set.dim]);
  };
  const labelsOf = (set: FeatureSet, idx: ArrayLike<number>) =>
    Int32Array.from({ length: idx.length }, (_, r) => set.labels[idx[r]!]!);
  return {
    metric: ACCURACY,
    batches: (epoch, batchSize) => batchOrder(train.count, batchSize, seed * 1000 + epoch),
    loss(batch, stats) {
      const logits = net.forward(gather(train, batch)) as tf.Tensor2D;
      const labels = labelsOf(train, batch);
      if (stats) {
        stats.correct += correctCount(logits, labels);
        stats.count += batch.length;
      }
      return tf.losses.softmaxCrossEntropy(
        tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES),
        logits,
      ) as tf.Scalar;
    },
    evaluate() {
      const logits = net.forward(tf.tensor2d(test.features, [test.count, test.dim])) as tf.Tensor2D;
      const y = tf.tensor1d(test.labels, 'int32');
      const metric = correctCount(logits, test.labels) / test.count;
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, NUM_CLASSES), logits).dataSync()[0]!;
      return { loss, metric };
    },
  };
}

/** The loaded model and cached features a session's runs share. */
interface Loaded {
  model: tf.LayersModel;
  train: FeatureSet;
  test: FeatureSet;
}

async function loadFeatures(size: ExperimentSize, log: (l: string) => void): Promise<Loaded> {
  const t0 = performance.now();
  const model = await loadMobileNetV2();
  try {
    const backbone = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer(MOBILENET_FEATURE_LAYER).output,
    });
    const trainSet = loadFashionMnist({ split: 'train', limit: size.trainLimit });
    const testSet = loadFashionMnist({ split: 'test', limit: size.evalLimit });
    const train = extractFeatures(backbone, trainSet.images, trainSet.labels, trainSet.height);
    const test = extractFeatures(backbone, testSet.images, testSet.labels, testSet.height);
    log(
      `MobileNetV2 features of ${train.count} train / ${test.count} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    return { model, train, test };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** One (method, seed) run on the cached features, through the training engine. */
async function trainOne(loaded: Loaded, req: RunRequest): Promise<FinetuneResult> {
  const { method, seed, lr, size, dir } = req;
  const batchSize = size.batchSize ?? 32;
  const input =
    method.method === 'linear-probe' && method.options?.input === 'backbone' ? 'backbone' : 'dense';
  const net = new MobileNetHead(loaded.model, NUM_CLASSES, seed, input);
  let setup: TrainingSetup | null = null;
  try {
    const task = featureTask(net, loaded.train, loaded.test, seed);
    const { totalSteps } = runLength(task, size.epochs, batchSize, size.maxSteps);
    const key = {
      base: MOBILENET_BASE,
      data: 'fashion-mnist',
      method,
      lr,
      batchSize,
      seed,
      input,
      trainLimit: size.trainLimit ?? null,
      evalLimit: size.evalLimit ?? null,
    };
    const file = path.join(dir, FINETUNE_CHECKPOINT);
    const stored = openCheckpoint({ file, dir, resume: req.resume, key, what: 'MobileNetV2 run' });
    setup = setupModule(net, net.head, method, seed, totalSteps);
    const label = methodLabel(method);
    const run = await train({
      label,
      task,
      params: setup.trainable,
      epochs: size.epochs,
      batchSize,
      lr,
      warmupCap: 100,
      maxSteps: size.maxSteps,
      regularizer: setup.peft ? () => setup!.peft!.regularizationLoss() : undefined,
      hooks: setup.hooks,
      key,
      checkpoint: { file, dir },
      stored,
      progress: req.progress,
      log: req.log,
    });
    const result = runRecord({
      label,
      method,
      data: 'fashion-mnist',
      base: MOBILENET_BASE,
      seed,
      metric: ACCURACY,
      setup,
      run,
      settings: {
        epochs: size.epochs,
        lr,
        batchSize,
        weightDecay: 0,
        warmupSteps: null,
        trainLimit: size.trainLimit ?? null,
        evalLimit: size.evalLimit ?? null,
        maxSteps: size.maxSteps ?? null,
      },
      files: [FINETUNE_RESULT],
    });
    writeFileAtomic(path.join(dir, FINETUNE_RESULT), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    setup?.peft?.unload();
    net.dispose();
  }
}

/**
 * Experiment 4's strategy: refuses a `--base` (the base is the MobileNetV2 shipped in nsfwjs), checks that
 * nsfwjs is installed, and on the first run loads the model and caches the features of both splits, which
 * every later run of the session reuses.
 */
export const mobilenetStrategy: ExperimentStrategy = {
  prepare(def, base) {
    if (nsfwjsRoot() === null) {
      throw new MissingDependencyError(
        'nsfwjs',
        `experiment ${def.name} needs the npm package nsfwjs (MobileNetV2 weights), which is not installed; install it with: npm i -E nsfwjs@4.4.0`,
      );
    }
    if (base !== undefined) {
      throw new InputError(
        `experiment ${def.name} uses the MobileNetV2 shipped in nsfwjs and takes no --base, got ${describe(base)}`,
      );
    }
    let loaded: Promise<Loaded> | null = null;
    let size: string | null = null;
    return {
      base: MOBILENET_BASE,
      async run(req) {
        const want = JSON.stringify([req.size.trainLimit, req.size.evalLimit]);
        if (size !== null && size !== want)
          throw new InputError('a MobileNetV2 session caches features for one size; start another session');
        size = want;
        loaded ??= loadFeatures(req.size, req.log);
        return trainOne(await loaded, req);
      },
      dispose() {
        void loaded?.then((l) => l.model.dispose());
      },
    };
  },
};
