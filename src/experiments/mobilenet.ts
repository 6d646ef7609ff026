/**
 * Experiment 4: MobileNetV2 from the `nsfwjs` package (an ImageNet-pretrained backbone fine-tuned by its
 * authors for 5-way image moderation; nobody here wrote or trained it) adapted to Fashion-MNIST, with the
 * adapters inside the backbone.
 *
 * nsfwjs ships the model inside its npm tarball as a tfjs LayersModel: `dist/models/mobilenet_v2/model.min.js`
 * (a CommonJS module exporting the model.json object) and `group1-shard1of1.min.js` (the weights as one
 * base64 string). `loadMobileNetV2Classifier` loads them offline at a smaller input size with a new head.
 *
 * Design: every run loads a fresh classifier (backbone at `MOBILENET_SIDE`², global average pooling, a new
 * 10-class `head`), wraps the tfjs model in place with `getPeftModel` — adapters on the 34 pointwise (1×1)
 * convolutions: the expand and project convs of the inverted-residual blocks and the final 320→1280 conv,
 * widths 16…1280 — with the head in `modulesToSave`, and trains end to end through the frozen backbone
 * (batch norm in inference mode). The linear probe trains the head alone; since nothing before the head
 * changes, it trains on the pooled features computed once (exactly the same function, far cheaper).
 * Every run goes through the training engine (src/train/) with a `Task` whose loss is the tfjs model's
 * training-mode forward pass; `mobilenetStrategy` is how `runExperiment` makes experiment 4's runs.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { batchOrder } from '../data/split.ts';
import { AdapterError, describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { correctCount } from '../models/losses.ts';
import type { Module } from '../nn/index.ts';
import { getMethod, getPeftModel, type LayersModule, type PeftModel } from '../peft/index.ts';
import type { BaseAdapterConfig } from '../peft/registry.ts';
import { tf } from '../tf/backend.ts';
import { openCheckpoint } from '../train/checkpoint.ts';
import { runLength, train } from '../train/engine.ts';
import { ACCURACY, type Task } from '../train/task.ts';
import { gatherLabels } from '../train/tasks.ts';
import { FINETUNE_CHECKPOINT, FINETUNE_RESULT, type FinetuneResult, runRecord } from './finetune.ts';
import {
  adapterConfig,
  checkMethodSpec,
  type MethodSpec,
  methodLabel,
  type TrainingSetup,
} from './methods.ts';
import {
  type ExperimentSize,
  type ExperimentStrategy,
  MissingDependencyError,
  type RunRequest,
} from './strategy.ts';

/** Side of the square input nsfwjs's MobileNetV2 was built for. */
export const MOBILENET_INPUT = 224;

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

/** The shipped model.json object and weight bytes of nsfwjs's MobileNetV2. */
function readShippedMobileNetV2(): { json: ShippedModelJson; weightData: ArrayBuffer } {
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
  return { json: json as ShippedModelJson, weightData };
}

/** Load nsfwjs's MobileNetV2 LayersModel offline (model.json and weights from the npm tarball). */
export async function loadMobileNetV2(): Promise<tf.LayersModel> {
  const { json, weightData } = readShippedMobileNetV2();
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  );
}

/** The last backbone layer of nsfwjs's MobileNetV2 (ReLU6 after the 1×1 conv to 1,280 channels). */
export const MOBILENET_BACKBONE_END = 'out_relu';

interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

/**
 * nsfwjs's MobileNetV2 as a classifier for another task: the pretrained backbone (every layer up to
 * `out_relu`) at input `inputSize`×`inputSize`×3, then global average pooling (1,280 features) and a new
 * dense `head` with `numClasses` linear outputs, Glorot-uniform from `seed`. nsfwjs's own pooling (a fixed
 * 7×7 window, which only fits 224×224 inputs) and its three dense layers are dropped. Built by editing the
 * shipped topology and loading the shipped weights, offline.
 */
