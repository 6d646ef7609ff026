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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { describe, InputError, TrainingDivergedError } from '../errors.ts';
import { AdamW, warmupCosine } from '../models/optim.ts';
import type { ProgressSink } from '../models/progress.ts';
import { Linear, Module } from '../nn/index.ts';
import { getMethod, getPeftModel, matchTargets } from '../peft/index.ts';
import { tf } from '../tf/backend.ts';
import type { ExperimentSize } from './experiment.ts';
import { FINETUNE_RESULT, type FinetuneResult } from './finetune.ts';
import { adapterConfig, type MethodSpec, methodLabel } from './methods.ts';
import { ACCURACY } from './tasks.ts';

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

export interface MobilenetRunOptions {
  readonly methods: readonly MethodSpec[];
  readonly size: ExperimentSize;
  readonly seeds: readonly number[];
  readonly lr: number;
  /** Learning rate of `full` (the dense layers trained in full). */
  readonly fullLr: number;
  readonly runsDir: string;
  readonly log: (line: string) => void;
  readonly progress?: ProgressSink | null;
}

/** The MobileNetV2 base as recorded in reports. */
export const MOBILENET_BASE = 'nsfwjs@4.4.0 MobileNetV2';

function runSize(
  s: { epochs: number; trainLimit?: number | null; evalLimit?: number | null; maxSteps?: number | null },
  batchSize: number,
) {
  return {
    epochs: s.epochs,
    trainLimit: s.trainLimit ?? null,
    evalLimit: s.evalLimit ?? null,
    maxSteps: s.maxSteps ?? null,
    batchSize,
  };
}

function countOf(vs: readonly tf.Variable[]): number {
  return vs.reduce((a, v) => a + v.size, 0);
}

