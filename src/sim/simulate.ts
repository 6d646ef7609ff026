/**
 * The real simulator's public entry points: the circuit's first K columns, a circuit (or its transpose) on
 * a batch of states, and on a batch of row vectors.
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import { transposeData } from '../util/matrix.ts';
import { assertCapacity, type RealDType } from './capacity.ts';
import { assertReal, runFused, runProgram, type Vec } from './kernels.ts';
import { compile, gateAngles, resolveTheta } from './program.ts';

export interface SimOptions {
  /** `float64` (reference, default) or `float32` (fast path, half the memory). */
  dtype?: RealDType;
}

/** Allocate a zeroed buffer of the requested dtype. */
export function allocate(dtype: RealDType, length: number): Vec {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

function checkColumns(circuit: Circuit, k: number): void {
  const n = 2 ** circuit.qubits;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new InputError(`columns K must be an integer in 1..${n} (2^${circuit.qubits}), got ${describe(k)}`);
  }
}

/** The identity's first K columns in the batch layout: basis states |0⟩…|K−1⟩. */
export function basisBatch(dim: number, k: number, dtype: RealDType): Vec {
  const v = allocate(dtype, dim * k);
  for (let j = 0; j < k; j++) v[j * k + j] = 1;
  return v;
}

/**
 * The first K columns of the circuit's matrix as a row-major N×K matrix (column k = the circuit applied
 * to basis state |k⟩, bit order of `circuit/bit-order.ts`). K defaults to N, the full matrix.
 */
export function columns(
  circuit: Circuit,
  theta?: Bindings,
  k: number = 2 ** circuit.qubits,
  options: SimOptions = {},
): Matrix {
  const dtype = options.dtype ?? 'float64';
  checkColumns(circuit, k);
  const prog = compile(circuit);
  assertReal(prog);
  assertCapacity(circuit.qubits, k, dtype);
  const angles = gateAngles(prog, resolveTheta(circuit, theta));
  const v = basisBatch(prog.dim, k, dtype);
  // rows ≥ K of the basis batch are zero: the fused run touches only the rows reached so far
  runFused(prog, angles, v, k, k);
  return { rows: prog.dim, cols: k, data: v };
}

/** The full orthogonal matrix (N×N). */
export function unitary(circuit: Circuit, theta?: Bindings, options: SimOptions = {}): Matrix {
  return columns(circuit, theta, 2 ** circuit.qubits, options);
}

/**
 * Apply the circuit U (or Uᵀ with `transpose`) to a batch of states in place. `states` is N×B row-major
 * (column b is state b); returns the same array.
 */
export function applyToStates<T extends Vec>(
  circuit: Circuit,
  theta: Bindings | undefined,
  states: T,
  batch: number,
  options: { transpose?: boolean } = {},
): T {
  const prog = compile(circuit);
  if (!Number.isInteger(batch) || batch < 1 || states.length !== prog.dim * batch) {
    throw new InputError(
      `states must hold 2^${circuit.qubits} × batch = ${prog.dim} × ${describe(batch)} numbers, got ${states.length}`,
    );
  }
  const angles = gateAngles(prog, resolveTheta(circuit, theta));
  runProgram(prog, angles, states, batch, options.transpose ?? false);
  return states;
}

/**
 * A batch of row vectors X (B×N) times the circuit's matrix: X·U, or X·Uᵀ with `transpose`. Since
 * (X·U)ᵀ = Uᵀ·Xᵀ, the rows are loaded as states and the transposed circuit runs on them.
 */
export function rowsTimes(
  circuit: Circuit,
  theta: Bindings | undefined,
  x: Matrix,
  options: { transpose?: boolean } = {},
): Matrix {
  const dim = 2 ** circuit.qubits;
  if (x.cols !== dim)
    throw new InputError(`row vectors must have ${dim} entries (2^${circuit.qubits}), got ${x.cols}`);
  const states = transposeData(x.data, x.rows, x.cols);
  applyToStates(circuit, theta, states, x.rows, { transpose: !(options.transpose ?? false) });
  return { rows: x.rows, cols: dim, data: transposeData(states, dim, x.rows) };
}

/** Check that `basis` lists distinct basis indices of the register and K is in 1..basis.length. */
export function checkSubspace(circuit: Circuit, basis: ArrayLike<number>, k: number): void {
  const dim = 2 ** circuit.qubits;
  if (basis.length < 1 || basis.length > dim) {
    throw new InputError(`the subspace must list 1..${dim} basis states, got ${basis.length}`);
  }
  const seen = new Set<number>();
  for (let r = 0; r < basis.length; r++) {
    const b = basis[r]!;
    if (!Number.isInteger(b) || b < 0 || b >= dim || seen.has(b)) {
      throw new InputError(
        `subspace row ${r}: expected a basis index in 0..${dim - 1} not listed before, got ${describe(b)}`,
      );
    }
    seen.add(b);
  }
  if (!Number.isInteger(k) || k < 1 || k > basis.length) {
    throw new InputError(`columns K must be an integer in 1..${basis.length}, got ${describe(k)}`);
  }
}

/** Whether basis[0..k) = 0..k−1, so the cheaper first-K-columns kernels apply. */
export function leadingBasis(basis: ArrayLike<number>, k: number): boolean {
  for (let c = 0; c < k; c++) if (basis[c] !== c) return false;
  return true;
}

/**
 * The circuit applied to the first K states of `basis` (column c = U·|basis[c]⟩), all N rows, float64
 * row-major N×K: the register-wide value `subspaceColumns` restricts (the tf bridge keeps it for the
 * backward pass).
 */
export function subspaceInputColumns(
  circuit: Circuit,
  theta: Bindings | undefined,
  basis: ArrayLike<number>,
  k: number,
): Matrix {
  checkSubspace(circuit, basis, k);
  const dim = 2 ** circuit.qubits;
  if (leadingBasis(basis, k)) return columns(circuit, theta, k);
  const states = new Float64Array(dim * k);
  for (let c = 0; c < k; c++) states[basis[c]! * k + c] = 1;
  return { rows: dim, cols: k, data: applyToStates(circuit, theta, states, k) };
}

/** Rows `basis` (in that order) of an N×K row-major matrix. */
export function restrictRows(full: Matrix, basis: ArrayLike<number>): Matrix {
  const k = full.cols;
  const d = basis.length;
  const out = new Float64Array(d * k);
  for (let r = 0; r < d; r++) out.set(full.data.subarray(basis[r]! * k, basis[r]! * k + k), r * k);
  return { rows: d, cols: k, data: out };
}

/**
 * The circuit's matrix restricted to a subspace: the d×K matrix P[r][c] = U[basis[r]][basis[c]] (float64,
 * row-major), for the d basis states `basis` (a subspace the circuit leaves invariant, such as a mixed-radix
 * register's rows) and its first K of them as inputs.
 */
export function subspaceColumns(
  circuit: Circuit,
  theta: Bindings | undefined,
  basis: ArrayLike<number>,
  k: number,
): Matrix {
  return restrictRows(subspaceInputColumns(circuit, theta, basis, k), basis);
}