export async function loadMobileNetV2Classifier(
  inputSize: number,
  numClasses: number,
  seed: number,
): Promise<tf.LayersModel> {
  if (!Number.isInteger(inputSize) || inputSize < 32)
    throw new InputError(`MobileNetV2 input size must be an integer ≥ 32, got ${describe(inputSize)}`);
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new InputError(`numClasses must be an integer ≥ 2, got ${describe(numClasses)}`);
  const { json, weightData } = readShippedMobileNetV2();
  const topology = structuredClone(json.modelTopology) as {
    model_config: { config: { layers: KerasLayerJson[]; output_layers: unknown[] } };
  };
  const cfg = topology.model_config?.config;
  const layers = cfg?.layers;
  const end = Array.isArray(layers) ? layers.findIndex((l) => l.name === MOBILENET_BACKBONE_END) : -1;
  if (!Array.isArray(layers) || end < 0 || layers[0]?.class_name !== 'InputLayer') {
    throw new ModelLoadError(
      `the nsfwjs MobileNetV2 topology has no InputLayer first or no ${MOBILENET_BACKBONE_END} layer; this loader expects nsfwjs 4.4.0`,
    );
  }
  layers[0]!.config.batch_input_shape = [null, inputSize, inputSize, 3];
  layers.splice(end + 1);
  layers.push(
    {
      name: 'global_pool',
      class_name: 'GlobalAveragePooling2D',
      config: { name: 'global_pool', data_format: 'channels_last' },
      inbound_nodes: [[[MOBILENET_BACKBONE_END, 0, 0, {}]]],
    },
    {
      name: 'head',
      class_name: 'Dense',
      config: {
        name: 'head',
        units: numClasses,
        activation: 'linear',
        use_bias: true,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed } },
        bias_initializer: { class_name: 'Zeros', config: {} },
      },
      inbound_nodes: [[['global_pool', 0, 0, {}]]],
    },
  );
  cfg.output_layers = [['head', 0, 0]];
  // strict: false drops the weights of the removed layers (nsfwjs's pooling and dense layers); the
  // head keeps its seeded initial values. Every other weight must be present: checked below.
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: specs,
      weightData,
    }),
    { strict: false },
  );
  const shipped = new Set(specs.map((w) => w.name));
  const missing = model.weights
    .map((w) => w.originalName)
    .filter((n) => !n.startsWith('head/') && !shipped.has(n));
  if (missing.length) {
    model.dispose();
    throw new ModelLoadError(`the shipped MobileNetV2 weights lack ${missing.slice(0, 4).join(', ')}`);
  }
  return model;
}

/** Side of the square input the experiment feeds MobileNetV2 (Fashion-MNIST's 28×28 resized). */
export const MOBILENET_SIDE = 32;

/** The pointwise (1×1) conv2d layers of a MobileNetV2 classifier: the adapter targets of experiment 4. */
export function mobilenetPointwise(model: tf.LayersModel): string[] {
  return model.layers
    .filter((l) => {
      if (l.getClassName() !== 'Conv2D') return false;
      const k = (l.getConfig() as { kernelSize?: number[] }).kernelSize ?? [];
      return k[0] === 1 && k[1] === 1;
    })
    .map((l) => l.name);
}

/** Fashion-MNIST images (28×28 grey) as RGB `side`×`side` tensors (bilinear, corners aligned). */
function toRgb(images: Float32Array, count: number, from: number, side: number): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [count, from, from, 1]);
    return tf.image.resizeBilinear(tf.tile(x, [1, 1, 1, 3]), [side, side], true);
  });
}

/** The MobileNetV2 base as recorded in reports. */
export const MOBILENET_BASE = 'nsfwjs@4.4.0 MobileNetV2';

/** The number of Fashion-MNIST classes the new head predicts. */
const NUM_CLASSES = 10;

/** Images of one split at the experiment's input size, with their labels. */
interface Split {
  readonly x: tf.Tensor;
  readonly labels: Int32Array;
}

/** Pooled backbone features (the head's input) of a split, in batches. */
function poolFeatures(model: tf.LayersModel, x: tf.Tensor, batch: number): tf.Tensor2D {
  const pool = tf.model({ inputs: model.inputs, outputs: model.getLayer('global_pool').output });
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < x.shape[0]!; i += batch) {
    const n = Math.min(batch, x.shape[0]! - i);
    parts.push(tf.tidy(() => pool.predict(x.slice([i, 0, 0, 0], [n, -1, -1, -1])) as tf.Tensor));
  }
  const out = tf.concat(parts) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}

/** Rows `idx` of a tensor (images or cached features). */
function rows(x: tf.Tensor, idx: ArrayLike<number>): tf.Tensor {
  return tf.gather(x, tf.tensor1d(Int32Array.from(idx), 'int32'));
}

