import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  betaBinLogProbabilities,
  betaCdf,
  betaLogSf,
  betaMoments,
  betaPdf,
  haarFidelityLaw,
  logGamma,
  realStateFidelityLaw,
} from '../../src/expressivity/index.ts';
import { createRng } from '../../src/util/random.ts';

/**
 * ∫₀¹ g(x) dx for g with x^{-1/2} and (1−x)^{half-integer} end behaviour: substitute x = sin²t (which makes
 * the integrand smooth) and use the midpoint rule on t ∈ [0, π/2] (no end points are evaluated).
 */
function integrate(g: (x: number) => number, m = 20_000): number {
  const h = Math.PI / 2 / m;
  let s = 0;
  for (let i = 0; i < m; i++) {
    const t = (i + 0.5) * h;
    s += g(Math.sin(t) ** 2) * 2 * Math.sin(t) * Math.cos(t);
  }
  return s * h;
}

describe('Beta laws', () => {
  it('logGamma matches known values', () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(1.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI) / 2), 13);
    expect(logGamma(100)).toBeCloseTo(359.1342053695754, 9);
  });

  it('CDFs equal their closed forms', () => {
    for (const x of [1e-6, 0.01, 0.2, 0.5, 0.77, 0.999]) {
      // N = 2: Beta(1/2, 1/2), the arcsine law
      expect(betaCdf(realStateFidelityLaw(2), x)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 13);
      // N = 4: Beta(1/2, 3/2)
      const f4 = (2 / Math.PI) * (Math.asin(Math.sqrt(x)) + Math.sqrt(x * (1 - x)));
      expect(betaCdf(realStateFidelityLaw(4), x)).toBeCloseTo(f4, 13);
      // complex Haar: 1 − (1 − x)^{N−1}
      expect(betaCdf(haarFidelityLaw(16), x)).toBeCloseTo(1 - (1 - x) ** 15, 13);
    }
  });

  it('moments of the real-state law are 1/N and 2(N−1)/(N²(N+2)), by formula and by integrating the density', () => {
    for (const n of [2, 4, 16, 64, 1024]) {
      const law = realStateFidelityLaw(n);
      const { mean, variance } = betaMoments(law);
      expect(mean).toBeCloseTo(1 / n, 15);
      expect(variance).toBeCloseTo((2 * (n - 1)) / (n * n * (n + 2)), 15);
      if (n <= 64) {
        expect(integrate((x) => betaPdf(law, x))).toBeCloseTo(1, 6);
        expect(integrate((x) => x * betaPdf(law, x))).toBeCloseTo(1 / n, 7);
        const m2 = integrate((x) => x * x * betaPdf(law, x));
        expect(m2 - (1 / n) ** 2).toBeCloseTo((2 * (n - 1)) / (n * n * (n + 2)), 7);
      }
    }
  });

  it('fidelities of Gaussian random real vectors have the law’s mean and variance (sampling)', () => {
    const rng = createRng(11);
    for (const n of [4, 32]) {
      const s = 20_000;
      let sum = 0;
      let sum2 = 0;
      const a = new Float64Array(n);
      const b = new Float64Array(n);
      for (let t = 0; t < s; t++) {
        let na = 0;
        let nb = 0;
        let d = 0;
        for (let i = 0; i < n; i++) {
          a[i] = rng.normal();
          b[i] = rng.normal();
          na += a[i]! ** 2;
          nb += b[i]! ** 2;
          d += a[i]! * b[i]!;
        }
        const f = (d * d) / (na * nb);
        sum += f;
        sum2 += f * f;
      }
      const mean = sum / s;
      const variance = sum2 / s - mean * mean;
      const law = betaMoments(realStateFidelityLaw(n));
      expect(Math.abs(mean - law.mean)).toBeLessThan(4 * Math.sqrt(law.variance / s));
      expect(Math.abs(variance / law.variance - 1)).toBeLessThan(0.06);
    }
  });

  it('bin probabilities sum to 1 and stay finite deep in the tail (N = 1024)', () => {
    for (const law of [realStateFidelityLaw(16), haarFidelityLaw(16), realStateFidelityLaw(1024)]) {
      const lp = betaBinLogProbabilities(law, 75);
      expect(lp.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
      for (const v of lp) expect(Number.isFinite(v)).toBe(true);
    }
    // complex law, last bin: log((1/75)^{N−1}) exactly
    const lp = betaBinLogProbabilities(haarFidelityLaw(1024), 75);
    expect(lp[74]! / (1023 * Math.log(1 / 75))).toBeCloseTo(1, 10);
    expect(betaLogSf(haarFidelityLaw(1024), 0.5) / (1023 * Math.log(0.5))).toBeCloseTo(1, 10);
  });

  it('rejects bad parameters with InputError', () => {
    expect(() => realStateFidelityLaw(1)).toThrow(InputError);
    expect(() => betaCdf({ a: -1, b: 1 }, 0.5)).toThrow(/a > 0/);
    expect(() => betaBinLogProbabilities(realStateFidelityLaw(4), 0)).toThrow(InputError);
  });
});
