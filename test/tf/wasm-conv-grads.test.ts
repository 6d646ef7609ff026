/**
 * The convolution-gradient kernels registered for wasm (src/tf/wasm-conv-grads.ts) against a reference
 * written here: f(x, K) = Σ R ⊙ conv(x, K) is linear in x and in K, so ∂f/∂x[p] = f(e_p, K) and
 * ∂f/∂K[q] = f(x, e_q), computed with a float64 loop convolution (TF "same" padding: the extra row/column
 * goes to the bottom/right).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';

const N = 2;
const H = 5;
const W = 6;
const C = 3;
const KH = 3;

/** Σ R ⊙ conv(x, K) in float64; depthwise: K is [k, k, C, 1], else [k, k, C, O]. */
function objective(
  x: Float64Array,
  k: Float64Array,
  r: Float64Array,
  stride: number,
  out: number,
  depthwise: boolean,
): number {
  const oh = Math.ceil(H / stride);
  const ow = Math.ceil(W / stride);
  const pt = Math.floor(Math.max((oh - 1) * stride + KH - H, 0) / 2);
  const pl = Math.floor(Math.max((ow - 1) * stride + KH - W, 0) / 2);
  let f = 0;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < out; o++) {
          let s = 0;
          for (let di = 0; di < KH; di++)
            for (let dj = 0; dj < KH; dj++) {
              const yi = i * stride + di - pt;
              const xj = j * stride + dj - pl;
              if (yi < 0 || yi >= H || xj < 0 || xj >= W) continue;
              if (depthwise) s += x[((n * H + yi) * W + xj) * C + o]! * k[(di * KH + dj) * C + o]!;
              else
                for (let c = 0; c < C; c++)
                  s += x[((n * H + yi) * W + xj) * C + c]! * k[((di * KH + dj) * C + c) * out + o]!;
            }
          f += r[((n * oh + i) * ow + j) * out + o]! * s;
        }
  return f;
}

function gradByBasis(size: number, f: (e: Float64Array) => number): Float64Array {
  const g = new Float64Array(size);
  const e = new Float64Array(size);
  for (let p = 0; p < size; p++) {
    e[p] = 1;
    g[p] = f(e);
    e[p] = 0;
  }
  return g;
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});

describe.each([1, 2])('wasm convolution gradients, stride %i, same padding', (stride) => {
  const rng = createRng(5 + stride);
  const rand = (n: number) => Float64Array.from({ length: n }, () => rng.normal());

  it('depthwise conv: input and filter gradients', () => {
    const x = rand(N * H * W * C);
    const k = rand(KH * KH * C);
    const oh = Math.ceil(H / stride);
    const ow = Math.ceil(W / stride);
    const r = rand(N * oh * ow * C);
    const [gx, gk] = tf.tidy(() => {
      const R = tf.tensor4d(Float32Array.from(r), [N, oh, ow, C]);
      const g = tf.grads((xt: tf.Tensor, kt: tf.Tensor) =>
        tf
          .depthwiseConv2d(xt as tf.Tensor4D, kt as tf.Tensor4D, stride, 'same')
          .mul(R)
          .sum(),
      )([tf.tensor4d(Float32Array.from(x), [N, H, W, C]), tf.tensor4d(Float32Array.from(k), [KH, KH, C, 1])]);
      return g.map((t) => t.dataSync());
    });
    const refX = gradByBasis(x.length, (e) => objective(e, k, r, stride, C, true));
    const refK = gradByBasis(k.length, (e) => objective(x, e, r, stride, C, true));
    expect(maxErr(gx!, refX)).toBeLessThan(1e-4);
    expect(maxErr(gk!, refK)).toBeLessThan(1e-3);
  });

  it('conv2d: filter gradient', () => {
    const O = 4;
    const x = rand(N * H * W * C);
    const k = rand(KH * KH * C * O);
    const oh = Math.ceil(H / stride);
    const ow = Math.ceil(W / stride);
    const r = rand(N * oh * ow * O);
    const gk = tf.tidy(() => {
      const R = tf.tensor4d(Float32Array.from(r), [N, oh, ow, O]);
      const xt = tf.tensor4d(Float32Array.from(x), [N, H, W, C]);
      return tf
        .grad((kt: tf.Tensor) =>
          tf
            .conv2d(xt, kt as tf.Tensor4D, stride, 'same')
            .mul(R)
            .sum(),
        )(tf.tensor4d(Float32Array.from(k), [KH, KH, C, O]))
        .dataSync();
    });
    const refK = gradByBasis(k.length, (e) => objective(x, e, r, stride, O, false));
    expect(maxErr(gk, refK)).toBeLessThan(1e-3);
  });
});
