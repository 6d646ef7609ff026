/**
 * A PEFT-layout LoRA folder's weights file is read once per load: the config reader needs the tensors for
 * the targets and their shapes, and the loader takes the same ones (the file is not opened a second time,
 * so a file replaced between the two reads cannot pair one file's targets with another's values).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeSafetensors, loadSafetensors } from '../../src/io/safetensors.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { CONFIG_FILE, loadAdapter, loadPeftModel, PeftModel, WEIGHTS_FILE } from '../../src/peft/index.ts';
import { initBackend, type tf } from '../../src/tf/backend.ts';
import { tempDirs } from './helpers.ts';

vi.mock('../../src/io/safetensors.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/io/safetensors.ts')>();
  return { ...m, loadSafetensors: vi.fn(m.loadSafetensors) };
});

const [D_IN, D_OUT, R] = [5, 4, 2];
class One extends Module {
  readonly lin: Linear;
  constructor() {
    super();
    this.lin = this.setModule('lin', new Linear({ inFeatures: D_IN, outFeatures: D_OUT, seed: 1 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.lin.forward(x);
  }
}

const tmp = tempDirs('qpeft-peft-read-once-');
beforeAll(async () => {
  await initBackend('wasm');
});

/** A PEFT-schema folder written by hand: lora_A r × d_in, lora_B d_out × r (torch orientation). */
function peftFolder(a: Float32Array, b: Float32Array): string {
  const dir = tmp();
  writeFileSync(
    path.join(dir, WEIGHTS_FILE),
    encodeSafetensors(
      {
        'base_model.model.lin.lora_A.weight': { shape: [R, D_IN], data: a },
        'base_model.model.lin.lora_B.weight': { shape: [D_OUT, R], data: b },
      },
      { format: 'pt' },
    ),
  );
  writeFileSync(
    path.join(dir, CONFIG_FILE),
    JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 4, target_modules: ['lin'], bias: 'none' }),
  );
  return dir;
}

describe('PEFT-layout LoRA folder', () => {
  const a = Float32Array.from({ length: R * D_IN }, (_, i) => (i + 1) / 8);
  const b = Float32Array.from({ length: D_OUT * R }, (_, i) => -(i + 1) / 16);
  /** qpeft's variables are the transposes: lora_down[i][k] = A[k][i], lora_up[k][o] = B[o][k]. */
  const expectTransposed = (peft: PeftModel, adapter: string) => {
    const vars = new Map(
      peft.adapterLayers(adapter).flatMap(([, l]) => l.namedParameters().map(([n, v]) => [n, v])),
    );
    const down = vars.get('lora_down')!.dataSync();
    const up = vars.get('lora_up')!.dataSync();
    for (let i = 0; i < D_IN; i++) for (let k = 0; k < R; k++) expect(down[i * R + k]).toBe(a[k * D_IN + i]);
    for (let k = 0; k < R; k++) for (let o = 0; o < D_OUT; o++) expect(up[k * D_OUT + o]).toBe(b[o * R + k]);
  };
  const weightReads = () =>
    vi.mocked(loadSafetensors).mock.calls.filter(([f]) => path.basename(f) === WEIGHTS_FILE).length;

  it('loadPeftModel reads the weights file once', () => {
    const dir = peftFolder(a, b);
    vi.mocked(loadSafetensors).mockClear();
    const peft = loadPeftModel(new One(), dir);
    expect(weightReads()).toBe(1);
    expectTransposed(peft, 'default');
  });

  it('loadAdapter reads the weights file once', () => {
    const dir = peftFolder(a, b);
    const peft = new PeftModel(new One(), { method: 'lora', r: R, loraAlpha: 4, targetModules: ['lin'] });
    vi.mocked(loadSafetensors).mockClear();
    loadAdapter(peft, dir, 'other');
    expect(weightReads()).toBe(1);
    expectTransposed(peft, 'other');
  });
});
