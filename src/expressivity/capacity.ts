/**
 * Capacity: the effective dimension of a circuit as the rank of the Jacobian of its output with respect to θ
 * at a random θ (Haug, Bharti, Kim, PRX Quantum 2, 040309, 2021), for the state U(θ)|0⟩ (K = 1) or for the
 * first K columns U_K(θ) (the adapter's factor):
 *
 *     D_eff = rank ∂vec(U_K)/∂θ,   redundancy = #θ − D_eff,
 *
 * compared with the dimension of the manifold the output lives on: N − 1 for real unit states (K = 1) and
 * NK − K(K+1)/2 for St(N, K). The rank is generic: it is the same at almost every θ, and a few random θ
 * are tried (the maximum is kept) so an unlucky point cannot lower it.
 *
 * Jacobian: forward-mode tangents propagated together with the state in one batched run. Gate g with
 * parameter p contributes scale_g·½·A·(g·Ψ) to the tangent of θ_p, because dRY(t)/dt = ½·A·RY(t) with
 * A = [[0, −1], [1, 0]]. Cost: one run on a batch of (#θ + 1)·K states. `jacobianByAdjoint` builds the same
 * matrix row by row from the adjoint VJP with basis upstreams, as an independent check.
 *
 * Rank: singular values by Householder QR + one-sided Jacobi; σ counts when σ > tolerance·σ_max
 * (default tolerance 1e-9; at the circuits checked the smallest counted σ/σ_max is above 1e-4 and the largest
 * discarded one below 1e-13, so any tolerance between works).
 */
import type { Circuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import { vjp } from '../sim/adjoint.ts';
import { assertCapacity } from '../sim/capacity.ts';
import { applyOp, assertReal } from '../sim/kernels.ts';
import { compile, gateAngles, OP } from '../sim/program.ts';
import type { Matrix } from '../util/matrix.ts';
import { createRng } from '../util/random.ts';
import { numericalRank, RANK_TOLERANCE, singularValues } from './linalg.ts';
import { checkColumnCount, checkTheta, drawAngles } from './runner.ts';

/**
 * The Jacobian ∂vec(U_K)/∂θ at θ: (N·K) × #θ, row-major, row i·K + k = ∂U[i, k]/∂θ (the row-major
 * order of U_K).
 */
export function jacobian(circuit: Circuit, theta: ArrayLike<number>, k = 1): Matrix<Float64Array> {
  checkColumnCount(circuit.qubits, k);
  checkTheta(circuit, theta);
  const prog = compile(circuit);
  assertReal(prog);
  const nP = prog.nParams;
  const B = (nP + 1) * k;
  assertCapacity(circuit.qubits, B, 'float64');
  const dim = prog.dim;
  const angles = gateAngles(prog, theta);
  const v = new Float64Array(dim * B);
  for (let j = 0; j < k; j++) v[j * B + j] = 1;
  for (let g = 0; g < prog.nGates; g++) {
    applyOp(prog, g, angles[g]!, v, B, false);
    const p = prog.pIndex[g]!;
    if (p < 0 || prog.code[g] !== OP.ry) continue;
    const h = 0.5 * prog.scale[g]!;
    const bit = 1 << prog.w0[g]!;
    const t = (p + 1) * k;
    for (let i = 0; i < dim; i++) {
      if (i & bit) continue;
      const o0 = i * B;
      const o1 = (i | bit) * B;
      for (let c = 0; c < k; c++) {
        const s0 = v[o0 + c]!;
        const s1 = v[o1 + c]!;
        v[o0 + t + c]! -= h * s1;
        v[o1 + t + c]! += h * s0;
      }
    }
  }
  const out = new Float64Array(dim * k * nP);
  for (let i = 0; i < dim; i++) {
    for (let c = 0; c < k; c++) {
      const row = (i * k + c) * nP;
      for (let p = 0; p < nP; p++) out[row + p] = v[i * B + (p + 1) * k + c]!;
    }
  }
  return { rows: dim * k, cols: nP, data: out };
}

/** The same Jacobian from N·K adjoint VJPs with upstream gradients e_i e_kᵀ (slow; a cross-check). */
export function jacobianByAdjoint(circuit: Circuit, theta: ArrayLike<number>, k = 1): Matrix<Float64Array> {
  checkColumnCount(circuit.qubits, k);
  checkTheta(circuit, theta);
  const dim = 2 ** circuit.qubits;
  const nP = circuit.params.length;
  const out = new Float64Array(dim * k * nP);
  const g = new Float64Array(dim * k);
  for (let r = 0; r < dim * k; r++) {
    g.fill(0);
    g[r] = 1;
    const { grad } = vjp(circuit, theta, { rows: dim, cols: k, data: g });
    out.set(grad, r * nP);
  }
  return { rows: dim * k, cols: nP, data: out };
}

/** Dimension of the manifold of the circuit's output: St(N, K), NK − K(K+1)/2 (N − 1 for states). */
export function manifoldDimension(qubits: number, k = 1): number {
  checkColumnCount(qubits, k);
  return 2 ** qubits * k - (k * (k + 1)) / 2;
}

export interface EffectiveDimensionResult {
  /** The rank of the Jacobian (maximum over the θ tried). */
  readonly rank: number;
  readonly params: number;
  readonly manifoldDimension: number;
  /** #θ − rank. */
  readonly redundancy: number;
  /** Singular values at the θ that gave the maximum rank, largest first. */
  readonly singularValues: Float64Array;
  readonly tolerance: number;
}

/** Effective dimension of the circuit's state (K = 1) or first K columns at `points` random θ (default 2). */
export function effectiveDimension(
  circuit: Circuit,
  options: { columns?: number; seed?: number; points?: number; tolerance?: number } = {},
): EffectiveDimensionResult {
  const k = options.columns ?? 1;
  const points = options.points ?? 2;
  const tolerance = options.tolerance ?? RANK_TOLERANCE;
  if (!Number.isInteger(points) || points < 1 || points > 1000) {
    throw new InputError(`points must be an integer in 1..1000, got ${points}`);
  }
  checkColumnCount(circuit.qubits, k);
  const rng = createRng(options.seed ?? 0);
  const theta = new Float64Array(circuit.params.length);
  let best = -1;
  let bestSv: Float64Array = new Float64Array(0);
  for (let t = 0; t < points; t++) {
    const sv = singularValues(jacobian(circuit, drawAngles(theta, rng.next), k));
    const r = numericalRank(sv, tolerance);
    if (r > best) {
      best = r;
      bestSv = sv;
    }
  }
  return {
    rank: best,
    params: circuit.params.length,
    manifoldDimension: manifoldDimension(circuit.qubits, k),
    redundancy: circuit.params.length - best,
    singularValues: bestSv,
    tolerance,
  };
}
