/** AdamW against its update formula written out by hand; state round trip; the fast matMul gradient. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, warmupCosine } from '../../src/models/optim.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { installFastMatMulGradient } from '../../src/tf/fast-matmul.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('AdamW', () => {
  it('matches the decoupled-weight-decay Adam update for two steps', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = new AdamW(
      [
        ['w', w],
        ['b', b],
      ],
      { weightDecay: 0.1 },
    );
    const gs = [
      [0.3, -0.4, 1],
      [-0.1, 0.2, -2],
    ];
    const ref = { w: [1, -2], b: [0.5], m: [0, 0, 0], v: [0, 0, 0] };
    gs.forEach((g, k) => {
      const grads = { [w.name]: tf.tensor2d([[g[0]!, g[1]!]]), [b.name]: tf.tensor1d([g[2]!]) };
      const norm = opt.apply(grads, 0.01);
      expect(norm).toBeCloseTo(Math.hypot(...g), 5);
      tf.dispose(Object.values(grads));
      const t = k + 1;
      const p = [...ref.w, ...ref.b];
      for (let i = 0; i < 3; i++) {
        ref.m[i] = 0.9 * ref.m[i]! + 0.1 * g[i]!;
        ref.v[i] = 0.999 * ref.v[i]! + 0.001 * g[i]! ** 2;
        const upd =
          ref.m[i]! / (1 - 0.9 ** t) / (Math.sqrt(ref.v[i]! / (1 - 0.999 ** t)) + 1e-8) +
          (i < 2 ? 0.1 * p[i]! : 0);
        p[i] = p[i]! - 0.01 * upd;
      }
      ref.w = p.slice(0, 2);
      ref.b = p.slice(2);
    });
    Array.from(w.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(ref.w[i]!, 6);
    });
    expect(b.dataSync()[0]).toBeCloseTo(ref.b[0]!, 6);

    const copy = new AdamW(
      [
        ['w', w],
        ['b', b],
      ],
      { weightDecay: 0.1 },
    );
    copy.loadStateDict(opt.stateDict());
    expect(copy.stateDict()).toEqual(opt.stateDict());
    expect(copy.step).toBe(2);
    expect(() => copy.loadStateDict({ step: 1, tensors: {} })).toThrow(/optimizer state has no "w.m"/);
    for (const o of [opt, copy]) o.dispose();
    tf.dispose([w, b]);
  });

  it('clips the global gradient norm and refuses non-finite gradients', () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const opt = new AdamW([['w', w]], { clipNorm: 1 });
    const g = { [w.name]: tf.tensor1d([Number.NaN, 1]) };
    expect(opt.apply(g, 0.1)).toBeNaN();
    expect(Array.from(w.dataSync())).toEqual([0, 0]);
    expect(opt.step).toBe(0);
    tf.dispose(Object.values(g));
    opt.dispose();
    w.dispose();
  });

  it('warms up linearly, then decays by a cosine to the floor', () => {
    expect(warmupCosine(0, 100, 1, 10)).toBeCloseTo(0.1);
    expect(warmupCosine(9, 100, 1, 10)).toBeCloseTo(1);
    expect(warmupCosine(10, 100, 1, 10)).toBeCloseTo(1);
    expect(warmupCosine(55, 100, 1, 10)).toBeCloseTo(0.55);
    expect(warmupCosine(100, 100, 1, 10)).toBeCloseTo(0.1);
  });
});

describe('fast matMul gradient', () => {
  it('equals the gradient written out by hand, for every transpose combination', () => {
    installFastMatMulGradient();
    const a = [1, 2, -1, 0.5, 3, -2];
    const b = [0.5, -1, 2, 1, 0, -3];
    const r = [1, -2, 0.5, 3];
    // y = A·B with A 2×3, B 3×2; loss = Σ y ⊙ R: dA = R·Bᵀ, dB = Aᵀ·R.
    const A = (i: number, k: number) => a[i * 3 + k]!;
    const B = (k: number, j: number) => b[k * 2 + j]!;
    const R = (i: number, j: number) => r[i * 2 + j]!;
    const dA = [0, 1].flatMap((i) => [0, 1, 2].map((k) => R(i, 0) * B(k, 0) + R(i, 1) * B(k, 1)));
    const dB = [0, 1, 2].flatMap((k) => [0, 1].map((j) => A(0, k) * R(0, j) + A(1, k) * R(1, j)));
    const cases: [
      number[],
      number[],
      boolean,
      boolean,
      (g: number[]) => number[],
      (g: number[]) => number[],
    ][] = [
      [[2, 3], [3, 2], false, false, (g) => g, (g) => g],
      [[3, 2], [3, 2], true, false, transpose(2, 3), (g) => g],
      [[2, 3], [2, 3], false, true, (g) => g, transpose(3, 2)],
      [[3, 2], [2, 3], true, true, transpose(2, 3), transpose(3, 2)],
    ];
    for (const [sa, sb, ta, tb, fa, fb] of cases) {
      const va = tf.tensor2d(ta ? transpose(2, 3)(a) : a, sa as [number, number]);
      const vb = tf.tensor2d(tb ? transpose(3, 2)(b) : b, sb as [number, number]);
      const rt = tf.tensor2d(r, [2, 2]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), rt)))([
        va,
        vb,
      ]);
      Array.from(ga!.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(fa(dA)[i]!, 5);
      });
      Array.from(gb!.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(fb(dB)[i]!, 5);
      });
      tf.dispose([va, vb, rt, ga!, gb!]);
    }
  });
});

/** Transpose a row-major rows×cols matrix. */
function transpose(rows: number, cols: number): (m: number[]) => number[] {
  return (m) =>
    Array.from({ length: rows * cols }, (_, idx) => m[(idx % rows) * cols + Math.floor(idx / rows)]!);
}
