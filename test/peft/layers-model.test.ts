/**
 * Adapters on a tf.LayersModel: the contract rows (output = base at init, trainable count in closed form,
 * one fit step changes only adapter variables, save → load identical, merge ≈ unmerge) on a functional model
 * with a 2×2 conv (16 → 8 as a matrix), batch norm, a strided 1×1 conv (8 → 16), a depthwise conv, a dense
 * layer (16 → 8) and a new head in `modulesToSave`; then the injection itself against an independent
 * reference (a second copy of the model whose kernels are set to W + ΔW through tfjs's own setWeights), and
 * the refusals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/errors.ts';
import {
  getPeftModel,
  LayerLinear,
  type LayersModule,
  loadPeftModel,
  type PeftModel,
  saveAdapter,
} from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';
import { maxDiff, orthError } from './helpers.ts';

/** Two-design angles on n qubits with L layers: n + 2L(n − 1). */
const td = (n: number, L: number) => n + 2 * L * (n - 1);

/** conv_a: 2×2×4 → 8 (16 → 8), pw: 1×1 8 → 16 (stride 2, no bias), fc: 16 → 8, head: 8 → 4. */
function buildModel(seed = 7): tf.LayersModel {
  const inp = tf.input({ shape: [6, 6, 4] });
  const a = tf.layers
    .conv2d({ name: 'conv_a', filters: 8, kernelSize: 2, padding: 'same', activation: 'relu' })
    .apply(inp) as tf.SymbolicTensor;
  const b = tf.layers.batchNormalization({ name: 'bn' }).apply(a) as tf.SymbolicTensor;
  const p = tf.layers
    .conv2d({ name: 'pw', filters: 16, kernelSize: 1, strides: 2, useBias: false })
    .apply(b) as tf.SymbolicTensor;
  const d = tf.layers
    .depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same' })
    .apply(p) as tf.SymbolicTensor;
  const r = tf.layers.add().apply([p, d]) as tf.SymbolicTensor;
  const g = tf.layers.globalAveragePooling2d({}).apply(r) as tf.SymbolicTensor;
  const f = tf.layers.dense({ name: 'fc', units: 8, activation: 'tanh' }).apply(g) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'head', units: 4 }).apply(f) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  // Seeded, non-trivial values everywhere (batch-norm statistics included) so every layer matters.
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const v = Float32Array.from({ length: w.shape.reduce<number>((s, n) => s * (n ?? 1), 1) }, () =>
      w.name.includes('variance') ? 0.5 + Math.abs(rng.normal()) : 0.5 * rng.normal(),
    );
    return tf.tensor(v, w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

function input(seed = 1, n = 5): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(
    Float32Array.from({ length: n * 6 * 6 * 4 }, () => rng.normal()),
    [n, 6, 6, 4],
  );
}

function predict(m: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** Every weight of the tfjs model by name, copied. */
function snapshot(m: tf.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.name, w.read().dataSync().slice() as Float32Array]));
}

/** What every row trains besides its targets: the head copy, 8·4 + 4. */
const HEAD = 8 * 4 + 4;

interface Row {
  name: string;
  config: Record<string, unknown>;
  /** Trainable scalars of one d_in × d_out target, written out from the method's formula. */
  count: (dIn: number, dOut: number) => number;
  orth?: number;
  mergeable?: boolean;
}

