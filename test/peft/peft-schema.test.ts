/**
 * LoRA folders in PEFT's exact schema and layout (one folder for qpeft, PEFT and python/qpeft_torch.py),
 * older native LoRA folders still loading, and their own peft_type for native folders PEFT would misread.
 * Schema checked against PEFT's LoraConfig files as PEFT writes them (snake_case keys r, lora_alpha,
 * target_modules, use_rslora, rank_pattern, peft_type "LORA"; tensors base_model.model.<module>.lora_A.weight
 * r × d_in and lora_B.weight d_out × r, ΔW_torch = lora_alpha / r · B·A).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { CONFIG_FILE, loadPeftModel, PeftModel, saveAdapter, WEIGHTS_FILE } from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { maxDiff, randn, Tiny, tempDirs } from './helpers.ts';

const [D_IN, D_OUT, R] = [12, 7, 3];
class One extends Module {
  readonly lin: Linear;
  constructor() {
    super();
    this.lin = this.setModule('lin', new Linear({ inFeatures: D_IN, outFeatures: D_OUT, seed: 5 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.lin.forward(x);
  }
}

const tmp = tempDirs('qpeft-peft-schema-');
beforeAll(async () => {
  await initBackend('wasm');
});

/** x · ΔW from PEFT-layout factors, in float64 loops: ΔW_torch[o][i] = s · Σ_k B[o][k] · A[k][i]. */
function peftDelta(x: Float32Array, rows: number, a: Float32Array, b: Float32Array, s: number): Float64Array {
  const out = new Float64Array(rows * D_OUT);
  for (let n = 0; n < rows; n++)
    for (let o = 0; o < D_OUT; o++) {
      let acc = 0;
      for (let i = 0; i < D_IN; i++) {
        let w = 0;
        for (let k = 0; k < R; k++) w += b[o * R + k]! * a[k * D_IN + i]!;
        acc += x[n * D_IN + i]! * s * w;
      }
      out[n * D_OUT + o] = acc;
    }
  return out;
}

