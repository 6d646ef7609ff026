// The fused layer norm, GELU, attention core and dense layer (src/tf/fused-ops.ts): values against float64
// loops written here, gradients against central differences of those loops, and both against tfjs's own
// autodiff of the composite ops. Skipped, with the reason printed, where the addon or OpenBLAS is absent;
// a failure in CI with OpenBLAS installed, and wherever the addon is older than its sources
// (wasm-probe.ts nativePathOrSkip).
import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tf/backend.ts';
import {
  attention,
  attentionComposite,
  fusedKernelsActive,
  gelu,
  geluComposite,
  layerNorm,
  layerNormComposite,
  linear,
  linearComposite,
  lowRankUpdate,
  lowRankUpdateComposite,
  useFusedKernels,
} from '../../src/tf/fused-ops.ts';
import { nativeAddon, nativeAddonStatus } from '../../src/tf/native-addon.ts';
import { nativeMatMulActive, nativeMatMulStatus } from '../../src/tf/native-matmul.ts';
import { nativePathOrSkip, relErr } from './wasm-probe.ts';

await initBackend('wasm');
const active = nativePathOrSkip(
  'the fused kernels',
  fusedKernelsActive() && nativeMatMulActive(),
  nativeAddonStatus() ?? nativeMatMulStatus() ?? 'turned off (QPEFT_FUSED=0)',
  'QPEFT_FUSED',
);

/** Deterministic values in (−scale, scale), exact float32s. */
const fill = (len: number, seed: number, scale = 1) =>
  Float64Array.from({ length: len }, (_, i) =>
    Math.fround(scale * Math.sin(0.71 * i + seed) * Math.cos(0.23 * i * seed + 0.5)),
  );

const f32 = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);

// ---- float64 references --------------------------------------------------------------------------------

function refLayerNorm(
  x: Float64Array,
  d: number,
  g: Float64Array,
  b: Float64Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[r * d + j]! / d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j]! - mean) ** 2 / d;
    for (let j = 0; j < d; j++) y[r * d + j] = ((x[r * d + j]! - mean) / Math.sqrt(v + eps)) * g[j]! + b[j]!;
  }
  return y;
}

/** GELU in its textbook tanh form (the kernel computes x·σ(2z)). */
const refGelu = (x: Float64Array) =>
  x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));

function refAttention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  [b, t, h, dh]: [number, number, number, number],
  causal: boolean,
): Float64Array {
  const dim = h * dh;
  const out = new Float64Array(q.length);
  const at = (a: Float64Array, bi: number, ti: number, hi: number, j: number) =>
    a[(bi * t + ti) * dim + hi * dh + j]!;
  for (let bi = 0; bi < b; bi++)
    for (let hi = 0; hi < h; hi++)
      for (let i = 0; i < t; i++) {
        const s: number[] = [];
        for (let j = 0; j < t; j++) {
          let dot = 0;
          for (let c = 0; c < dh; c++) dot += at(q, bi, i, hi, c) * at(k, bi, j, hi, c);
          s.push(causal && j > i ? Number.NEGATIVE_INFINITY : dot / Math.sqrt(dh));
        }
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const sum = e.reduce((x, y) => x + y, 0);
        for (let c = 0; c < dh; c++) {
          let acc = 0;
          for (let j = 0; j < t; j++) acc += (e[j]! / sum) * at(v, bi, j, hi, c);
          out[(bi * t + i) * dim + hi * dh + c] = acc;
        }
      }
  return out;
}

function refLinear(x: Float64Array, din: number, w: Float64Array, dout: number, bias: Float64Array | null) {
  const rows = x.length / din;
  const y = new Float64Array(rows * dout);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < dout; j++) {
      let s = bias ? bias[j]! : 0;
      for (let i = 0; i < din; i++) s += x[r * din + i]! * w[i * dout + j]!;
      y[r * dout + j] = s;
    }
  return y;
}

/**
 * Central differences of L = Σ f(inputs)·R in float64 with respect to input `which`; `f` is a reference
 * above. Compared with tfjs's gradient of the same L through the op under test.
 */
