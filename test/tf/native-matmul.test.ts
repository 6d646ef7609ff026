// The wasm backend's matMul on OpenBLAS (src/tf/native-matmul.ts) and its shared Identity and Cast
// (src/tf/wasm-share.ts), checked against float64 loops written here. Skipped, with the reason printed,
// where the addon or OpenBLAS is absent; a failure in CI with OpenBLAS installed (scripts/setup-apt.sh; `npm ci`
// builds the addon) and wherever the addon is older than its sources (wasm-probe.ts nativePathOrSkip).
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeBackend, initBackend, tf } from '../../src/tf/backend.ts';
import { useFusedKernels } from '../../src/tf/fused-ops.ts';
import { nativeMatMulActive, nativeMatMulStatus } from '../../src/tf/native-matmul.ts';
import { fusedBlock, maxAbsDiff, nativePathOrSkip, probe, ROOT, reference, relErr } from './wasm-probe.ts';

const ADDON = path.join(ROOT, 'native/blas/build/Release/qpeft_blas.node');

await initBackend('wasm');
const active = nativePathOrSkip(
  'the native matMul',
  nativeMatMulActive(),
  nativeMatMulStatus(),
  'QPEFT_BLAS',
);

/** A deterministic, sign-mixed fill whose values are exact float32s. */
const fill = (len: number, seed: number) =>
  Float64Array.from({ length: len }, (_, i) =>
    Math.fround(Math.sin(0.37 * i + seed) * Math.cos(0.13 * i + 2 * seed)),
  );

/** float64 reference of tfjs's matMul semantics: batch dims flattened, size-1 batches broadcast. */
function refMatMul(
  a: Float64Array,
  aShape: number[],
  b: Float64Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const n = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  const batchA = aShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = bShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const oa = (batchA === 1 ? 0 : p) * m * k;
    const ob = (batchB === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const av = ta ? a[oa + t * m + i]! : a[oa + i * k + t]!;
          const bv = tb ? b[ob + j * k + t]! : b[ob + t * n + j]!;
          s += av * bv;
        }
        out[p * m * n + i * n + j] = s;
      }
  }
  return out;
}