describe('LoRA folders in PEFT schema', () => {
  it("saveAdapter writes PEFT's config and torch-layout tensors; ΔW from the file is the adapter's", () => {
    const model = new One();
    const peft = new PeftModel(model, { method: 'lora', r: R, loraAlpha: 6, targetModules: ['lin'] });
    for (const v of peft.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 9));
    const dir = tmp();
    saveAdapter(peft, dir);
    const cfg = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      r: R,
      lora_alpha: 6,
      target_modules: ['lin'],
      use_rslora: false,
    });
    expect(cfg.format).toBeUndefined();
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path.join(dir, WEIGHTS_FILE))));
    expect(Object.keys(tensors).sort()).toEqual([
      'base_model.model.lin.lora_A.weight',
      'base_model.model.lin.lora_B.weight',
    ]);
    const a = tensors['base_model.model.lin.lora_A.weight']!;
    const b = tensors['base_model.model.lin.lora_B.weight']!;
    expect(a.shape).toEqual([R, D_IN]);
    expect(b.shape).toEqual([D_OUT, R]);
    const x = randn(4, D_IN, 2);
    const adapted = model.forward(x).dataSync();
    const base = model.lin.baseForward(x).dataSync();
    const delta = peftDelta(
      x.dataSync() as Float32Array,
      4,
      a.data as Float32Array,
      b.data as Float32Array,
      6 / R,
    );
    expect(
      maxDiff(
        Float64Array.from(adapted, (v, i) => v - base[i]!),
        delta,
      ),
    ).toBeLessThan(1e-5);
    // and it reloads into a fresh model with the same outputs
    const again = loadPeftModel(new One(), dir);
    expect(maxDiff((again.model as One).forward(x).dataSync(), adapted)).toBeLessThan(1e-6);
  });

  it('loads an older native LoRA folder (qpeft schema, lora_down / lora_up)', () => {
    const dir = tmp();
    const down = Float32Array.from({ length: D_IN * R }, (_, i) => Math.sin(i + 1) / 2);
    const up = Float32Array.from({ length: R * D_OUT }, (_, i) => Math.cos(i + 2) / 2);
    writeFileSync(
      path.join(dir, WEIGHTS_FILE),
      encodeSafetensors(
        {
          'base_model.model.lin.lora_down': { shape: [D_IN, R], data: down },
          'base_model.model.lin.lora_up': { shape: [R, D_OUT], data: up },
        },
        { format: 'pt', qpeft_method: 'lora' },
      ),
    );
    const old = {
      format: 'qpeft-adapter',
      format_version: 1,
      peft_type: 'LORA',
      method: 'lora',
      config: { method: 'lora', targetModules: ['lin'], seed: 0, r: R, loraAlpha: 6, useRslora: false },
      targets: [{ name: 'lin', in_features: D_IN, out_features: D_OUT }],
      qasm_files: [],
    };
    writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify(old));
    const peft = loadPeftModel(new One(), dir);
    const x = randn(3, D_IN, 4);
    const m = peft.model as One;
    // PEFT layout of the same factors: A = downᵀ, B = upᵀ
    const a = new Float32Array(R * D_IN);
    const b = new Float32Array(D_OUT * R);
    for (let i = 0; i < D_IN; i++) for (let k = 0; k < R; k++) a[k * D_IN + i] = down[i * R + k]!;
    for (let k = 0; k < R; k++) for (let o = 0; o < D_OUT; o++) b[o * R + k] = up[k * D_OUT + o]!;
    const delta = peftDelta(x.dataSync() as Float32Array, 3, a, b, 6 / R);
    const got = m.forward(x).dataSync();
    const base = m.lin.baseForward(x).dataSync();
    expect(
      maxDiff(
        Float64Array.from(got, (v, i) => v - base[i]!),
        delta,
      ),
    ).toBeLessThan(1e-5);
  });

  it('refuses PEFT LoRA settings qpeft cannot reproduce, naming them', () => {
    const model = new One();
    const peft = new PeftModel(model, { method: 'lora', r: R, targetModules: ['lin'] });
    const dir = tmp();
    saveAdapter(peft, dir);
    const cfg = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
    for (const [k, v, msg] of [
      ['use_dora', true, /DoRA/],
      ['rank_pattern', { lin: 2 }, /rank_pattern/],
      ['bias', 'all', /bias "all"/],
    ] as const) {
      writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify({ ...cfg, [k]: v }));
      expect(() => loadPeftModel(new One(), dir)).toThrow(AdapterError);
      expect(() => loadPeftModel(new One(), dir)).toThrow(msg);
    }
  });

  it.each([
    [
      'adalora',
      { method: 'adalora', initR: 4, targetR: 2, totalStep: 10, targetModules: ['q'] },
      'QPEFT_ADALORA',
    ],
    ['vera', { method: 'vera', r: 4, targetModules: ['q'] }, 'QPEFT_VERA'],
    // LoRA with a saved head stays in qpeft's format (PEFT's LoRA schema has no slot for the copy)
    [
      'lora + modulesToSave',
      { method: 'lora', r: 4, targetModules: ['q'], modulesToSave: ['head'] },
      'QPEFT_LORA',
    ],
  ] as const)('native %s folders carry their own peft_type and still reload', (_, config, type) => {
    const model = new Tiny();
    const peft = new PeftModel(model, config);
    for (const v of peft.trainableVariables()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 3));
    const dir = tmp();
    saveAdapter(peft, dir);
    expect(JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8')).peft_type).toBe(type);
    const x = randn(2, 16, 6);
    const again = loadPeftModel(new Tiny(), dir);
    expect(maxDiff((again.model as Tiny).forward(x).dataSync(), model.forward(x).dataSync())).toBeLessThan(
      1e-6,
    );
  });
});
