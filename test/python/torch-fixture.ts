// Child process of torch-reader.test.ts: from the shipped ViT, make adapters with non-zero ΔW (Quantum-PEFT
// with uniform angles and random λ, its Lie variant, LoRA with random factors) and a new 5-class head, save
// them as `qpeft finetune` does (adapter/, adapter-lora/, head.safetensors), and write the tfjs logits on
// fixed images. Also writes P and Q of a direct-sum factor (dimension 24) for the reader's statevector code.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/checkpoint.ts';
import type { ViT } from '../../src/models/vit.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import type { QuantumPeftLayer } from '../../src/peft/methods/quantum-peft.ts';
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

// A direct-sum factor: a 24→40 Linear (24 = 16 + 8, 40 = 32 + 8) with Quantum-PEFT K = 5.
class Tiny extends Module {
  readonly proj = this.addModule('proj', new Linear({ inFeatures: 24, outFeatures: 40, seed: 1 }));
}
const tiny = new Tiny();
const tp = getPeftModel(tiny, {
  method: 'quantum-peft',
  rank: 5,
  layers: 2,
  angleInit: 'uniform',
  targetModules: ['proj'],
});
const layer = tp.adapterLayers()[0]![1] as unknown as QuantumPeftLayer;
const [p, q] = layer.factors();
writeFileSync(
  path.join(out, 'direct-sum.json'),
  JSON.stringify({
    theta_p: Array.from(layer.thetaP.dataSync()),
    theta_q: Array.from(layer.thetaQ.dataSync()),
    p: Array.from(p.dataSync()),
    q: Array.from(q.dataSync()),
  }),
);