/**
 * The classification task of experiment 4 on tensors: `forward(x, training)` maps a batch of inputs (images
 * for end-to-end training, pooled features for the probe) to logits. Seeded batch order (data/split's
 * `batchOrder`, as every other task), softmax cross-entropy, test accuracy in batches of 64. `peak` holds
 * the largest tfjs memory seen at the end of a training forward pass, when every activation the backward
 * pass needs is alive: the step's memory peak.
 */
export function mobilenetTask(
  forward: (x: tf.Tensor, training: boolean) => tf.Tensor,
  train: Split,
  test: Split,
  seed: number,
  peak: { bytes: number },
): Task {
  return {
    metric: ACCURACY,
    batches: (epoch, batchSize) => batchOrder(train.labels.length, batchSize, seed * 1000 + epoch),
    loss(batch, stats) {
      const logits = forward(rows(train.x, batch), true) as tf.Tensor2D;
      peak.bytes = Math.max(peak.bytes, tf.memory().numBytes);
      const labels = gatherLabels(train, batch);
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
      const n = test.labels.length;
      let correct = 0;
      let loss = 0;
      for (let i = 0; i < n; i += 64) {
        const m = Math.min(64, n - i);
        const [c, l] = tf.tidy(() => {
          const x = test.x.slice([i, ...test.x.shape.slice(1).map(() => 0)], [m, ...test.x.shape.slice(1)]);
          const logits = forward(x, false) as tf.Tensor2D;
          const y = test.labels.subarray(i, i + m);
          const l = tf.losses
            .softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), NUM_CLASSES), logits)
            .dataSync()[0]!;
          return [correctCount(logits, y), l * m];
        });
        correct += c;
        loss += l;
      }
      return { loss: loss / n, metric: correct / n };
    },
  };
}

/** The head's kernel and bias as trainable variables (the probe trains exactly these). */
function headVariables(head: tf.layers.Layer): [string, tf.Variable][] {
  const h = head as unknown as { kernel: tf.LayerVariable; bias: tf.LayerVariable };
  return [
    ['head.weight', h.kernel.read() as tf.Variable],
    ['head.bias', h.bias.read() as tf.Variable],
  ];
}

/**
 * What a run trains on the classifier `model`: the probe trains the head on cached pooled features; every
 * other method wraps the model with `getPeftModel` (targets: the 34 pointwise convs unless the spec names
 * others; the head in `modulesToSave`) and trains end to end. `full` is the registry's dense-ΔW method on
 * the same targets. The trainable count is checked against the closed form (registry formula per target +
 * head), as `setupModule` does for module trees.
 */
function setupMobilenet(
  model: tf.LayersModel,
  method: MethodSpec,
  seed: number,
  totalSteps: number,
): { setup: TrainingSetup; peft: PeftModel<LayersModule> | null } {
  checkMethodSpec(method);
  const head = model.getLayer('head');
  const headParams = head.countParams();
  if (method.method === 'linear-probe') {
    const trainable = headVariables(head);
    return {
      peft: null,
      setup: {
        peft: null,
        trainable,
        counts: { trainable: headParams, adapter: 0, head: headParams, total: model.countParams() },
        closedForm: headParams,
        targets: [],
        hooks: [],
        config: null,
      },
    };
  }
  const targets = method.targets ?? mobilenetPointwise(model);
  const config = {
    ...(method.method === 'full'
      ? { method: 'full', bias: false, targetModules: targets, seed }
      : adapterConfig({ ...method, targets }, seed, totalSteps)),
    modulesToSave: ['head'],
  } as BaseAdapterConfig;
  const peft = getPeftModel(model, config);
  try {
    const def = getMethod(config.method);
    const normalized = def.normalize(config as unknown as Record<string, unknown>);
    let closedForm = headParams;
    for (const [, l] of peft.adapterLayers())
      closedForm += def.paramCount(l.inFeatures, l.outFeatures, normalized);
    const trainable = peft.model.namedParameters().filter(([, v]) => v.trainable);
    const count = trainable.reduce((a, [, v]) => a + v.size, 0);
    if (count !== closedForm) {
      throw new AdapterError(
        `${config.method}: ${count} trainable parameters, but the closed form gives ${closedForm}; the method's layer and its paramCount disagree`,
      );
    }
    const adapter = peft
      .adapterLayers()
      .flatMap(([, l]) => l.trainableVariables())
      .reduce((a, v) => a + v.size, 0);
    const hooks =
      def.trainingHooks?.(
        peft.adapterLayers().map(([, l]) => l),
        normalized,
      ) ?? [];
    return {
      peft,
      setup: {
        peft: peft as unknown as PeftModel<Module>,
        trainable,
        counts: { trainable: count, adapter, head: headParams, total: peft.countParameters().total },
        closedForm,
        targets: peft.targets(),
        hooks,
        config: normalized,
      },
    };
  } catch (e) {
    peft.unload();
    throw e;
  }
}

