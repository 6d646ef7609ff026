import { describe, expect, it } from 'vitest';
import type { cz } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { applyToStates, columns } from '../../src/sim/simulate.ts';
import { orthogonalityError } from '../../src/util/matrix.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';
import { maxDiff } from '../helpers/reference.ts';

/** det of a small dense matrix by Gaussian elimination with partial pivoting (independent of the simulator). */
function det(a: Float64Array | Float32Array, n: number): number {
  const m = Float64Array.from(a);
  let d = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    if (m[p * n + c] === 0) return 0;
    if (p !== c) {
      for (let j = 0; j < n; j++) [m[p * n + j], m[c * n + j]] = [m[c * n + j]!, m[p * n + j]!];
      d = -d;
    }
    d *= m[c * n + c]!;
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c]! / m[c * n + c]!;
      for (let j = c; j < n; j++) m[r * n + j]! -= f * m[c * n + j]!;
    }
  }
  return d;
}

describe('UᵀU = I for the two-design', () => {
  it('full matrices up to n = 8, L = 8: float64 ≤ 1e-12, float32 ≤ 1e-5, det = +1 for n ≥ 3', () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const c = simplifiedTwoDesign(n, 8);
      const th = uniformAngles(c.params.length, n);
      const u = columns(c, th);
      expect(orthogonalityError(u)).toBeLessThanOrEqual(1e-12);
      expect(orthogonalityError(columns(c, th, 2 ** n, { dtype: 'float32' }))).toBeLessThanOrEqual(1e-5);
      if (n >= 3 && n <= 5) expect(det(u.data, 2 ** n)).toBeCloseTo(1, 10);
    }
  });
  it('n = 10 and 12, L = 8: column blocks are orthonormal (float64 1e-12, float32 1e-5)', () => {
    for (const n of [10, 12]) {
      const c = simplifiedTwoDesign(n, 8);
      const th = uniformAngles(c.params.length, 100 + n);
      expect(orthogonalityError(columns(c, th, 64))).toBeLessThanOrEqual(1e-12);
      expect(orthogonalityError(columns(c, th, 64, { dtype: 'float32' }))).toBeLessThanOrEqual(1e-5);
    }
  });
  it('n = 12, L = 8: Uᵀ(Ux) = x and ‖Ux‖ = ‖x‖ for random vectors (the whole matrix is orthogonal)', () => {
    const c = simplifiedTwoDesign(12, 8);
    const th = uniformAngles(c.params.length, 5);
    const rng = createRng(9);
    const B = 4;
    const x0 = Float64Array.from({ length: 4096 * B }, () => rng.normal());
    const y = applyToStates(c, th, x0.slice(), B);
    for (let b = 0; b < B; b++) {
      let nx = 0;
      let ny = 0;
      for (let i = 0; i < 4096; i++) {
        nx += x0[i * B + b]! ** 2;
        ny += y[i * B + b]! ** 2;
      }
      expect(Math.abs(nx - ny) / nx).toBeLessThanOrEqual(1e-12);
    }
    const back = applyToStates(c, th, y, B, { transpose: true });
    expect(maxDiff(back, x0)).toBeLessThanOrEqual(1e-12);
  });
});

describe('θ = 0', () => {
  it('gives the product of the CZ layers: a ±1 diagonal, sign (−1)^(number of CZ pairs with both bits set)', () => {
    for (const [n, L] of [
      [3, 1],
      [4, 2],
      [6, 3],
    ] as const) {
      const c = simplifiedTwoDesign(n, L);
      const u = columns(c, new Float64Array(c.params.length));
      const czs = c.gates.filter((g) => g.name === 'cz') as ReturnType<typeof cz>[];
      const N = 2 ** n;
      for (let i = 0; i < N; i++) {
        const flips = czs.filter(
          (g) => ((i >> g.wires[0]) & 1) === 1 && ((i >> g.wires[1]) & 1) === 1,
        ).length;
        for (let j = 0; j < N; j++) expect(u.data[i * N + j]).toBe(i === j ? (-1) ** flips : 0);
      }
    }
  });
});