const ALL = ['conv_a', 'pw', 'fc'];
const ROWS: Row[] = [
  {
    name: 'lora r=2 α=4',
    config: { method: 'lora', r: 2, loraAlpha: 4, targetModules: ALL },
    count: (i, o) => 2 * (i + o),
  },
  {
    name: 'quantum-peft two-design L=1 K=2',
    config: { method: 'quantum-peft', rank: 2, layers: 1, alpha: 2, targetModules: ALL },
    count: (i, o) => td(Math.log2(i), 1) + td(Math.log2(o), 1) + 2,
    orth: 1e-6,
  },
  {
    name: 'quantum-peft-lie exact K=2',
    config: { method: 'quantum-peft-lie', rank: 2, targetModules: ALL },
    count: (i, o) => i * 2 - 3 + o * 2 - 3 + 2,
    orth: 2e-6,
  },
  {
    name: 'dora r=2',
    config: { method: 'dora', r: 2, targetModules: ['conv_a', 'fc'] },
    count: (i, o) => 2 * (i + o) + o,
  },
  {
    name: 'vera r=4',
    config: { method: 'vera', r: 4, targetModules: ALL },
    count: (_i, o) => 4 + o,
  },
  {
    name: 'bitfit (layers with a bias)',
    config: { method: 'bitfit', targetModules: ['conv_a', 'fc'] },
    count: (_i, o) => o,
  },
  {
    name: 'full (no bias offset)',
    config: { method: 'full', bias: false, targetModules: ALL },
    count: (i, o) => i * o,
  },
  {
    name: 'pfeiffer m=2 on the 1×1 conv and the dense layer',
    config: { method: 'pfeiffer', bottleneck: 2, targetModules: ['pw', 'fc'] },
    count: (_i, o) => 2 * o * 2 + 2 + o,
    mergeable: false,
  },
];

const dirs: string[] = [];
beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Wrap a fresh model with the row's config plus the head in modulesToSave. */
function wrap(row: Row, seed = 7): { model: tf.LayersModel; peft: PeftModel<LayersModule> } {
  const model = buildModel(seed);
  const peft = getPeftModel(model, { ...row.config, seed: 3, modulesToSave: ['head'] });
  return { model, peft };
}

/** Some fit epochs on one batch towards a fixed target (SGD, squared error). */
async function fitSteps(model: tf.LayersModel, x: tf.Tensor, epochs: number): Promise<void> {
  const y = tf.tidy(() => tf.ones([x.shape[0], 4]).mul(2));
  await model.fit(x, y, { epochs, batchSize: x.shape[0], verbose: 0, shuffle: false });
  y.dispose();
}

describe.each(ROWS)('layers model: $name', (row) => {
  it('gives the base output at initialisation', () => {
    const x = input();
    const base = predict(buildModel(), x);
    const { model } = wrap(row);
    expect(maxDiff(predict(model, x), base)).toBeLessThanOrEqual(1e-6);
  });

  it('has the closed-form trainable count, and the tfjs model trains exactly those weights', () => {
    const { model, peft } = wrap(row);
    const expected =
      peft.adapterLayers().reduce((s, [, l]) => s + row.count(l.inFeatures, l.outFeatures), 0) + HEAD;
    expect(peft.countParameters().trainable).toBe(expected);
    expect(
      model.trainableWeights.reduce((s, w) => s + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0),
    ).toBe(expected);
    // every base weight of the tfjs model and every adapter variable (frozen ones too) is in the total
    const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const base = buildModel().weights.reduce((s, w) => s + size(w.shape), 0);
    const adapter = [...peft.adapterLayers(), ...peft.savedModules()]
      .flatMap(([, l]) => l.namedParameters())
      .reduce((s, [, v]) => s + v.size, 0);
    expect(peft.countParameters().total).toBe(base + adapter);
  });

  it('one fit step changes adapter variables only (batch-norm statistics included)', async () => {
    const { model, peft } = wrap(row);
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = input();
    const before = snapshot(model);
    const base = predict(model, x);
    await fitSteps(model, x, 1);
    const trainable = new Set(model.trainableWeights.map((w) => w.name));
    let changed = 0;
    for (const w of model.weights) {
      const d = maxDiff(w.read().dataSync(), before.get(w.name)!);
      if (trainable.has(w.name)) changed += d > 0 ? 1 : 0;
      else expect(d, `${w.name} is frozen but changed`).toBe(0);
    }
    expect(changed).toBeGreaterThan(0);
    expect(maxDiff(predict(model, x), base)).toBeGreaterThan(1e-4);
    // tensor count is flat across further steps
    await fitSteps(model, x, 1);
    const nt = tf.memory().numTensors;
    await fitSteps(model, x, 2);
    expect(tf.memory().numTensors).toBe(nt);
    if (row.orth !== undefined) {
      for (const [, l] of peft.adapterLayers())
        for (const f of l.orthogonalFactors()) expect(orthError(f)).toBeLessThan(row.orth);
    }
  });

  it('save → load into a fresh copy gives the same output (head included)', async () => {
    const { model, peft } = wrap(row);
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = input();
    await fitSteps(model, x, 2);
    const trained = predict(model, x);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qpeft-layers-'));
    dirs.push(dir);
    saveAdapter(peft, dir);
    const fresh = buildModel();
    const loaded = loadPeftModel(fresh, dir);
    expect(maxDiff(predict(fresh, x), trained)).toBeLessThanOrEqual(1e-6);
    expect(loaded.savedModules().map(([n]) => n)).toEqual(['head']);
  });

  it('merge ≈ unmerged output; mergeAndUnload hands back the plain model with the adapted output', async () => {
    const { model, peft } = wrap(row);
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = input();
    await fitSteps(model, x, 2);
    const adapted = predict(model, x);
    const kernels = snapshot(model);
    if (row.mergeable === false) {
      expect(() => peft.merge()).toThrow(AdapterError);
      return;
    }
    peft.merge();
    expect(maxDiff(predict(model, x), adapted)).toBeLessThan(1e-4);
    peft.unmerge();
    expect(maxDiff(predict(model, x), adapted)).toBeLessThan(1e-4);
    for (const w of model.weights)
      if (kernels.has(w.name)) expect(maxDiff(w.read().dataSync(), kernels.get(w.name)!)).toBeLessThan(1e-5);
    const plain = peft.mergeAndUnload().layersModel;
    expect(plain).toBe(model);
    for (const l of model.layers) expect(Object.hasOwn(l, 'call'), l.name).toBe(false);
    expect(maxDiff(predict(model, x), adapted)).toBeLessThan(1e-4);
  });
});