describe.skipIf(!active)('matMul on OpenBLAS (wasm backend)', () => {
  beforeAll(() => {
    expect(describeBackend()).toMatch(/^wasm \(\d threads?\) \+ OpenBLAS matMul \(\d threads?\)$/);
  });

  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[7, 13], [13, 5], false, false],
    [[13, 7], [13, 5], true, false],
    [[7, 13], [5, 13], false, true],
    [[13, 7], [5, 13], true, true],
    [[1, 1], [1, 1], false, false],
    [[3, 6, 4], [3, 4, 9], false, false], // equal batches
    [[2, 3, 4, 6], [2, 3, 9, 4], true, true], // rank 4, both transposed
    [[1, 6, 4], [5, 4, 9], false, false], // a broadcast over b's batch
    [[5, 6, 4], [4, 9], false, false], // b (rank 2) broadcast over a's batch
    [[64, 200], [200, 96], false, false], // large enough for OpenBLAS's blocked kernels
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    it(`[${aShape}]${ta ? 'ᵀ' : ''} · [${bShape}]${tb ? 'ᵀ' : ''} equals a float64 loop`, () => {
      const av = fill(
        aShape.reduce((x, y) => x * y, 1),
        1,
      );
      const bv = fill(
        bShape.reduce((x, y) => x * y, 1),
        2,
      );
      const got = tf.tidy(() =>
        tf.matMul(tf.tensor(Float32Array.from(av), aShape), tf.tensor(Float32Array.from(bv), bShape), ta, tb),
      );
      const want = refMatMul(av, aShape, bv, bShape, ta, tb);
      expect(got.size).toBe(want.length);
      // float32 accumulation over k terms: a few ulps per term at most
      expect(relErr(got.dataSync(), want)).toBeLessThan(1e-5);
      got.dispose();
    });
  }

  it('the gradient of Σ tanh(a·bᵀ)² equals the float64 chain rule', () => {
    const [m, k, n] = [9, 11, 6];
    const av = fill(m * k, 3);
    const bv = fill(n * k, 4);
    const a = tf.tensor2d(Float32Array.from(av), [m, k]);
    const b = tf.tensor2d(Float32Array.from(bv), [n, k]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.square(tf.tanh(tf.matMul(x, y, false, true)))),
    )([a, b]);
    const y = refMatMul(av, [m, k], bv, [n, k], false, true);
    const g = y.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)); // ∂L/∂y, m×n
    const wantA = refMatMul(g, [m, n], bv, [n, k], false, false); // g·b
    const wantB = refMatMul(g, [m, n], av, [m, k], true, false); // gᵀ·a
    expect(relErr(ga!.dataSync(), wantA)).toBeLessThan(1e-5);
    expect(relErr(gb!.dataSync(), wantB)).toBeLessThan(1e-5);
    tf.dispose([a, b, ga!, gb!]);
  });

  it('what it does not handle goes to tfjs with tfjs’s own errors', () => {
    const a = tf.ones([2, 3]);
    const b = tf.ones([4, 5]);
    expect(() => tf.matMul(a, b)).toThrow(/inner shapes \(3\) and \(4\)/);
    // empty products take the package's kernel
    const e = tf.matMul(tf.zeros([0, 3]), tf.ones([3, 2]));
    expect(e.shape).toEqual([0, 2]);
    tf.dispose([a, b, e]);
  });

  it('the addon checks every extent before OpenBLAS reads or writes', () => {
    const require = createRequire(import.meta.url);
    const blas = require(ADDON) as {
      gemm: (...args: unknown[]) => void;
    };
    const a = new Float32Array(6);
    const b = new Float32Array(6);
    const c = new Float32Array(4);
    expect(() => blas.gemm(false, false, 1, 2, 2, 3, a, 0, b, 0, c)).not.toThrow();
    expect(() => blas.gemm(false, false, 1, 2, 2, 3, a.subarray(1), 0, b, 0, c)).toThrow(/a is shorter/);
    expect(() => blas.gemm(false, false, 2, 2, 2, 3, a, 0, b, 0, c)).toThrow(/c is shorter/);
    expect(() => blas.gemm(false, false, 2, 2, 2, 3, a, 0, b, 6, new Float32Array(8))).toThrow(
      /b is shorter/,
    );
    expect(() => blas.gemm(false, false, 1, 2.5, 2, 3, a, 0, b, 0, c)).toThrow(/integers/);
    expect(() => blas.gemm(false, false, 1, 2, 2, 3, a, 0, new Float64Array(6), 0, c)).toThrow(
      /Float32Arrays/,
    );
  });

  it('with 2 threads (threaded wasm + OpenBLAS) the probe equals the float64 reference', () => {
    const two = probe('2', '1');
    expect(two.describe).toBe('wasm (2 threads) + OpenBLAS matMul (2 threads)');
    const ref = reference();
    expect(maxAbsDiff(two.product, ref.product)).toBeLessThan(1e-4);
    expect(maxAbsDiff(two.grad, ref.grad)).toBeLessThan(1e-3);
    // The fused kernels on the threaded build's shared heap equal tfjs's autodiff of the composite ops here.
    expect(two.fused).toBe(true);
    const block = fusedBlock();
    const was = useFusedKernels(false);
    try {
      expect(two.blockValue).toBeCloseTo(block.loss(block.x).dataSync()[0]!, 4);
      expect(relErr(two.blockGrad, tf.grad(block.loss)(block.x).dataSync())).toBeLessThan(1e-5);
    } finally {
      useFusedKernels(was);
    }
  }, 300_000);
});

describe('shared Identity and Cast (wasm)', () => {
  it('a clone outlives its source and keeps its values when a variable it came from is reassigned', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(x);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    const v = tf.variable(tf.tensor1d([4, 5]));
    const snap = tf.clone(v);
    v.assign(tf.tensor1d([6, 7]));
    expect(Array.from(snap.dataSync())).toEqual([4, 5]);
    expect(Array.from(v.dataSync())).toEqual([6, 7]);
    tf.dispose([c, v, snap]);
  });

  it('a float32→float32 cast shares its data; real conversions still convert', () => {
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const before = tf.memory().numDataBuffers;
    const same = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(before);
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3]);
    const i = tf.cast(same, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3]);
    const f = tf.cast(tf.tensor1d([7, -8], 'int32'), 'float32');
    expect(Array.from(f.dataSync())).toEqual([7, -8]);
    tf.dispose([same, i, f]);
  });

  it('recording gradients of a product no longer copies its saved inputs', () => {
    const a = tf.randomNormal([256, 256]);
    const b = tf.variable(tf.randomNormal([256, 256]));
    const before = tf.memory().numDataBuffers;
    let during = 0;
    tf.tidy(() => {
      tf.variableGrads(() => {
        const y = tf.matMul(a, b); // the engine saves a and b for the backward pass here
        during = tf.memory().numDataBuffers - before;
        return tf.sum(y) as tf.Scalar;
      }, [b]);
    });
    // Only the product is a new buffer; tfjs-backend-wasm's own Identity made two more (copies of a and b).
    expect(during).toBe(1);
    tf.dispose([a, b]);
  });
});
