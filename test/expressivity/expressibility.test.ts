import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import {
  betaBinLogProbabilities,
  expressibility,
  expressibilityOfFidelities,
  haarFidelityLaw,
  histogram,
  klFromCounts,
  klNullDistribution,
  randomStiefel,
  realStateFidelityLaw,
  sampleStiefelFidelities,
  stiefelReferenceLogProbabilities,
  subspaceFidelity,
} from '../../src/expressivity/index.ts';
import { createRng } from '../../src/util/random.ts';

/** Fidelities of `count` pairs of normalised Gaussian vectors in R^N: samples of the real random-state law. */
function gaussianFidelities(dim: number, count: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    let na = 0;
    let nb = 0;
    let d = 0;
    for (let i = 0; i < dim; i++) {
      const a = rng.normal();
      const b = rng.normal();
      na += a * a;
      nb += b * b;
      d += a * b;
    }
    out[s] = (d * d) / (na * nb);
  }
  return out;
}

describe('expressibility', () => {
  it('KL ≈ 0 within sampling error for random real states, and a clear floor against the complex law', () => {
    for (const dim of [4, 16, 64]) {
      const s = 4000;
      const f = gaussianFidelities(dim, s, dim);
      const real = expressibilityOfFidelities(f, dim);
      const null_ = klNullDistribution(betaBinLogProbabilities(realStateFidelityLaw(dim), 75), s, {
        seed: 1,
      });
      expect(real).toBeLessThan(null_.mean + 4 * null_.sd);
      const haar = expressibilityOfFidelities(f, dim, { reference: 'haar' });
      const nullHaar = klNullDistribution(betaBinLogProbabilities(haarFidelityLaw(dim), 75), s, { seed: 1 });
      expect(haar).toBeGreaterThan(nullHaar.mean + 10 * nullHaar.sd);
    }
  });

  it('the null KL of S samples has mean ≈ (m − 1)/(2S) for m well-filled bins (N = 2: all 75 bins)', () => {
    const s = 5000;
    const { mean } = klNullDistribution(betaBinLogProbabilities(realStateFidelityLaw(2), 75), s, { seed: 2 });
    expect(mean / (74 / (2 * s))).toBeGreaterThan(0.85);
    expect(mean / (74 / (2 * s))).toBeLessThan(1.15);
  });

  it('does not get worse with depth within sampling error (n = 4 and 6, L = 0…6) and reaches the floor', () => {
    for (const n of [4, 6]) {
      const runs = [0, 1, 2, 3, 4, 5, 6].map((L) =>
        expressibility(simplifiedTwoDesign(n, L), { samples: 1500, seed: 7 }),
      );
      for (let L = 1; L < runs.length; L++) {
        const [a, b] = [runs[L - 1]!, runs[L]!];
        // 3 combined bootstrap SDs, plus the null SD for rows at the floor
        const err = 3 * Math.hypot(a.bootstrapError, b.bootstrapError) + 3 * b.samplingError;
        expect(b.kl).toBeLessThan(a.kl + err);
      }
      const last = runs.at(-1)!;
      expect(runs[0]!.kl - last.kl).toBeGreaterThan(
        5 * Math.hypot(runs[0]!.bootstrapError, last.bootstrapError),
      ); // L = 0: far from random
      expect(last.kl).toBeLessThan(
        last.samplingFloor + 3 * Math.hypot(last.bootstrapError, last.samplingError),
      );
    }
  });

  it('K-column version: Stiefel samples match the sampled St(N, K) reference; K = 1 matches the Beta law', () => {
    const rng = createRng(3);
    // K = 1: sampled Stiefel fidelities against the closed-form law
    const f1 = sampleStiefelFidelities(16, 1, 4000, rng);
    const n1 = klNullDistribution(betaBinLogProbabilities(realStateFidelityLaw(16), 75), 4000, { seed: 4 });
    expect(expressibilityOfFidelities(f1, 16)).toBeLessThan(n1.mean + 4 * n1.sd);
    // K = 2: pairs of independent random Stiefel matrices (not via the fixed-first-point shortcut)
    const s = 3000;
    const f2 = new Float64Array(s);
    for (let i = 0; i < s; i++)
      f2[i] = subspaceFidelity(randomStiefel(16, 2, rng), randomStiefel(16, 2, rng));
    const logQ = stiefelReferenceLogProbabilities(16, 2, 75, 40_000, 9);
    const n2 = klNullDistribution(logQ, s, { seed: 5 });
    expect(klFromCounts(histogram(f2, 75), logQ)).toBeLessThan(n2.mean + 4 * n2.sd);
    // mean subspace fidelity of random points is K/N
    expect(f2.reduce((a, b) => a + b, 0) / s).toBeCloseTo(2 / 16, 2);
  });

  it('random Stiefel matrices have orthonormal columns', () => {
    const u = randomStiefel(32, 4, createRng(1));
    for (let p = 0; p < 4; p++) {
      for (let q = 0; q < 4; q++) {
        let d = 0;
        for (let i = 0; i < 32; i++) d += u.data[i * 4 + p]! * u.data[i * 4 + q]!;
        expect(d).toBeCloseTo(p === q ? 1 : 0, 14);
      }
    }
  });

  it('the circuit path is reproducible from its seed and rejects bad input', () => {
    const c = simplifiedTwoDesign(3, 2);
    expect(expressibility(c, { samples: 50, seed: 1 }).kl).toBe(
      expressibility(c, { samples: 50, seed: 1 }).kl,
    );
    expect(() => expressibility(c, { samples: 0 })).toThrow(InputError);
    expect(() => expressibility(c, { columns: 9 })).toThrow(/columns K must be an integer in 1\.\.8/);
    expect(() => histogram([0.5, 1.5], 10)).toThrow(/\[0, 1\]/);
  });
});