describe('layers model: the injection against an independent reference', () => {
  it('predict, apply and a plain copy with kernels W + ΔW (set through tfjs) agree, for every layer kind', async () => {
    const { model, peft } = wrap(ROWS[1]!);
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = input(4);
    await fitSteps(model, x, 3);
    const ref = buildModel();
    for (const [target, layer] of [...peft.adapterLayers(), ...peft.savedModules()]) {
      const tfl = ref.getLayer(target);
      const [k, ...rest] = tfl.getWeights();
      const merged = tf.tidy(() => k!.add(layer.deltaWeight().reshape(k!.shape)));
      tfl.setWeights([
        merged,
        ...rest.map((b) => {
          const db = layer.deltaBias();
          return db ? b.add(db) : b;
        }),
      ]);
    }
    const y = predict(model, x);
    expect(maxDiff(y, predict(ref, x))).toBeLessThan(1e-4);
    const eager = tf.tidy(() => (model.apply(x) as tf.Tensor).dataSync());
    expect(maxDiff(eager, y)).toBeLessThan(1e-6);
  });

  it('LoRA on a 2×2 conv equals conv(x, W + (α/r)·down·up) written out in the test', () => {
    const model = buildModel();
    const peft = getPeftModel(model, { method: 'lora', r: 2, loraAlpha: 4, targetModules: ['conv_a'] });
    const layer = peft.adapterLayer('conv_a') as unknown as { loraDown: tf.Variable; loraUp: tf.Variable };
    const rng = createRng(11);
    layer.loraUp.assign(
      tf.tensor2d(
        Float32Array.from({ length: 16 }, () => rng.normal()),
        [2, 8],
      ),
    );
    const x = input(5);
    // reference: im2col by hand (same padding for k = 2 pads one row/column at the bottom/right)
    const conv_a = model.getLayer('conv_a') as unknown as Record<'kernel' | 'bias', tf.LayerVariable>;
    const W = conv_a.kernel.read().dataSync();
    const B = conv_a.bias.read().dataSync();
    const D = tf.tidy(() => tf.matMul(layer.loraDown, layer.loraUp).mul(2).dataSync());
    const xs = x.dataSync();
    const conv = new Float64Array(5 * 6 * 6 * 8);
    for (let n = 0; n < 5; n++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++)
          for (let o = 0; o < 8; o++) {
            let s = B[o]!;
            for (let di = 0; di < 2; di++)
              for (let dj = 0; dj < 2; dj++)
                for (let c = 0; c < 4; c++) {
                  if (i + di >= 6 || j + dj >= 6) continue;
                  const row = (di * 2 + dj) * 4 + c;
                  s += xs[((n * 6 + i + di) * 6 + j + dj) * 4 + c]! * (W[row * 8 + o]! + D[row * 8 + o]!);
                }
            conv[((n * 6 + i) * 6 + j) * 8 + o] = Math.max(s, 0);
          }
    const sub = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer('conv_a').output as tf.SymbolicTensor,
    });
    expect(maxDiff(predict(sub, x), conv)).toBeLessThan(1e-4);
  });

  it('batch norm runs on its moving statistics inside fit (training mode) too', async () => {
    const { model } = wrap(ROWS[0]!);
    const bnOut = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer('bn').output as tf.SymbolicTensor,
    });
    const x = input(6);
    const inference = predict(bnOut, x);
    const training = tf.tidy(() => (bnOut.apply(x, { training: true }) as tf.Tensor).dataSync());
    expect(maxDiff(training, inference)).toBe(0);
  });

  it('modulesToSave: the head trains as a copy; disabling adapters gives the original head back', async () => {
    const { model, peft } = wrap(ROWS[0]!);
    const kernelOf = (l: tf.layers.Layer) => (l as unknown as { kernel: tf.LayerVariable }).kernel.read();
    const headKernel = kernelOf(model.getLayer('head')).dataSync().slice();
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = input();
    const base = predict(buildModel(), x);
    await fitSteps(model, x, 2);
    expect(maxDiff(kernelOf(model.getLayer('head')).dataSync(), headKernel)).toBe(0);
    const [, copy] = peft.savedModules()[0]!;
    expect(maxDiff(copy.weight.dataSync(), headKernel)).toBeGreaterThan(0);
    expect(
      maxDiff(
        peft.withAdapterDisabled(() => predict(model, x)),
        base,
      ),
    ).toBeLessThanOrEqual(1e-6);
  });
});

