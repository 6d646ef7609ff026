/**
 * Small dense linear algebra for the capacity metric: singular values by Householder QR followed by
 * one-sided Jacobi rotations on the triangular factor (Hestenes' method), in float64. Written for matrices
 * of a few thousand rows and at most a few hundred columns, which is what circuit Jacobians are.
 */
import { InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';

function check(m: Matrix<Float64Array>): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new InputError(`matrix shape must be non-negative integers, got ${m.rows}×${m.cols}`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new InputError(
      `a ${m.rows}×${m.cols} matrix needs ${m.rows * m.cols} numbers, got ${m.data.length}`,
    );
  }
}

/**
 * The upper-triangular factor R (c×c, row-major) of the Householder QR of a tall matrix A (r×c, r ≥ c),
 * overwriting a column-major copy. Q is not formed: the singular values of A are those of R.
 */
function householderR(a: Float64Array, r: number, c: number): Float64Array {
  // a is column-major: element (i, j) at j·r + i
  for (let j = 0; j < c; j++) {
    const cj = j * r;
    let norm = 0;
    for (let i = j; i < r; i++) norm += a[cj + i]! * a[cj + i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[cj + j]! > 0 ? -norm : norm;
    // v = x − alpha·e1, stored in place of the column below the diagonal
    a[cj + j]! -= alpha;
    let vv = 0;
    for (let i = j; i < r; i++) vv += a[cj + i]! * a[cj + i]!;
    if (vv > 0) {
      for (let k = j + 1; k < c; k++) {
        const ck = k * r;
        let dot = 0;
        for (let i = j; i < r; i++) dot += a[cj + i]! * a[ck + i]!;
        const f = (2 * dot) / vv;
        for (let i = j; i < r; i++) a[ck + i]! -= f * a[cj + i]!;
      }
    }
    a[cj + j] = alpha;
  }
  const out = new Float64Array(c * c);
  for (let j = 0; j < c; j++) for (let i = 0; i <= j; i++) out[j * c + i] = a[j * r + i]!; // column-major R
  return out;
}

/** Singular values of a column-major square matrix by one-sided Jacobi (the columns become U·Σ). */
function jacobiSingularValues(a: Float64Array, c: number): Float64Array {
  const eps = 2.220446049250313e-16;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < c - 1; p++) {
      const cp = p * c;
      for (let q = p + 1; q < c; q++) {
        const cq = q * c;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < c; i++) {
          const x = a[cp + i]!;
          const y = a[cq + i]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = cs * t;
        for (let i = 0; i < c; i++) {
          const x = a[cp + i]!;
          const y = a[cq + i]!;
          a[cp + i] = cs * x - sn * y;
          a[cq + i] = sn * x + cs * y;
        }
      }
    }
    if (!rotated) break;
  }
  const s = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    let n = 0;
    for (let i = 0; i < c; i++) n += a[j * c + i]! * a[j * c + i]!;
    s[j] = Math.sqrt(n);
  }
  return s.sort().reverse();
}

/** The singular values of A, largest first (min(rows, cols) of them). */
export function singularValues(m: Matrix<Float64Array>): Float64Array {
  check(m);
  const tall = m.rows >= m.cols;
  const r = tall ? m.rows : m.cols;
  const c = tall ? m.cols : m.rows;
  if (c === 0) return new Float64Array(0);
  // column-major copy of A (or of Aᵀ when A is wide): in both cases element (i, j) of the tall matrix
  const a = new Float64Array(r * c);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      if (tall) a[j * r + i] = v;
      else a[i * r + j] = v;
    }
  }
  return jacobiSingularValues(householderR(a, r, c), c);
}

/** Default relative tolerance of `numericalRank`: singular values ≤ 1e-9·σ_max count as zero. */
export const RANK_TOLERANCE = 1e-9;

/**
 * The numerical rank: the number of singular values above `tolerance · σ_max` (0 for a zero matrix).
 * `tolerance` is relative and must be in (0, 1).
 */
export function numericalRank(sv: ArrayLike<number>, tolerance = RANK_TOLERANCE): number {
  if (!(tolerance > 0 && tolerance < 1))
    throw new InputError(`rank tolerance must be in (0, 1), got ${tolerance}`);
  let max = 0;
  for (let i = 0; i < sv.length; i++) max = Math.max(max, sv[i]!);
  if (max === 0) return 0;
  let rank = 0;
  for (let i = 0; i < sv.length; i++) if (sv[i]! > tolerance * max) rank++;
  return rank;
}
