// Child process of torch-reader.test.ts: from the shipped ViT, make adapters with non-zero ΔW (Quantum-PEFT
// with uniform angles and random λ, its Lie variant, LoRA with random factors) and a new 5-class head, save
// them as `qpeft finetune` does (adapter/, adapter-lora/, head.safetensors), and write the tfjs logits on
// fixed images. Also writes factors of widths that are not powers of two, small adapters on such widths, and an
// adapter that carries its head (modulesToSave); see below.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TemplateName } from '../../src/circuit/templates/index.ts';
import { saveSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/checkpoint.ts';
import type { ViT } from '../../src/models/vit.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { type FactorForm, factorMatrix, planFactor, resolveFactorForm } from '../../src/peft/factor.ts';
import { getPeftModel } from '../../src/peft/model.ts';
import { exportLora, saveAdapter } from '../../src/peft/serialize.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';

const out = process.argv[2]!;
await initBackend('wasm', { threads: 1 });
const root = path.resolve(import.meta.dirname, '../..');
const images = tf.randomUniform([6, 28, 28], 0, 1, 'float32', 7);
writeFileSync(path.join(out, 'images.json'), JSON.stringify(Array.from(images.dataSync())));

const configs: Record<string, Record<string, unknown>> = {
  'quantum-peft': {
    method: 'quantum-peft',
    rank: 4,
    layers: 2,
    alpha: 2,
    angleInit: 'uniform',
    targetModules: ['query', 'value'],
  },
  'quantum-peft-alt': {
    method: 'quantum-peft',
    rank: 3,
    layers: 1,
    template: 'alternating-ry-cz',
    angleInit: 'uniform',
    targetModules: ['fc1'],
  },
  'quantum-peft-lie': { method: 'quantum-peft-lie', rank: 3, alpha: 1.5, targetModules: ['query', 'value'] },
  lora: { method: 'lora', r: 4, loraAlpha: 8, targetModules: ['query', 'value'] },
};
const logits: Record<string, number[]> = {};
let seed = 11;
for (const [label, config] of Object.entries(configs)) {
  const model = loadModel(path.join(root, 'checkpoints/vit-fashion-mnist')) as ViT;
  model.resetHead(5, 3);
  const peft = getPeftModel(model, config);
  // give every adapter variable (and the head) random values so that ΔW ≠ 0
  for (const v of [...peft.trainableVariables(), model.head.weight, model.head.bias!])
    v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed++));
  const dir = path.join(out, label);
  mkdirSync(dir, { recursive: true });
  saveAdapter(peft, path.join(dir, 'adapter'));
  exportLora(peft, path.join(dir, 'adapter-lora'));
  saveSafetensors(path.join(dir, 'head.safetensors'), {
    'head.weight': {
      shape: [...model.head.weight.shape],
      data: Float32Array.from(model.head.weight.dataSync()),
    },
    'head.bias': { shape: [...model.head.bias!.shape], data: Float32Array.from(model.head.bias!.dataSync()) },
  });
  logits[label] = Array.from(model.forward(images).dataSync());
}
writeFileSync(path.join(out, 'logits.json'), JSON.stringify(logits));

// Factors of widths that are not powers of two, in both forms (docs/method.md §3), as qpeft builds them in float64
// (factorMatrix): the reader rebuilds each from the same angles with its own code. Cases: [width, layers, K,
// form, template]; they cover odd widths (a = 0), m·2^a with m = 3, 5, 9, 15, K past the first direct-sum
// block, and `auto` resolving to each form.
const factorCases: [number, number, number, FactorForm, TemplateName][] = [
  [24, 2, 5, 'mixed-radix', 'simplified-two-design'],
  [40, 1, 3, 'mixed-radix', 'simplified-two-design'],
  [7, 2, 3, 'mixed-radix', 'simplified-two-design'],
  [6, 3, 6, 'mixed-radix', 'simplified-two-design'],
  [144, 2, 4, 'mixed-radix', 'simplified-two-design'],
  [960, 1, 4, 'auto', 'simplified-two-design'],
  [96, 4, 16, 'auto', 'alternating-ry-cz'],
  [24, 2, 5, 'direct-sum', 'simplified-two-design'],
  [40, 2, 33, 'direct-sum', 'simplified-two-design'],
  [12, 1, 6, 'direct-sum', 'alternating-ry-cz'],
  [1000, 2, 3, 'auto', 'simplified-two-design'],
];
const factors = factorCases.map(([dim, layers, k, form, template], i) => {
  const { plan, count } = planFactor(dim, { template, layers, form });
  const theta = Array.from(tf.randomUniform([count], -Math.PI, Math.PI, 'float32', 100 + i).dataSync());
  const m = factorMatrix(plan, theta, k);
  return {
    dim,
    layers,
    k,
    form,
    template,
    resolved: resolveFactorForm(dim, template, layers, form),
    theta,
    p: Array.from(m.data),
  };
});
writeFileSync(path.join(out, 'factors.json'), JSON.stringify(factors));