/** One (method, seed) run on a freshly loaded classifier, through the training engine. */
async function trainOne(data: { train: Split; test: Split }, req: RunRequest): Promise<FinetuneResult> {
  const { method, seed, lr, size, dir } = req;
  const batchSize = size.batchSize ?? 32;
  const side = size.imageSide ?? MOBILENET_SIDE;
  const model = await loadMobileNetV2Classifier(side, NUM_CLASSES, seed);
  const probe = method.method === 'linear-probe';
  let peft: PeftModel<LayersModule> | null = null;
  const cached: tf.Tensor[] = [];
  try {
    const peak = { bytes: 0 };
    let task: Task;
    if (probe) {
      // The probe's function is head(pooled features), and the features never change: compute them once.
      const head = model.getLayer('head');
      const train = { x: poolFeatures(model, data.train.x, 64), labels: data.train.labels };
      const test = { x: poolFeatures(model, data.test.x, 64), labels: data.test.labels };
      cached.push(train.x, test.x);
      task = mobilenetTask((x) => head.apply(x) as tf.Tensor, train, test, seed, peak);
    } else {
      task = mobilenetTask(
        (x, training) => (training ? model.apply(x, { training: true }) : model.predict(x)) as tf.Tensor,
        data.train,
        data.test,
        seed,
        peak,
      );
    }
    const { totalSteps } = runLength(task, size.epochs, batchSize, size.maxSteps);
    const key = {
      base: MOBILENET_BASE,
      data: 'fashion-mnist',
      side,
      method,
      lr,
      batchSize,
      seed,
      trainLimit: size.trainLimit ?? null,
      evalLimit: size.evalLimit ?? null,
    };
    const file = path.join(dir, FINETUNE_CHECKPOINT);
    const stored = openCheckpoint({ file, dir, resume: req.resume, key, what: 'MobileNetV2 run' });
    const made = setupMobilenet(model, method, seed, totalSteps);
    peft = made.peft;
    const { setup } = made;
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
      regularizer: peft ? () => peft!.regularizationLoss() : undefined,
      hooks: setup.hooks,
      key,
      checkpoint: { file, dir },
      stored,
      progress: req.progress,
      log: req.log,
    });
    const result: FinetuneResult = {
      ...runRecord({
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
      }),
      // measured by this process's steps only (a resumed run's earlier steps are not seen)
      ...(peak.bytes > 0 ? { peakBytes: peak.bytes } : {}),
    };
    writeFileAtomic(path.join(dir, FINETUNE_RESULT), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    tf.dispose(cached);
    peft?.unload();
    model.dispose();
  }
}

/** The Fashion-MNIST splits as RGB images at the experiment's input size. */
function loadSplits(size: ExperimentSize): { train: Split; test: Split } {
  const side = size.imageSide ?? MOBILENET_SIDE;
  const trainSet = loadFashionMnist({ split: 'train', limit: size.trainLimit });
  const testSet = loadFashionMnist({ split: 'test', limit: size.evalLimit });
  const train = {
    x: toRgb(trainSet.images, trainSet.labels.length, trainSet.height, side),
    labels: trainSet.labels,
  };
  const test = {
    x: toRgb(testSet.images, testSet.labels.length, testSet.height, side),
    labels: testSet.labels,
  };
  return { train, test };
}

/**
 * Experiment 4's strategy: refuses a `--base` (the base is the MobileNetV2 shipped in nsfwjs), checks that
 * nsfwjs is installed, and on the first run loads both Fashion-MNIST splits at the input size, which every
 * later run of the session reuses; each run loads its own classifier (a seeded head, untouched weights).
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
    let data: { train: Split; test: Split } | null = null;
    let size: string | null = null;
    return {
      base: MOBILENET_BASE,
      async run(req) {
        const want = JSON.stringify([req.size.trainLimit, req.size.evalLimit, req.size.imageSide]);
        if (size !== null && size !== want)
          throw new InputError('a MobileNetV2 session holds the images of one size; start another session');
        size = want;
        data ??= loadSplits(req.size);
        return trainOne(data, req);
      },
      dispose() {
        if (data) tf.dispose([data.train.x, data.test.x]);
        data = null;
      },
    };
  },
};
