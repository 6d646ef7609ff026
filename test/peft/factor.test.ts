/**
 * Orthogonal factors for any dimension: direct sums of power-of-two circuits (peft/factor.ts), checked
 * against a dense float64 construction of the same operator, for orthogonality at 768, 3072, 1000, 10,
 * for gradients, and for their parameter count.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getTemplate, simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { factorColumns, planFactor } from '../../src/peft/factor.ts';
import { directSumParamCount, twoDesignParamCount } from '../../src/peft/param-counts.ts';
import { unitary } from '../../src/sim/simulate.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { maxDiff, orthError, randn } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/**
 * The dense d×d operator O_d = diag(A, O_{d₂})·M(φ)·diag(B, I) in float64, built from full circuit matrices,
 * with θ consumed in the order pre (B), φ, post (A), rest — the documented layout.
 */
function denseFactor(d: number, layers: number, theta: Float64Array, at = { i: 0 }): Float64Array {
  const o = new Float64Array(d * d);
  if (d === 1) {
    o[0] = 1;
    return o;
  }
  const tpl = getTemplate('simplified-two-design');
  const circuitMatrix = (dim: number) => {
    const c = tpl.build(Math.log2(dim), layers);
    const u = unitary(c, theta.slice(at.i, at.i + c.params.length)).data;
    at.i += c.params.length;
    return u;
  };
  if ((d & (d - 1)) === 0) return Float64Array.from(circuitMatrix(d));
  const d1 = 2 ** Math.floor(Math.log2(d));
  const d2 = d - d1;
  const b = circuitMatrix(d1);
  const phi = theta[at.i++]!;
  const a = circuitMatrix(d1);
  const rest = denseFactor(d2, layers, theta, at);
  const pre = new Float64Array(d * d); // diag(B, I)
  for (let i = 0; i < d1; i++) for (let j = 0; j < d1; j++) pre[i * d + j] = b[i * d1 + j]!;
  for (let i = d1; i < d; i++) pre[i * d + i] = 1;
  const mix = new Float64Array(d * d); // M(φ)
  for (let i = 0; i < d; i++) mix[i * d + i] = 1;
  for (let j = 0; j < d2; j++) {
    mix[j * d + j] = Math.cos(phi);
    mix[j * d + d1 + j] = -Math.sin(phi);
    mix[(d1 + j) * d + j] = Math.sin(phi);
    mix[(d1 + j) * d + d1 + j] = Math.cos(phi);
  }
  const post = new Float64Array(d * d); // diag(A, O_{d₂})
  for (let i = 0; i < d1; i++) for (let j = 0; j < d1; j++) post[i * d + j] = a[i * d1 + j]!;
  for (let i = 0; i < d2; i++) for (let j = 0; j < d2; j++) post[(d1 + i) * d + d1 + j] = rest[i * d2 + j]!;
  return mul(post, mul(mix, pre, d), d);
}

function mul(x: Float64Array, y: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) out[i * d + j]! += x[i * d + k]! * y[k * d + j]!;
  return out;
}

function firstColumns(m: Float64Array, d: number, k: number): Float64Array {
  const out = new Float64Array(d * k);
  for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) out[i * k + j] = m[i * d + j]!;
  return out;
}

