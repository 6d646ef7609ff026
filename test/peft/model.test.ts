/** The PEFT model API: target matching, freezing, the report, named adapters, disabling, errors. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cz, makeCircuit, param, ry, rz } from '../../src/circuit/index.ts';
import { AdapterError, InputError, UnsupportedGateError } from '../../src/errors.ts';
import {
  exportLora,
  getPeftModel,
  type LoraLayer,
  listMethods,
  loadAdapter,
  matchTargets,
  PeftModel,
  saveAdapter,
} from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { maxDiff, randn, Tiny, trainStep } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('target matching (Hugging Face rules)', () => {
  const model = new Tiny();
  it('matches exact names and dotted suffixes', () => {
    expect(matchTargets(model, ['q'])).toEqual(['layers.0.q', 'layers.1.q']);
    expect(matchTargets(model, ['layers.1.v', 'head'])).toEqual(['layers.1.v', 'head']);
    // a suffix must start at a dot: "ead" does not match "head"
    expect(() => matchTargets(model, ['ead'])).toThrow(/targetModules \["ead"\] matched no Linear module/);
    expect(() => matchTargets(model, ['ead'])).toThrow(AdapterError);
  });
  it('matches a regular expression (or a string read as one) against the whole name', () => {
    expect(matchTargets(model, /layers\.0\..*/)).toEqual(['layers.0.q', 'layers.0.v']);
    expect(matchTargets(model, '.*\\.v')).toEqual(['layers.0.v', 'layers.1.v']);
    expect(() => matchTargets(model, /layers/)).toThrow(
      /matched no Linear module; the model's Linear modules are layers\.0\.q/,
    );
  });
});

