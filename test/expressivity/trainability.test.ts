import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import { gradientVariance, localObservable } from '../../src/expressivity/index.ts';
import { parameterShiftExpectation } from '../../src/sim/index.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';

describe('gradient variance', () => {
  it('matches the closed forms at L = 0: global (1/8)(3/8)^{n−1}, local 1/(8n²)', () => {
    for (const n of [1, 2, 3, 5]) {
      const s = 6000;
      const r = gradientVariance(simplifiedTwoDesign(n, 0), { samples: s, seed: n });
      // the sample variance of a bounded variable: relative SE below ~2.5/√S here; average over the n
      // (exchangeable) parameters and allow 4 SEs
      const tol = 4 * (2.5 / Math.sqrt(s));
      expect(Math.abs(r.global / ((1 / 8) * (3 / 8) ** (n - 1)) - 1)).toBeLessThan(tol);
      expect(Math.abs(r.local / (1 / (8 * n * n)) - 1)).toBeLessThan(tol);
      expect(r.globalPerParam.length).toBe(n);
    }
  });

  it('the local observable is the fraction of zero bits; its parameter-shift gradient has the closed form', () => {
    expect(Array.from(localObservable(2))).toEqual([1, 0.5, 0.5, 0]);
    // ⟨H_L⟩ at L = 0 is (1/n) Σ cos²(θ_w/2), so ∂/∂θ_w = −sin(θ_w)/(2n)
    const c = simplifiedTwoDesign(3, 0);
    const th = uniformAngles(3, 2);
    const g = parameterShiftExpectation(c, th, localObservable(3));
    for (let w = 0; w < 3; w++) expect(g[w]!).toBeCloseTo(-Math.sin(th[w]!) / 6, 13);
  });

  it('equals the variance of parameter-shift gradients over the same θ draws (n = 3, L = 2)', () => {
    const c = simplifiedTwoDesign(3, 2);
    const s = 40;
    const r = gradientVariance(c, { samples: s, seed: 9 });
    const rng = createRng(9); // gradientVariance draws θ uniform in [−π, π) from this stream, in order
    const e0 = new Float64Array(8);
    e0[0] = 1;
    const sums = [0, 0, 0, 0].map(() => new Float64Array(c.params.length));
    for (let t = 0; t < s; t++) {
      const th = Float64Array.from({ length: c.params.length }, () => -Math.PI + 2 * Math.PI * rng.next());
      const gg = parameterShiftExpectation(c, th, e0);
      const gl = parameterShiftExpectation(c, th, localObservable(3));
      gg.forEach((v, p) => {
        sums[0]![p]! += v;
        sums[1]![p]! += v * v;
      });
      gl.forEach((v, p) => {
        sums[2]![p]! += v;
        sums[3]![p]! += v * v;
      });
    }
    const variance = (a: Float64Array, b: Float64Array, p: number) => (b[p]! - a[p]! ** 2 / s) / (s - 1);
    for (let p = 0; p < c.params.length; p++) {
      expect(r.globalPerParam[p]!).toBeCloseTo(variance(sums[0]!, sums[1]!, p), 12);
      expect(r.localPerParam[p]!).toBeCloseTo(variance(sums[2]!, sums[3]!, p), 12);
    }
  });

  it('decays with qubits for the global cost faster than for the local cost (L = 2)', () => {
    const v = [2, 4, 6].map((n) => gradientVariance(simplifiedTwoDesign(n, 2), { samples: 400, seed: 3 }));
    expect(v[2]!.global).toBeLessThan(v[0]!.global / 10);
    expect(v[2]!.global / v[0]!.global).toBeLessThan(v[2]!.local / v[0]!.local);
  });

  it('rejects bad sample counts', () => {
    expect(() => gradientVariance(simplifiedTwoDesign(2, 1), { samples: 1 })).toThrow(InputError);
  });
});
