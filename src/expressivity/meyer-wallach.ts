/**
 * Entangling capability: the Meyer–Wallach measure (Meyer & Wallach, J. Math. Phys. 43, 4273, 2002; in the
 * form of Brennen, Quantum Inf. Comput. 3, 619, 2003):
 *
 *     Q(ψ) = 2 · (1 − (1/n) Σ_k Tr ρ_k²),   ρ_k = the reduced state of qubit k.
 *
 * For a real state, with x = the amplitudes whose bit k is 0 and y = those whose bit k is 1,
 * ρ_k = [[x·x, x·y], [x·y, y·y]] and 1 − Tr ρ_k² = 2 det ρ_k = 2(‖x‖²‖y‖² − (x·y)²), so
 * Q = (4/n) Σ_k (‖x‖²‖y‖² − (x·y)²): 0 for product states, up to 1.
 *
 * The determinant is a difference of two nearly equal numbers for nearly unentangled qubits; a value within
 * its rounding-error bound (4·N·ε·‖x‖²‖y‖², ε = 2^−52) is indistinguishable from 0 and is reported as 0, so a
 * product state (e.g. a single RY layer) gives Q = 0 exactly rather than ±1e−17.
 *
 * References for random states (averages over the uniform measure): real states (N−2)/(N+2), complex
 * Haar states (N−2)/(N+1), N = 2^n.
 */
import { describe, InputError } from '../errors.ts';

/**
 * Q of one real state of `qubits` qubits. `state` holds the amplitudes of one or more states in the batch
 * layout (amplitude i of state b at i·stride + offset; defaults: one state, stride 1). The state is
 * normalised here, so unnormalised vectors are accepted.
 */
export function meyerWallach(state: ArrayLike<number>, qubits: number, stride = 1, offset = 0): number {
  if (!Number.isInteger(qubits) || qubits < 1)
    throw new InputError(`qubits must be a positive integer, got ${describe(qubits)}`);
  const dim = 2 ** qubits;
  if (state.length < (dim - 1) * stride + offset + 1) {
    throw new InputError(
      `a ${qubits}-qubit state needs ${dim} amplitudes (stride ${stride}), got ${state.length} numbers`,
    );
  }
  let norm2 = 0;
  for (let i = 0; i < dim; i++) norm2 += state[i * stride + offset]! ** 2;
  if (!(norm2 > 0)) throw new InputError('the state is zero (or not finite)');
  let sum = 0;
  for (let k = 0; k < qubits; k++) {
    const bit = 1 << k;
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = 0; i < dim; i++) {
      if (i & bit) continue;
      const x = state[i * stride + offset]!;
      const y = state[(i | bit) * stride + offset]!;
      xx += x * x;
      yy += y * y;
      xy += x * y;
    }
    const det = xx * yy - xy * xy;
    if (det > 4 * dim * Number.EPSILON * xx * yy) sum += det;
  }
  return Math.min(1, (4 * sum) / (qubits * norm2 * norm2));
}

/** Mean Q over uniformly random real states of n qubits: (N−2)/(N+2). */
export function realStateMeyerWallach(qubits: number): number {
  const n = 2 ** qubits;
  return (n - 2) / (n + 2);
}

/** Mean Q over Haar-random complex states of n qubits: (N−2)/(N+1). */
export function haarMeyerWallach(qubits: number): number {
  const n = 2 ** qubits;
  return (n - 2) / (n + 1);
}