/** Load the model and data, cache the features, train every method × seed; returns the runs. */
export async function runMobilenetMethods(opts: MobilenetRunOptions): Promise<FinetuneResult[]> {
  const { size, log } = opts;
  const batchSize = size.batchSize ?? 32;
  const t0 = performance.now();
  const model = await loadMobileNetV2();
  const numClasses = 10;
  let train: FeatureSet;
  let test: FeatureSet;
  try {
    const backbone = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer(MOBILENET_FEATURE_LAYER).output,
    });
    const trainSet = loadFashionMnist({ split: 'train', limit: size.trainLimit });
    const testSet = loadFashionMnist({ split: 'test', limit: size.evalLimit });
    train = extractFeatures(backbone, trainSet.images, trainSet.labels, trainSet.height);
    test = extractFeatures(backbone, testSet.images, testSet.labels, testSet.height);
    log(
      `MobileNetV2 features of ${train.count} train / ${test.count} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    model.dispose();
    throw e;
  }
  const results: FinetuneResult[] = [];
  try {
    for (const method of opts.methods) {
      for (const seed of opts.seeds) {
        const label = methodLabel(method);
        const dir = path.join(opts.runsDir, `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-seed${seed}`);
        const done = path.join(dir, FINETUNE_RESULT);
        const lr = method.method === 'full' ? opts.fullLr : opts.lr;
        if (existsSync(done)) {
          const prev = JSON.parse(readFileSync(done, 'utf8')) as FinetuneResult;
          const want = JSON.stringify({ method, seed, lr, size: runSize(size, batchSize) });
          const got = JSON.stringify({
            method: prev.method,
            seed: prev.seed,
            lr: prev.settings.lr,
            size: runSize(prev.settings, prev.settings.batchSize),
          });
          if (want !== got) {
            throw new InputError(
              `${done} was made with other settings (${got}, now ${want}); choose another --runs directory or remove it`,
            );
          }
          results.push(prev);
          log(`${label}, seed ${seed}: already done (${done})`);
          continue;
        }
        log(`${label}, seed ${seed}`);
        const res = trainOne(model, numClasses, train, test, method, seed, lr, batchSize, size);
        mkdirSync(dir, { recursive: true });
        writeFileSync(done, `${JSON.stringify(res, null, 2)}\n`);
        results.push(res);
      }
    }
  } finally {
    model.dispose();
  }
  return results;
}

function trainOne(
  model: tf.LayersModel,
  numClasses: number,
  train: FeatureSet,
  test: FeatureSet,
  method: MethodSpec,
  seed: number,
  lr: number,
  batchSize: number,
  size: ExperimentSize,
): FinetuneResult {
  const start = performance.now();
  const input =
    method.method === 'linear-probe' && method.options?.input === 'backbone' ? 'backbone' : 'dense';
  const net = new MobileNetHead(model, numClasses, seed, input);
  const stepsPerEpoch = Math.ceil(train.count / batchSize);
  const total = Math.min(stepsPerEpoch * size.epochs, size.maxSteps ?? Number.POSITIVE_INFINITY);
  net.setTrainable(false);
  let adapter = 0;
  let closedForm = net.head.weight.size + (net.head.bias?.size ?? 0);
  let targets: string[] = [];
  if (method.method === 'full') {
    net.setTrainable(true);
    closedForm = net.countParameters().total;
  }
  const peft =
    method.method === 'linear-probe' || method.method === 'full'
      ? null
      : (() => {
          const config = adapterConfig(method, seed, total);
          targets = matchTargets(net, config.targetModules);
          const p = getPeftModel(net, config);
          const def = getMethod(method.method);
          for (const t of targets) {
            const l = net.getModule(t) as Linear;
            closedForm += def.paramCount(l.inFeatures, l.outFeatures, config);
          }
          adapter = countOf(p.adapterLayers().flatMap(([, l]) => l.trainableVariables()));
          return p;
        })();
  net.head.setTrainable(true);
  const trainable = net.namedParameters().filter(([, v]) => v.trainable);
  const varList = trainable.map(([, v]) => v);
  const opt = new AdamW(trainable, { clipNorm: 1 });
  const warm = Math.min(100, Math.floor(0.05 * total));
  let step = 0;
  let samples = 0;
  let trainSeconds = 0;
  let lossSum = 0;
  try {
    const order = Array.from({ length: train.count }, (_, i) => i);
    let rng = seed * 2654435761 + 1;
    const rand = () => {
      rng = (rng * 1103515245 + 12345) % 2147483648;
      return rng / 2147483648;
    };
    outer: for (let epoch = 0; epoch < size.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let b = 0; b < order.length; b += batchSize) {
        if (step >= total) break outer;
        const idx = order.slice(b, b + batchSize);
        const s0 = performance.now();
        const xs = new Float32Array(idx.length * train.dim);
        for (const [r, j] of idx.entries()) {
          xs.set(train.features.subarray(j * train.dim, (j + 1) * train.dim), r * train.dim);
        }
        const ys = Int32Array.from(idx, (j) => train.labels[j]!);
        const loss = tf.tidy(() => {
          const x = tf.tensor2d(xs, [idx.length, train.dim]);
          const y = tf.oneHot(tf.tensor1d(ys, 'int32'), numClasses);
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, net.forward(x)) as tf.Scalar,
            varList,
          );
          const l = value.dataSync()[0]!;
          if (Number.isFinite(l)) opt.apply(grads, warmupCosine(step, total, lr, warm));
          return l;
        });
        if (!Number.isFinite(loss)) {
          throw new TrainingDivergedError(
            `${methodLabel(method)}, seed ${seed}: loss ${loss} at step ${step}; expected a finite loss, try a lower learning rate than ${lr}`,
          );
        }
        trainSeconds += (performance.now() - s0) / 1000;
        lossSum += loss;
        samples += idx.length;
        step++;
      }
    }
    const { acc, evalLoss } = tf.tidy(() => {
      const logits = net.forward(tf.tensor2d(test.features, [test.count, test.dim]));
      const y = tf.tensor1d(test.labels, 'int32');
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')).dataSync()[0]!;
      const evalLoss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits).dataSync()[0]!;
      return { acc, evalLoss };
    });
    const trainableParams = countOf(varList);
    const seconds = (performance.now() - start) / 1000;
    return {
      label: methodLabel(method),
      method,
      data: 'fashion-mnist',
      base: MOBILENET_BASE,
      seed,
      metric: ACCURACY,
      value: acc,
      evalLoss,
      trainableParams,
      adapterParams: adapter,
      headParams: net.head.weight.size + (net.head.bias?.size ?? 0),
      closedFormParams: closedForm,
      totalParams: net.countParameters().total,
      targets,
      steps: step,
      seconds,
      samplesPerSecond: trainSeconds > 0 ? samples / trainSeconds : 0,
      resumedFromStep: 0,
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
      history: [
        {
          epoch: size.epochs,
          step,
          trainLoss: step ? lossSum / step : Number.NaN,
          evalLoss,
          evalMetric: acc,
          seconds,
        },
      ],
      backend: tf.getBackend(),
      files: [FINETUNE_RESULT],
    };
  } finally {
    opt.dispose();
    peft?.unload();
    net.dispose();
  }
}
