/** Building blocks against closed forms and direct index arithmetic. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  causalMask,
  Embedding,
  gelu,
  LayerNorm,
  MultiHeadSelfAttention,
  patchify,
  seedStream,
} from '../../src/models/layers.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { values } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('layers', () => {
  it('LayerNorm gives zero mean and unit variance per row (scale 1, shift 0)', () => {
    const ln = new LayerNorm(8);
    const y = values(() =>
      ln.forward(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, -3, 0, 0, 0, 0, 0, 0, 9], [2, 8])),
    );
    for (const row of [y.subarray(0, 8), y.subarray(8)]) {
      const m = row.reduce((a, b) => a + b, 0) / 8;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 8;
      expect(Math.abs(m)).toBeLessThan(1e-6);
      expect(v).toBeCloseTo(1, 4);
    }
    ln.dispose();
  });

  it('GELU matches its tanh closed form', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
    const ref = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    const y = values(() => gelu(tf.tensor1d(xs)));
    xs.forEach((_, i) => {
      expect(y[i]).toBeCloseTo(ref[i]!, 6);
    });
  });

  it('GELU’s gradient matches central differences of the tanh closed form', () => {
    const xs = [-3, -1.2, -0.5, 0, 0.3, 1, 2.5];
    const f = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    const h = 1e-5;
    const ref = xs.map((x) => (f(x + h) - f(x - h)) / (2 * h));
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((x: tf.Tensor) => tf.sum(gelu(x)))(tf.tensor1d(xs))
          .dataSync(),
      ),
    );
    xs.forEach((_, i) => {
      expect(g[i]).toBeCloseTo(ref[i]!, 5);
    });
  });

  it('Embedding looks rows up by one-hot product and has a gradient on wasm', () => {
    const e = new Embedding(5, 3, 1);
    const w = e.weight.dataSync();
    const y = values(() => e.forward(tf.tensor2d([[4, 0]], [1, 2], 'int32')));
    expect(Array.from(y)).toEqual([...Array.from(w.subarray(12, 15)), ...Array.from(w.subarray(0, 3))]);
    const g = tf.tidy(() =>
      tf
        .variableGrads(() => e.forward(tf.tensor1d([2, 2], 'int32')).sum() as tf.Scalar, [e.weight])
        .grads[e.weight.name]!.dataSync(),
    );
    expect(Array.from(g)).toEqual([0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0]);
    expect(() => e.forward(tf.tensor1d([1]))).toThrow(/Embedding expects int32 ids, got float32/);
    e.dispose();
  });

  it('patchify cuts row-major p×p patches', () => {
    const img = tf.tensor3d(
      Float32Array.from({ length: 2 * 4 * 4 }, (_, i) => i),
      [2, 4, 4],
    );
    const p = patchify(img, 2);
    expect(p.shape).toEqual([2, 4, 4]);
    const v = p.dataSync();
    // image 1, patch 1 (top-right): pixels (0,2) (0,3) (1,2) (1,3) → 16 + 2, 3, 6, 7
    expect(Array.from(v.subarray(16 + 4, 16 + 8))).toEqual([18, 19, 22, 23]);
    expect(() => patchify(img, 3)).toThrow(/4×4 is not divisible by the patch size 3/);
    tf.dispose([img, p]);
  });

  it('the causal mask blocks only future keys', () => {
    expect(Array.from(values(() => causalMask(3)))).toEqual([0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0]);
  });

  it('attention names its projections and checks shapes', () => {
    const a = new MultiHeadSelfAttention(8, 2, false, seedStream(0));
    expect(a.namedModules().map(([n]) => n)).toEqual(['', 'query', 'key', 'value', 'output']);
    expect(values(() => a.forward(tf.randomNormal([3, 5, 8]))).length).toBe(3 * 5 * 8);
    expect(() => a.forward(tf.zeros([3, 8]))).toThrow(
      /attention expects \[batch, tokens, 8\], got shape \[3, 8\]/,
    );
    expect(() => new MultiHeadSelfAttention(8, 3, false, seedStream(0))).toThrow(
      /divisible by the number of heads, got 3 heads/,
    );
    a.dispose();
  });
});
