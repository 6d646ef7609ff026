import { describe, expect, it } from 'vitest';
import { alternatingRyCz, simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import {
  effectiveDimension,
  jacobian,
  jacobianByAdjoint,
  manifoldDimension,
  numericalRank,
  randomStiefel,
  singularValues,
} from '../../src/expressivity/index.ts';
import { columns } from '../../src/sim/index.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';

describe('effective dimension', () => {
  it('matches docs/method.md §2 for n = 4: L = 1 → 8 (K = 1), 9 (K = 2); L = 4 → 15, 27', () => {
    const expected: [number, number, number][] = [
      [1, 1, 8],
      [1, 2, 9],
      [4, 1, 15],
      [4, 2, 27],
    ];
    for (const [L, k, rank] of expected) {
      const r = effectiveDimension(simplifiedTwoDesign(4, L), { columns: k, seed: 1 });
      expect(r.rank).toBe(rank);
      expect(r.params).toBe(4 + 2 * L * 3);
      expect(r.redundancy).toBe(r.params - rank);
    }
    expect(manifoldDimension(4, 1)).toBe(15);
    expect(manifoldDimension(4, 2)).toBe(29);
  });

  it('the rank never exceeds min(#θ, manifold dimension) (n = 2…5, L = 0…4, K = 1, 2, both templates)', () => {
    for (const build of [simplifiedTwoDesign, alternatingRyCz]) {
      for (let n = 2; n <= 5; n++) {
        for (let L = 0; L <= 4; L++) {
          for (const k of [1, 2]) {
            const r = effectiveDimension(build(n, L), { columns: k, points: 1, seed: n * 10 + L });
            expect(r.rank).toBeLessThanOrEqual(Math.min(r.params, r.manifoldDimension));
            expect(r.rank).toBeGreaterThanOrEqual(Math.min(n, r.params)); // an RY layer alone gives n directions
          }
        }
      }
    }
  });

  it('forward-mode Jacobian = adjoint VJP rows = central finite differences', () => {
    const c = simplifiedTwoDesign(3, 2);
    const th = uniformAngles(c.params.length, 4);
    const k = 3;
    const a = jacobian(c, th, k);
    const b = jacobianByAdjoint(c, th, k);
    expect(a.rows).toBe(8 * k);
    expect(a.cols).toBe(c.params.length);
    for (let i = 0; i < a.data.length; i++) expect(a.data[i]!).toBeCloseTo(b.data[i]!, 13);
    const h = 1e-5;
    for (let p = 0; p < c.params.length; p++) {
      const plus = Float64Array.from(th);
      const minus = Float64Array.from(th);
      plus[p]! += h;
      minus[p]! -= h;
      const up = columns(c, plus, k).data;
      const um = columns(c, minus, k).data;
      for (let r = 0; r < 8 * k; r++)
        expect(a.data[r * a.cols + p]!).toBeCloseTo((up[r]! - um[r]!) / (2 * h), 8);
    }
  });

  it('singular values are recovered from A = U·diag(s)·Vᵀ (tall and wide), and the rank counts them', () => {
    const rng = createRng(8);
    const s = [5, 3, 1, 0.25, 1e-3, 0, 0];
    for (const [m, n] of [
      [40, 7],
      [7, 40],
    ] as const) {
      const u = randomStiefel(Math.max(m, n), 7, rng).data;
      const v = randomStiefel(7, 7, rng).data;
      // A = U diag(s) Vᵀ (tall) or its transpose (wide)
      const a = new Float64Array(m * n);
      for (let i = 0; i < Math.max(m, n); i++) {
        for (let j = 0; j < 7; j++) {
          let x = 0;
          for (let t = 0; t < 7; t++) x += u[i * 7 + t]! * s[t]! * v[j * 7 + t]!;
          if (m >= n) a[i * n + j] = x;
          else a[j * n + i] = x;
        }
      }
      const sv = singularValues({ rows: m, cols: n, data: a });
      expect(sv.length).toBe(7);
      for (let t = 0; t < 7; t++) expect(sv[t]!).toBeCloseTo(s[t]!, 12);
      expect(numericalRank(sv)).toBe(5);
      expect(numericalRank(sv, 1e-2)).toBe(4);
    }
    expect(numericalRank([0, 0])).toBe(0);
    expect(() => numericalRank([1], 0)).toThrow(InputError);
  });

  it('rejects bad input', () => {
    const c = simplifiedTwoDesign(2, 1);
    expect(() => jacobian(c, [1, 2], 1)).toThrow(/expected 4 parameter values, got 2/);
    expect(() => effectiveDimension(c, { columns: 5 })).toThrow(InputError);
    expect(() => singularValues({ rows: 2, cols: 2, data: new Float64Array(3) })).toThrow(/needs 4 numbers/);
  });
});
