/**
 * The batch-norm gradient installed by initBackend (src/tf/fast-batchnorm.ts) against central finite
 * differences of f = Σ R ⊙ ((x − μ)·γ/√(σ² + ε) + β) evaluated in float64 here, for all five inputs.
 */
import { beforeAll, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';

const [N, H, W, C] = [2, 3, 2, 4];
const EPS = 1e-3;

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});

it('gradients of tf.batchNorm w.r.t. x, mean, variance, offset and scale match finite differences', () => {
  const rng = createRng(9);
  const rand = (n: number, f: () => number) => Float64Array.from({ length: n }, f);
  const x = rand(N * H * W * C, () => rng.normal());
  const r = rand(N * H * W * C, () => rng.normal());
  const mean = rand(C, () => rng.normal());
  const variance = rand(C, () => 0.5 + Math.abs(rng.normal()));
  const offset = rand(C, () => rng.normal());
  const scale = rand(C, () => rng.normal());
  const f = (xs: Float64Array, m: Float64Array, v: Float64Array, o: Float64Array, s: Float64Array) => {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) {
      const c = i % C;
      sum += r[i]! * (((xs[i]! - m[c]!) * s[c]!) / Math.sqrt(v[c]! + EPS) + o[c]!);
    }
    return sum;
  };
  const args = [x, mean, variance, offset, scale];
  const fd = args.map((a, k) =>
    Float64Array.from(a, (_, i) => {
      const h = 1e-5;
      const plus = args.map((b, j) => (j === k ? Float64Array.from(b, (t, q) => (q === i ? t + h : t)) : b));
      const minus = args.map((b, j) => (j === k ? Float64Array.from(b, (t, q) => (q === i ? t - h : t)) : b));
      return (
        (f(...(plus as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array])) -
          f(...(minus as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array]))) /
        (2 * h)
      );
    }),
  );
  const grads = tf.tidy(() => {
    const R = tf.tensor4d(Float32Array.from(r), [N, H, W, C]);
    const g = tf.grads((xt, mt, vt, ot, st) =>
      tf
        .batchNorm(
          xt as tf.Tensor4D,
          mt as tf.Tensor1D,
          vt as tf.Tensor1D,
          ot as tf.Tensor1D,
          st as tf.Tensor1D,
          EPS,
        )
        .mul(R)
        .sum(),
    )([
      tf.tensor4d(Float32Array.from(x), [N, H, W, C]),
      tf.tensor1d(Float32Array.from(mean)),
      tf.tensor1d(Float32Array.from(variance)),
      tf.tensor1d(Float32Array.from(offset)),
      tf.tensor1d(Float32Array.from(scale)),
    ]);
    return g.map((t) => t.dataSync());
  });
  for (const [k, g] of grads.entries()) {
    let err = 0;
    for (let i = 0; i < g.length; i++) err = Math.max(err, Math.abs(g[i]! - fd[k]![i]!));
    expect(err, `input ${k}`).toBeLessThan(1e-3);
  }
});