describe('layers model: refusals', () => {
  it('refuses depthwise targets and says why', () => {
    expect(() => getPeftModel(buildModel(), { method: 'lora', r: 1, targetModules: ['dw'] })).toThrow(
      /dw is a DepthwiseConv2D layer.*block-diagonal/,
    );
  });
  it('refuses output-space adapters on a k×k convolution', () => {
    expect(() => getPeftModel(buildModel(), { method: 'houlsby', targetModules: ['conv_a'] })).toThrow(
      /2×2 convolution/,
    );
  });
  it('refuses a layer that is both a target and in modulesToSave', () => {
    expect(() =>
      getPeftModel(buildModel(), { method: 'lora', r: 1, targetModules: ['fc'], modulesToSave: ['fc'] }),
    ).toThrow(/both a target and in modulesToSave/);
  });
  it('refuses model.save while wrapped, allows it after unload, and refuses a second wrap', async () => {
    const model = buildModel();
    const peft = getPeftModel(model, { method: 'lora', r: 1, targetModules: ['fc'] });
    expect(() => getPeftModel(model, { method: 'lora', r: 1, targetModules: ['fc'] })).toThrow(
      /already wrapped/,
    );
    const sink = tf.io.withSaveHandler(async () => ({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' as const },
    }));
    await expect(model.save(sink)).rejects.toThrow(AdapterError);
    peft.unload();
    await expect(model.save(sink)).resolves.toBeTruthy();
    expect(model.getLayer('fc').trainableWeights.length).toBe(2);
  });
  it('a failed wrap leaves the model untouched', () => {
    const model = buildModel();
    expect(() => getPeftModel(model, { method: 'lora', r: 1, targetModules: ['nothing'] })).toThrow(
      AdapterError,
    );
    for (const l of model.layers) expect(Object.hasOwn(l, 'call'), l.name).toBe(false);
    expect(model.trainableWeights.length).toBe(buildModel().trainableWeights.length);
    expect(model.getLayer('fc')).toBeInstanceOf(tf.layers.Layer);
    expect(LayerLinear).toBeTypeOf('function');
  });
});