describe('PeftModel', () => {
  it('freezes the base and reports trainable parameters in PEFT form', () => {
    const model = new Tiny();
    const before = model.countParameters().total;
    const peft = getPeftModel(model, { method: 'lora', r: 2, targetModules: ['q'] });
    const trainable = 2 * 2 * (16 + 16);
    const total = before + trainable;
    expect(peft.countParameters()).toEqual({ trainable, total });
    expect(peft.trainableParametersReport()).toBe(
      `trainable params: ${trainable} || all params: ${total.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / total).toFixed(4)}`,
    );
    expect(
      model
        .namedParameters()
        .filter(([, v]) => v.trainable)
        .map(([n]) => n),
    ).toEqual([
      'layers.0.q.adapters.default.lora_down',
      'layers.0.q.adapters.default.lora_up',
      'layers.1.q.adapters.default.lora_down',
      'layers.1.q.adapters.default.lora_up',
    ]);
  });

  it('initialises LoRA as PEFT does: A Kaiming-uniform (bound 1/√d_in), B = 0, scale α/r or α/√r', () => {
    const peft = new PeftModel(new Tiny(), { method: 'lora', r: 4, loraAlpha: 16, targetModules: ['head'] });
    const l = peft.adapterLayer('head') as LoraLayer;
    const a = l.loraDown.dataSync();
    expect(l.loraDown.shape).toEqual([16, 4]);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16));
    expect(new Set(a).size).toBe(64);
    expect(l.loraUp.dataSync().every((v) => v === 0)).toBe(true);
    expect(l.scaling).toBe(4);
    peft.addAdapter('rs', { method: 'lora', r: 4, loraAlpha: 16, useRslora: true, targetModules: ['head'] });
    expect((peft.adapterLayer('head', 'rs') as LoraLayer).scaling).toBe(8);
  });

  it('adds, switches and deletes named adapters; only the active one trains and runs', () => {
    const model = new Tiny();
    const x = randn(4, 16, 1);
    const base = model.forward(x);
    const peft = new PeftModel(
      model,
      { method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['q'] },
      'qp',
    );
    peft.addAdapter('lo', { method: 'lora', r: 2, targetModules: ['q', 'head'] });
    expect(peft.activeAdapter).toBe('qp');
    expect(
      peft.trainableVariables().every((v) => v.name.includes('theta') || v.name.includes('lambda')),
    ).toBe(true);
    const opt = tf.train.sgd(0.5);
    const target = randn(4, 8, 2);
    for (let i = 0; i < 2; i++) trainStep(() => model.forward(x), peft.trainableVariables(), opt, target);
    const yQp = model.forward(x);
    peft.setAdapter('lo');
    expect(
      peft
        .trainableVariables()
        .map((v) => v.name)
        .every((n) => /lora_(down|up)/.test(n)),
    ).toBe(true);
    expect(maxDiff(model.forward(x), base)).toBe(0); // lora's B = 0
    for (let i = 0; i < 2; i++) trainStep(() => model.forward(x), peft.trainableVariables(), opt, target);
    const yLo = model.forward(x);
    expect(maxDiff(yLo, yQp)).toBeGreaterThan(1e-4);
    peft.setAdapter('qp');
    expect(maxDiff(model.forward(x), yQp)).toBe(0);
    expect(() => peft.addAdapter('qp', { method: 'bitfit', targetModules: ['q'] })).toThrow(/already exists/);
    expect(() => peft.setAdapter('nope')).toThrow(/no adapter named "nope"; adapters: qp, lo/);
    peft.deleteAdapter('qp');
    expect(peft.adapterNames).toEqual(['lo']);
    expect(peft.activeAdapter).toBe('lo');
    expect(maxDiff(model.forward(x), yLo)).toBe(0);
    expect(model.namedParameters().some(([n]) => n.includes('.qp.'))).toBe(false);
    peft.deleteAdapter('lo');
    expect(model.namedParameters().some(([n]) => n.includes('adapters'))).toBe(false);
    expect(maxDiff(model.forward(x), base)).toBe(0);
    opt.dispose();
  });

  it('disables adapters temporarily and refuses to while merged', () => {
    const model = new Tiny();
    const x = randn(3, 16, 5);
    const base = model.forward(x);
    const peft = new PeftModel(model, { method: 'full', targetModules: ['head'] });
    (peft.adapterLayer('head') as unknown as { weightDelta: tf.Variable }).weightDelta.assign(
      tf.ones([16, 8]),
    );
    const adapted = model.forward(x);
    expect(maxDiff(adapted, base)).toBeGreaterThan(0.1);
    expect(
      maxDiff(
        peft.withAdapterDisabled(() => model.forward(x)),
        base,
      ),
    ).toBe(0);
    expect(maxDiff(model.forward(x), adapted)).toBe(0);
    peft.merge();
    expect(() => peft.withAdapterDisabled(() => 0)).toThrow(/unmerge before disabling/);
    expect(() => peft.deleteAdapter('default')).toThrow(/unmerge it before deleting/);
    peft.unmerge();
    peft.disableAdapters();
    expect(maxDiff(model.forward(x), base)).toBeLessThan(1e-6); // W + ΔW − ΔW rounds in float32
    peft.enableAdapters();
    expect(maxDiff(model.forward(x), adapted)).toBeLessThan(1e-5);
  });

  it('gives typed errors for bad configs and refuses complex circuits', () => {
    const model = new Tiny();
    expect(() => new PeftModel(model, { method: 'loraa', targetModules: ['q'] })).toThrow(
      /unknown adapter method "loraa"; expected one of quantum-peft/,
    );
    expect(() => new PeftModel(model, { method: 'lora', r: 0, targetModules: ['q'] })).toThrow(InputError);
    expect(() => new PeftModel(model, { method: 'lora', r: 2, targetModules: [] })).toThrow(
      /targetModules must be a non-empty list/,
    );
    expect(() => new PeftModel(model, { method: 'quantum-peft', rank: 17, targetModules: ['q'] })).toThrow(
      /rank K = 17 exceeds d_in = 16/,
    );
    const complex = makeCircuit({ qubits: 4, gates: [ry(0, param('a')), cz(0, 1), rz(2, param('b'))] });
    expect(
      () => new PeftModel(model, { method: 'quantum-peft', rank: 2, circuit: complex, targetModules: ['q'] }),
    ).toThrow(UnsupportedGateError);
    expect(
      () => new PeftModel(model, { method: 'quantum-peft', rank: 2, circuit: complex, targetModules: ['q'] }),
    ).toThrow(/gate 2 is rz/);
    // a failed wrap leaves no adapter behind and nothing frozen
    expect(model.namedParameters().some(([n]) => n.includes('adapters'))).toBe(false);
    expect(model.countParameters().trainable).toBe(model.countParameters().total);
    new PeftModel(model, { method: 'bitfit', targetModules: ['head'] });
    expect(() => new PeftModel(model, { method: 'lora', r: 2, targetModules: ['head'] })).toThrow(
      /head already has a hook/,
    );
    expect(listMethods()).toEqual([
      'quantum-peft',
      'quantum-peft-lie',
      'lora',
      'adalora',
      'bitfit',
      'houlsby',
      'pfeiffer',
      'full',
      'vera',
      'dora',
    ]);
  });

  it('is unusable after mergeAndUnload, and the plain model keeps the merged weights', () => {
    const model = new Tiny();
    const peft = new PeftModel(model, { method: 'bitfit', targetModules: ['head'] });
    (peft.adapterLayer('head') as unknown as { biasDelta: tf.Variable }).biasDelta.assign(tf.fill([8], 0.5));
    const plain = peft.mergeAndUnload();
    expect(Array.from(model.head.bias!.dataSync())).toEqual(new Array(8).fill(0.5));
    expect(plain).toBe(model);
    expect(() => peft.addAdapter('x', { method: 'bitfit', targetModules: ['head'] })).toThrow(/unloaded/);
  });

  it('merge, unmerge, export, save, load, the report and the regulariser do not leak tensors', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qpeft-leak-'));
    try {
      for (const config of [
        { method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['q', 'head'] },
        { method: 'quantum-peft-lie', rank: 2, targetModules: ['v'] },
        { method: 'adalora', initR: 3, targetR: 2, totalStep: 10, targetModules: ['head'] },
      ]) {
        const model = new Tiny(12, 10);
        const peft = new PeftModel(model, config);
        const x = randn(2, 12, 1);
        const once = () => {
          tf.dispose(model.forward(x));
          peft.merge();
          peft.unmerge();
          exportLora(peft, dir);
          saveAdapter(peft, dir);
          loadAdapter(peft, dir, 'again');
          peft.deleteAdapter('again');
          peft.trainableParametersReport();
          tf.dispose(peft.regularizationLoss() ?? []);
          tf.dispose(peft.withAdapterDisabled(() => model.forward(x)));
        };
        once();
        const n = tf.memory().numTensors;
        once();
        expect(tf.memory().numTensors).toBe(n);
        peft.unload();
        model.dispose();
        x.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