describe('direct-sum factors', () => {
  for (const [d, k] of [
    [10, 3],
    [12, 4],
    [7, 5],
    [10, 9],
    [13, 13],
  ] as const) {
    it(`d=${d}, K=${k}: equals the dense float64 operator's first K columns`, () => {
      const { plan, count } = planFactor(d, { template: 'simplified-two-design', layers: 1 });
      const theta = uniformAngles(count, d * 31 + k);
      const th = tf.tensor1d(Float32Array.from(theta));
      const ref = firstColumns(denseFactor(d, 1, Float64Array.from(th.dataSync())), d, k);
      const p = factorColumns(plan, th, k);
      expect(p.shape).toEqual([d, k]);
      expect(maxDiff(p, ref)).toBeLessThan(2e-6);
      expect(orthError(p)).toBeLessThan(1e-6);
      th.dispose();
    });
  }

  it('the kernel bridge and the tfjs-ops path give the same factor and gradient', () => {
    const { plan, count } = planFactor(12, { template: 'simplified-two-design', layers: 1 });
    const th = tf.tensor1d(Float32Array.from(uniformAngles(count, 8)));
    const g = randn(12, 5, 2);
    const f = (path: 'kernel' | 'ops') => factorColumns(plan, th, 5, path);
    const [a, b] = [f('kernel'), f('ops')];
    expect(maxDiff(a, b)).toBeLessThan(1e-6);
    const grad = (path: 'kernel' | 'ops') =>
      tf.grad((t: tf.Tensor) =>
        factorColumns(plan, t as tf.Tensor1D, 5, path)
          .mul(g)
          .sum(),
      )(th);
    const [ga, gb] = [grad('kernel'), grad('ops')];
    expect(maxDiff(ga, gb)).toBeLessThan(1e-5);
    tf.dispose([th, g, a, b, ga, gb]);
  });

  it('gradients through the direct sum match finite differences of the dense float64 operator', () => {
    const d = 12;
    const k = 3;
    const { plan, count } = planFactor(d, { template: 'simplified-two-design', layers: 1 });
    const th = tf.tensor1d(Float32Array.from(uniformAngles(count, 5)));
    const t64 = Float64Array.from(th.dataSync());
    const g = randn(d, k, 6);
    const gd = g.dataSync();
    const grad = tf.grad((t: tf.Tensor) =>
      factorColumns(plan, t as tf.Tensor1D, k)
        .mul(g)
        .sum(),
    )(th);
    const f = (t: Float64Array) => {
      const p = firstColumns(denseFactor(d, 1, t), d, k);
      return p.reduce((s, v, i) => s + v * gd[i]!, 0);
    };
    const fd = t64.map((_, i) => {
      const a = t64.slice();
      const b = t64.slice();
      a[i]! += 1e-6;
      b[i]! -= 1e-6;
      return (f(a) - f(b)) / 2e-6;
    });
    expect(maxDiff(grad, fd)).toBeLessThan(5e-5);
    tf.dispose([th, g, grad]);
  });

  for (const d of [768, 3072, 1000, 10]) {
    it(`d=${d}: PᵀP = I to 1e-6 in float32 (K=8, L=2)`, () => {
      const { plan, count } = planFactor(d, { template: 'simplified-two-design', layers: 2 });
      const th = tf.tensor1d(Float32Array.from(uniformAngles(count, d)));
      expect(orthError(factorColumns(plan, th, 8))).toBeLessThan(1e-6);
      th.dispose();
    });
  }

  it('counts parameters as documented: binary digits of d, 2·t + 1 per split, t for the last block', () => {
    const t = (n: number) => twoDesignParamCount(n, 2);
    // 768 = 512 + 256: two 9-qubit circuits, one angle, one 8-qubit circuit
    expect(directSumParamCount(768, t)).toBe(2 * (9 + 4 * 8) + 1 + (8 + 4 * 7));
    // 10 = 8 + 2
    expect(directSumParamCount(10, t)).toBe(2 * (3 + 4 * 2) + 1 + 1);
    // 7 = 4 + 2 + 1: the 1×1 block has no parameters
    expect(directSumParamCount(7, t)).toBe(2 * t(2) + 1 + 2 * t(1) + 1);
    expect(directSumParamCount(1024, t)).toBe(t(10));
    for (const d of [768, 3072, 1000, 10, 7, 1024, 1]) {
      expect(planFactor(d, { template: 'simplified-two-design', layers: 2 }).count).toBe(
        directSumParamCount(d, t),
      );
    }
  });

  it('refuses a fixed circuit whose size does not match the dimension', () => {
    expect(() => planFactor(12, { circuit: simplifiedTwoDesign(3, 1) })).toThrow(
      /3 qubits gives 8×8.*dimension 12/,
    );
  });
});
