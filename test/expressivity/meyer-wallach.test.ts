import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import { entanglingCapability, meyerWallach, realStateMeyerWallach } from '../../src/expressivity/index.ts';
import { columns } from '../../src/sim/index.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';

describe('Meyer–Wallach Q', () => {
  it('is exactly 0 for L = 0 (a single RY layer), at any angles', () => {
    for (const n of [2, 3, 5, 8]) {
      const c = simplifiedTwoDesign(n, 0);
      for (let seed = 0; seed < 5; seed++) {
        expect(meyerWallach(columns(c, uniformAngles(n, seed), 1).data, n)).toBe(0);
      }
      expect(entanglingCapability(c, { samples: 20, seed: 3 }).mean).toBe(0);
    }
  });

  it('is 1 for Bell and GHZ states and the closed form for a partly entangled pair', () => {
    const s = Math.SQRT1_2;
    expect(meyerWallach([s, 0, 0, s], 2)).toBeCloseTo(1, 15);
    const ghz = new Float64Array(8);
    ghz[0] = s;
    ghz[7] = s;
    expect(meyerWallach(ghz, 3)).toBeCloseTo(1, 15);
    // cos a |00⟩ + sin a |11⟩: each reduced state diag(cos², sin²), Q = 4 cos² sin² = sin²(2a)
    const a = 0.3;
    expect(meyerWallach([Math.cos(a), 0, 0, Math.sin(a)], 2)).toBeCloseTo(Math.sin(2 * a) ** 2, 14);
    expect(meyerWallach([3, 0, 0, 3], 2)).toBeCloseTo(1, 15); // normalised internally
  });

  it('averages (N−2)/(N+2) over normalised Gaussian (random real) states, within sampling error', () => {
    const rng = createRng(5);
    for (const n of [2, 3, 4, 6]) {
      const dim = 2 ** n;
      const s = 4000;
      let sum = 0;
      let sum2 = 0;
      const v = new Float64Array(dim);
      for (let t = 0; t < s; t++) {
        for (let i = 0; i < dim; i++) v[i] = rng.normal();
        const q = meyerWallach(v, n);
        sum += q;
        sum2 += q * q;
      }
      const mean = sum / s;
      const se = Math.sqrt((sum2 / s - mean * mean) / s);
      expect(Math.abs(mean - (dim - 2) / (dim + 2))).toBeLessThan(4 * se);
      expect(realStateMeyerWallach(n)).toBe((dim - 2) / (dim + 2));
    }
  });

  it('rejects short or zero states', () => {
    expect(() => meyerWallach([1, 0, 0], 2)).toThrow(InputError);
    expect(() => meyerWallach([0, 0, 0, 0], 2)).toThrow(/zero/);
  });
});