function numericGrad(
  f: (xs: Float64Array[]) => Float64Array,
  xs: Float64Array[],
  which: number,
  r: Float64Array,
) {
  const h = 1e-6;
  const g = new Float64Array(xs[which]!.length);
  const loss = () => f(xs).reduce((acc, y, i) => acc + y * r[i]!, 0);
  for (let i = 0; i < g.length; i++) {
    const keep = xs[which]![i]!;
    xs[which]![i] = keep + h;
    const up = loss();
    xs[which]![i] = keep - h;
    const down = loss();
    xs[which]![i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** tfjs's gradients of Σ op(inputs)·R with respect to every input. */
function tfGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: tf.Tensor): Float32Array[] {
  return tf.tidy(() =>
    tf
      .grads((...a: tf.Tensor[]) => tf.sum(tf.mul(op(...a), r)))(xs)
      .map((g) => g.dataSync() as Float32Array),
  );
}

/** The kernel names one call of `f` runs. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => {
    f().dispose();
  });
  return info.kernels.map((k) => k.name);
}

describe.skipIf(!active)('fused ops on wasm (values, gradients, paths)', () => {
  it('layer norm equals float64 loops; its three gradients equal central differences', async () => {
    const [rows, d, eps] = [6, 8, 1e-5];
    const x = fill(rows * d, 1, 2);
    const g = fill(d, 2);
    const b = fill(d, 3);
    const r = fill(rows * d, 4);
    const y = tf.tidy(() => layerNorm(f32(x, [2, 3, d]), f32(g, [d]), f32(b, [d]), eps).dataSync());
    expect(relErr(y, refLayerNorm(x, d, g, b, eps))).toBeLessThan(2e-6);
    const grads = tfGrads(
      (xx, gg, bb) => layerNorm(xx!, gg!, bb!, eps),
      [f32(x, [2, 3, d]), f32(g, [d]), f32(b, [d])],
      f32(r, [2, 3, d]),
    );
    const f = ([xx, gg, bb]: Float64Array[]) => refLayerNorm(xx!, d, gg!, bb!, eps);
    for (let i = 0; i < 3; i++) expect(relErr(grads[i]!, numericGrad(f, [x, g, b], i, r))).toBeLessThan(1e-4);
    expect(await kernelsOf(() => layerNorm(f32(x, [rows, d]), f32(g, [d]), f32(b, [d]), eps))).toContain(
      'QpeftLayerNorm',
    );
  });

  it('GELU equals the tanh form in float64; its gradient equals central differences', async () => {
    const x = fill(200, 5, 6);
    const r = fill(200, 6);
    const y = tf.tidy(() => gelu(f32(x, [10, 20])).dataSync());
    expect(relErr(y, refGelu(x))).toBeLessThan(2e-6);
    const [gx] = tfGrads((xx) => gelu(xx!), [f32(x, [10, 20])], f32(r, [10, 20]));
    expect(
      relErr(
        gx!,
        numericGrad(([xx]) => refGelu(xx!), [x], 0, r),
      ),
    ).toBeLessThan(1e-4);
    // Far tails: σ saturates without overflow or NaN.
    const tails = tf.tidy(() => gelu(tf.tensor1d([-200, -30, 30, 200])).dataSync());
    expect(Array.from(tails)).toEqual([-0, -0, 30, 200].map((v) => expect.closeTo(v, 5)));
    expect(await kernelsOf(() => gelu(f32(x, [200])))).toContain('QpeftGelu');
  });

  for (const causal of [false, true]) {
    it(`attention core (${causal ? 'causal' : 'full'}) equals float64 loops; dq, dk, dv equal central differences`, async () => {
      const dims: [number, number, number, number] = [2, 5, 2, 3];
      const [b, t, h, dh] = dims;
      const n = b * t * h * dh;
      const shape = [b, t, h * dh];
      const [q, k, v, r] = [fill(n, 7, 2), fill(n, 8, 2), fill(n, 9), fill(n, 10)];
      const y = tf.tidy(() => attention(f32(q, shape), f32(k, shape), f32(v, shape), h, causal).dataSync());
      expect(relErr(y, refAttention(q, k, v, dims, causal))).toBeLessThan(2e-6);
      const grads = tfGrads(
        (qq, kk, vv) => attention(qq!, kk!, vv!, h, causal),
        [f32(q, shape), f32(k, shape), f32(v, shape)],
        f32(r, shape),
      );
      const f = ([qq, kk, vv]: Float64Array[]) => refAttention(qq!, kk!, vv!, dims, causal);
      for (let i = 0; i < 3; i++)
        expect(relErr(grads[i]!, numericGrad(f, [q, k, v], i, r))).toBeLessThan(1e-4);
      expect(
        await kernelsOf(() => attention(f32(q, shape), f32(k, shape), f32(v, shape), h, causal)),
      ).toContain('QpeftAttention');
    });
  }

  for (const withBias of [true, false]) {
    it(`dense layer (${withBias ? 'with' : 'without'} bias, 3-d input) equals float64 loops and central differences`, async () => {
      const [din, dout] = [7, 5];
      const x = fill(3 * 4 * din, 11, 2);
      const w = fill(din * dout, 12);
      const bias = withBias ? fill(dout, 13) : null;
      const r = fill(3 * 4 * dout, 14);
      const xs = [f32(x, [3, 4, din]), f32(w, [din, dout]), ...(bias ? [f32(bias, [dout])] : [])];
      const y = tf.tidy(() => linear(xs[0]!, xs[1]!, xs[2] ?? null));
      expect(y.shape).toEqual([3, 4, dout]);
      expect(relErr(y.dataSync(), refLinear(x, din, w, dout, bias))).toBeLessThan(2e-6);
      y.dispose();
      const grads = tfGrads((xx, ww, bb) => linear(xx!, ww!, bb ?? null), xs, f32(r, [3, 4, dout]));
      const f = ([xx, ww, bb]: Float64Array[]) => refLinear(xx!, din, ww!, dout, bb ?? null);
      const inputs = [x, w, ...(bias ? [bias] : [])];
      for (let i = 0; i < inputs.length; i++)
        expect(relErr(grads[i]!, numericGrad(f, inputs, i, r))).toBeLessThan(1e-4);
      expect(await kernelsOf(() => linear(xs[0]!, xs[1]!, xs[2] ?? null))).toEqual(['QpeftLinear']);
    });
  }

  it('low-rank update (LoRA) equals float64 loops; its four gradients equal central differences', async () => {
    const [rows, din, r, dout, s] = [6, 5, 3, 4, 0.75];
    const x = fill(rows * din, 33, 2);
    const base = fill(rows * dout, 34);
    const down = fill(din * r, 35);
    const up = fill(r * dout, 36);
    const rr = fill(rows * dout, 37);
    const ref = ([xx, bb, dd, uu]: Float64Array[]) => {
      const h = refLinear(xx!, din, dd!, r, null).map((v) => v * s);
      return refLinear(h, r, uu!, dout, null).map((v, i) => v + bb![i]!);
    };
    const shapes = [
      [rows, din],
      [rows, dout],
      [din, r],
      [r, dout],
    ];
    const inputs = [x, base, down, up];
    const ts = inputs.map((a, i) => f32(a, shapes[i]!));
    const op = (xx?: tf.Tensor, bb?: tf.Tensor, dd?: tf.Tensor, uu?: tf.Tensor) =>
      lowRankUpdate(xx as tf.Tensor2D, bb as tf.Tensor2D, dd as tf.Tensor2D, uu as tf.Tensor2D, s);
    const y = tf.tidy(() => op(...ts).dataSync());
    expect(relErr(y, ref(inputs))).toBeLessThan(2e-6);
    const grads = tfGrads(op, ts, f32(rr, [rows, dout]));
    for (let i = 0; i < 4; i++) expect(relErr(grads[i]!, numericGrad(ref, inputs, i, rr))).toBeLessThan(1e-4);
    const composite = tfGrads(
      (xx, bb, dd, uu) =>
        lowRankUpdateComposite(xx as tf.Tensor2D, bb as tf.Tensor2D, dd as tf.Tensor2D, uu as tf.Tensor2D, s),
      ts,
      f32(rr, [rows, dout]),
    );
    for (let i = 0; i < 4; i++) expect(relErr(grads[i]!, composite[i]!)).toBeLessThan(1e-5);
    expect(await kernelsOf(() => op(...ts))).toEqual(['QpeftLowRank']);
  });

  it('a frozen weight costs no gradient product: only dx is computed', async () => {
    const x = tf.variable(f32(fill(8 * 6, 15), [8, 6]));
    const w = f32(fill(6 * 4, 16), [6, 4]);
    const bias = f32(fill(4, 17), [4]);
    const info = await tf.profile(() => {
      const { grads } = tf.variableGrads(() => tf.sum(linear(x, w, bias)) as tf.Scalar, [x]);
      for (const g of Object.values(grads)) g.dispose();
    });
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('QpeftLinearGradX');
    expect(names).not.toContain('QpeftLinearGradW');
    expect(names).not.toContain('QpeftColumnSums');
    x.dispose();
  });

  it('at the ViT shapes the fused ops equal tfjs autodiff of the composite ops (values and gradients)', () => {
    const shape = [32, 17, 64];
    const n = 32 * 17 * 64;
    const xs = [fill(n, 18, 2), fill(n, 19, 2), fill(n, 20, 2)].map((a) => f32(a, shape));
    const g = f32(fill(64, 21), [64]);
    const be = f32(fill(64, 22), [64]);
    const w = f32(fill(64 * 128, 23, 0.2), [64, 128]);
    const bias = f32(fill(128, 24), [128]);
    const r64 = f32(fill(n, 25), shape);
    const r128 = f32(fill(2 * n, 26), [32, 17, 128]);
    const cases: [
      string,
      (...a: tf.Tensor[]) => tf.Tensor,
      (...a: tf.Tensor[]) => tf.Tensor,
      tf.Tensor[],
      tf.Tensor,
    ][] = [
      [
        'layer norm',
        (x, gg, bb) => layerNorm(x!, gg!, bb!, 1e-5),
        (x, gg, bb) => layerNormComposite(x!, gg!, bb!, 1e-5),
        [xs[0]!, g, be],
        r64,
      ],
      ['gelu', (x) => gelu(x!), (x) => geluComposite(x!), [xs[0]!], r64],
      [
        'attention',
        (q, k, v) => attention(q!, k!, v!, 4, false),
        (q, k, v) => attentionComposite(q!, k!, v!, 4, false),
        xs,
        r64,
      ],
      [
        'causal attention',
        (q, k, v) => attention(q!, k!, v!, 4, true),
        (q, k, v) => attentionComposite(q!, k!, v!, 4, true),
        xs,
        r64,
      ],
      [
        'linear',
        (x, ww, bb) => linear(x!, ww!, bb!),
        (x, ww, bb) => linearComposite(x!, ww!, bb!),
        [xs[0]!, w, bias],
        r128,
      ],
    ];
    for (const [name, fused, composite, inputs, r] of cases) {
      const valueWith = (op: (...a: tf.Tensor[]) => tf.Tensor) => tf.tidy(() => op(...inputs).dataSync());
      const fv = valueWith(fused);
      const cv = valueWith(composite);
      expect(relErr(fv, cv), `${name} value`).toBeLessThan(1e-5);
      const fg = tfGrads(fused, inputs, r);
      const cg = tfGrads(composite, inputs, r);
      for (let i = 0; i < inputs.length; i++)
        expect(relErr(fg[i]!, cg[i]!), `${name} gradient ${i}`).toBeLessThan(1e-4);
    }
  });

  it('useFusedKernels(false) switches every op to its composite path and back', async () => {
    const x = f32(fill(64, 27), [4, 16]);
    const w = f32(fill(16 * 8, 28), [16, 8]);
    expect(useFusedKernels(false)).toBe(true);
    try {
      expect(fusedKernelsActive()).toBe(false);
      const names = await kernelsOf(() => linear(x, w, null));
      expect(names).toContain('BatchMatMul');
      expect(names.some((k) => k.startsWith('Qpeft'))).toBe(false);
    } finally {
      useFusedKernels(true);
    }
    expect(fusedKernelsActive()).toBe(true);
  });

  it('runs no tensors out: a recorded training step leaves the tensor count as it was', () => {
    const vars = [tf.variable(f32(fill(64 * 64, 29, 0.2), [64, 64])), tf.variable(f32(fill(64, 30), [64]))];
    const x = f32(fill(2 * 5 * 64, 31), [2, 5, 64]);
    const g = f32(fill(64, 32), [64]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => {
        const h = linear(layerNorm(x, g, vars[1]!, 1e-5), vars[0]!, vars[1]!);
        return tf.sum(attention(gelu(h), h, h, 4, true)) as tf.Scalar;
      }, vars);
      value.dispose();
      for (const t of Object.values(grads)) t.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the addon's kernels refuse arrays shorter than their sizes and non-integer sizes", () => {
    const a = nativeAddon()!;
    const buf = (n: number) => new Float32Array(n);
    expect(() => a.layerNorm(4, 8, 1e-5, buf(31), buf(8), buf(8), buf(32))).toThrow(/shorter/);
    expect(() => a.layerNormGrad(4, 8, 1e-5, buf(32), buf(32), buf(8), buf(32), buf(7), buf(8))).toThrow(
      /shorter/,
    );
    expect(() => a.gelu(10, buf(10), buf(9))).toThrow(/shorter/);
    expect(() => a.geluGrad(2.5, buf(10), buf(10), buf(10))).toThrow(/integers/);
    expect(() => a.attention(2, 3, 2, 2, false, buf(24), buf(24), buf(24), buf(24), buf(35))).toThrow(
      /shorter/,
    );
    expect(() =>
      a.attentionGrad(2, 3, 2, 2, buf(24), buf(24), buf(24), buf(23), buf(36), buf(24), buf(24), buf(24)),
    ).toThrow(/shorter/);
    expect(() => a.linear(3, 4, 2, buf(12), buf(8), buf(1), buf(6))).toThrow(/shorter/);
    expect(() => a.linear(3, 4, 2, buf(12), buf(7), null, buf(6))).toThrow(/shorter/);
    expect(() => a.lowRank(3, 4, 2, 5, 1, buf(12), buf(8), buf(10), buf(15), buf(6), buf(14))).toThrow(
      /shorter/,
    );
    expect(() => a.lowRank(3, 4, 2, 5, 1, buf(12), buf(8), buf(9), buf(15), buf(6), buf(15))).toThrow(
      /shorter/,
    );
    expect(() => a.colSums(3, 4, buf(12), new Float64Array(4) as unknown as Float32Array)).toThrow(
      /Float32Array/,
    );
    expect(() => a.gelu(-1, buf(1), buf(1))).toThrow(/integers/);
  });
});

describe('fused ops: shapes are checked before any kernel runs (on every path)', () => {
  it('names the op, what it expected and the shapes given', () => {
    const z = (...shape: number[]) => tf.zeros(shape);
    expect(() => layerNorm(z(2, 8), z(4), z(8), 1e-5)).toThrow(
      /layerNorm expects gamma and beta of shape \[d\] for x \[\.\.\., d\], got x \[2, 8\], gamma \[4\], beta \[8\]/,
    );
    expect(() => attention(z(2, 3, 6), z(2, 3, 6), z(2, 3, 6), 4, false)).toThrow(
      /attention expects .* with 4 heads/,
    );
    expect(() => attention(z(2, 3, 6), z(2, 4, 6), z(2, 3, 6), 2, false)).toThrow(/k \[2, 4, 6\]/);
    expect(() => linear(z(3, 5), z(4, 2), null)).toThrow(
      /linear expects x \[\.\.\., d_in\], W \[d_in, d_out\]/,
    );
    expect(() => linear(z(3, 4), z(4, 2), z(3))).toThrow(/bias \[3\]/);
    expect(() =>
      lowRankUpdate(
        z(3, 4) as tf.Tensor2D,
        z(3, 5) as tf.Tensor2D,
        z(4, 2) as tf.Tensor2D,
        z(3, 5) as tf.Tensor2D,
        1,
      ),
    ).toThrow(/lowRankUpdate expects .* up \[3, 5\]/);
  });
});
