/** The ViT: shapes, module names adapters target, gradients to every parameter, save → load, resetHead. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../src/models/checkpoint.ts';
import { crossEntropy } from '../../src/models/losses.ts';
import { ViT } from '../../src/models/vit.ts';
import { Linear } from '../../src/nn/linear.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { parametersWithoutGradient, values } from './helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-vit-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ViT', () => {
  it('maps images to class logits and exposes named Linear projections', () => {
    const m = new ViT({ dim: 32, depth: 2, heads: 4, mlpDim: 64 });
    const start = tf.memory().numTensors;
    for (const shape of [
      [3, 28, 28],
      [3, 28, 28, 1],
      [3, 784],
    ]) {
      const y = tf.tidy(() => m.forward(tf.zeros(shape)));
      expect(y.shape).toEqual([3, 10]);
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
    const linears = m
      .namedModules()
      .filter(([, x]) => x instanceof Linear)
      .map(([n]) => n);
    expect(linears).toEqual([
      'patchEmbed',
      ...[0, 1].flatMap((i) =>
        ['query', 'key', 'value', 'output']
          .map((p) => `blocks.${i}.attn.${p}`)
          .concat([`blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc2`]),
      ),
      'head',
    ]);
    expect(() => m.forward(tf.zeros([2, 27, 27]))).toThrow(
      /ViT expects images \[batch, 28, 28\] \(or flattened \[batch, 784\]\), got shape \[2, 27, 27\]/,
    );
    m.dispose();
  });

  it('validates its config', () => {
    expect(() => new ViT({ patchSize: 5 })).toThrow(/imageSize 28 must be divisible by patchSize, got 5/);
    expect(() => new ViT({ dim: 30, heads: 4 })).toThrow(/dim 30 must be divisible by heads, got 4/);
    expect(() => new ViT({ depht: 2 } as never)).toThrow(/unknown ViT config keys: depht/);
  });

  for (const pooling of ['cls', 'mean'] as const) {
    it(`sends a gradient to every parameter (${pooling} pooling)`, () => {
      const m = new ViT({ dim: 16, depth: 2, heads: 2, mlpDim: 32, pooling });
      const x = tf.randomUniform([4, 28, 28], 0, 1, 'float32', 1);
      const y = tf.tensor1d([1, 2, 3, 4], 'int32');
      expect(parametersWithoutGradient(m, () => crossEntropy(m.forward(x), y))).toEqual([]);
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('is seeded, and save → load gives identical outputs', () => {
    const a = new ViT({ dim: 32, depth: 2, seed: 5 });
    const b = new ViT({ dim: 32, depth: 2, seed: 5 });
    const c = new ViT({ dim: 32, depth: 2, seed: 6 });
    const x = tf.randomUniform([2, 28, 28], 0, 1, 'float32', 2);
    expect(values(() => a.forward(x))).toEqual(values(() => b.forward(x)));
    expect(values(() => a.forward(x))).not.toEqual(values(() => c.forward(x)));
    saveModel(path.join(dir, 'v'), c);
    const d = loadModel(path.join(dir, 'v'));
    expect(d.kind).toBe('vit');
    expect(d.config).toEqual(c.config);
    expect(values(() => d.forward(x))).toEqual(values(() => c.forward(x)));
    for (const m of [a, b, c, d]) m.dispose();
    x.dispose();
  });

  it('replaces its head for a new label set', () => {
    const m = new ViT({ dim: 16, depth: 1, heads: 2 });
    const before = tf.memory().numTensors;
    m.resetHead(3);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.config.numClasses).toBe(3);
    expect(values(() => m.forward(tf.zeros([2, 28, 28]))).length).toBe(6);
    m.dispose();
  });
});
