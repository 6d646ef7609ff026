/**
 * Random points of the Stiefel manifold St(N, K) = {U ∈ R^{N×K} : UᵀU = I} and the subspace-overlap law
 * used as the reference of the K-column expressibility.
 */
import { describe, InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import type { Rng } from '../util/random.ts';

function checkShape(dim: number, k: number): void {
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(k) || k < 1 || k > dim) {
    throw new InputError(
      `a Stiefel matrix needs integers 1 ≤ K ≤ N, got N = ${describe(dim)}, K = ${describe(k)}`,
    );
  }
}

/**
 * A Haar-distributed N×K matrix with orthonormal columns: the Q factor of an N×K standard Gaussian matrix
 * with R's diagonal positive (Gram–Schmidt, done twice for orthogonality to rounding). Row-major.
 */
export function randomStiefel(dim: number, k: number, rng: Rng): Matrix<Float64Array> {
  checkShape(dim, k);
  const q = new Float64Array(dim * k);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < k; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += q[i * k + p]! * q[i * k + j]!;
        for (let i = 0; i < dim; i++) q[i * k + j]! -= dot * q[i * k + p]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += q[i * k + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < dim; i++) q[i * k + j]! /= norm;
  }
  return { rows: dim, cols: k, data: q };
}

/**
 * The subspace fidelity ‖AᵀB‖²_F / K of two N×K matrices (row-major): 1 when the column spaces agree,
 * mean K/N for independent Haar points, and for K = 1 the state fidelity ⟨a|b⟩².
 */
export function subspaceFidelity(a: Matrix, b: Matrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new InputError(
      `subspace fidelity needs two matrices of the same shape, got ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`,
    );
  }
  const k = a.cols;
  let s = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let dot = 0;
      for (let i = 0; i < a.rows; i++) dot += a.data[i * k + p]! * b.data[i * k + q]!;
      s += dot * dot;
    }
  }
  return s / k;
}

/**
 * `count` samples of ‖AᵀB‖²_F / K for independent Haar points A, B of St(N, K). By invariance A can be
 * fixed to the first K columns of the identity, so each sample is one random Stiefel matrix's top K×K block.
 */
export function sampleStiefelFidelities(dim: number, k: number, count: number, rng: Rng): Float64Array {
  checkShape(dim, k);
  const out = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    const b = randomStiefel(dim, k, rng).data;
    let sum = 0;
    for (let i = 0; i < k * k; i++) sum += b[i]! * b[i]!;
    out[s] = sum / k;
  }
  return out;
}