// Adapters on Linears whose widths are not powers of two (24 → 40 → 12), saved with factorForm auto (mixed
// radix here) and direct-sum: the reader's ΔW and outputs against the wrapped layers' outputs in tfjs.
class Tiny extends Module {
  readonly proj = this.addModule('proj', new Linear({ inFeatures: 24, outFeatures: 40, seed: 1 }));
  readonly out = this.addModule('out', new Linear({ inFeatures: 40, outFeatures: 12, seed: 2 }));
}
const tinyX = tf.randomNormal([5, 24], 0, 1, 'float32', 9);
const tinyOut: Record<string, unknown> = { x: Array.from(tinyX.dataSync()) };
for (const form of ['auto', 'direct-sum'] as const) {
  const tiny = new Tiny();
  const base = {
    proj: { weight: Array.from(tiny.proj.weight.dataSync()), bias: Array.from(tiny.proj.bias!.dataSync()) },
    out: { weight: Array.from(tiny.out.weight.dataSync()), bias: Array.from(tiny.out.bias!.dataSync()) },
  };
  const tp = getPeftModel(tiny, {
    method: 'quantum-peft',
    rank: 5,
    layers: 2,
    alpha: 1.5,
    factorForm: form,
    angleInit: 'uniform',
    targetModules: ['proj', 'out'],
  });
  for (const v of tp.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', seed++));
  saveAdapter(tp, path.join(out, `tiny-${form}`));
  const h = tiny.proj.forward(tinyX);
  tinyOut[form] = { base, proj: Array.from(h.dataSync()), out: Array.from(tiny.out.forward(h).dataSync()) };
}
writeFileSync(path.join(out, 'tiny.json'), JSON.stringify(tinyOut));

// The head inside the adapter folder (modulesToSave: saved as <head>.modules_to_save.{weight,bias}, qpeft's
// layout), with a decoy head.safetensors beside the folder that the reader must not take instead.
const withHead: Record<string, Record<string, unknown>> = {
  'quantum-peft-mts': { method: 'quantum-peft', rank: 4, layers: 1, angleInit: 'uniform' },
  'lora-mts': { method: 'lora', r: 3, loraAlpha: 6 },
};
for (const [label, config] of Object.entries(withHead)) {
  const model = loadModel(path.join(root, 'checkpoints/vit-fashion-mnist')) as ViT;
  model.resetHead(5, 3);
  const peft = getPeftModel(model, { ...config, targetModules: ['query', 'value'], modulesToSave: ['head'] });
  for (const v of peft.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed++));
  const dir = path.join(out, label);
  mkdirSync(dir, { recursive: true });
  saveAdapter(peft, path.join(dir, 'adapter'));
  saveSafetensors(path.join(dir, 'head.safetensors'), {
    'head.weight': {
      shape: [64, 5],
      data: Float32Array.from(tf.randomNormal([64, 5], 0, 1, 'float32', 5).dataSync()),
    },
    'head.bias': { shape: [5], data: new Float32Array(5).fill(3) },
  });
  logits[label] = Array.from(model.forward(images).dataSync());
  writeFileSync(path.join(out, 'logits.json'), JSON.stringify(logits));
}
