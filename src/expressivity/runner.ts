/**
 * A reusable evaluator of one circuit's first K columns for many parameter vectors: the program is compiled
 * once and the work buffers are reused, which matters when a metric needs thousands of evaluations.
 */
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { assertCapacity } from '../sim/capacity.ts';
import { assertReal, runProgram } from '../sim/kernels.ts';
import { compile, gateAngles, type Program } from '../sim/program.ts';
import type { Matrix } from '../util/matrix.ts';

export interface ColumnRunner {
  readonly program: Program;
  readonly dim: number;
  readonly columns: number;
  /** U_K(θ) as a row-major N×K matrix in a fresh array. */
  run(theta: ArrayLike<number>): Matrix<Float64Array>;
}

/** Check that K is an integer in 1..2^n, with a message naming the circuit's size. */
export function checkColumnCount(qubits: number, k: number): void {
  const dim = 2 ** qubits;
  if (!Number.isInteger(k) || k < 1 || k > dim) {
    throw new InputError(`columns K must be an integer in 1..${dim} (2^${qubits}), got ${describe(k)}`);
  }
}

/** Check a θ vector's length and values against the circuit. */
export function checkTheta(circuit: Circuit, theta: ArrayLike<number>): void {
  if (theta.length !== circuit.params.length) {
    throw new InputError(`expected ${circuit.params.length} parameter values, got ${theta.length}`);
  }
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]))
      throw new InputError(`parameter ${i} must be finite, got ${describe(theta[i])}`);
  }
}

/** A float64 runner for the first `k` columns of a real circuit. */
export function columnRunner(circuit: Circuit, k: number): ColumnRunner {
  checkColumnCount(circuit.qubits, k);
  const program = compile(circuit);
  assertReal(program);
  assertCapacity(circuit.qubits, k, 'float64');
  const dim = program.dim;
  const angles = new Float64Array(program.nGates);
  return {
    program,
    dim,
    columns: k,
    run(theta) {
      if (theta.length !== program.nParams) {
        throw new InputError(`expected ${program.nParams} parameter values, got ${theta.length}`);
      }
      gateAngles(program, theta, angles);
      const v = new Float64Array(dim * k);
      for (let j = 0; j < k; j++) v[j * k + j] = 1;
      runProgram(program, angles, v, k);
      return { rows: dim, cols: k, data: v };
    },
  };
}

/** Fill `out` with angles uniform in [−π, π) from `next` (a uniform [0, 1) source). */
export function drawAngles(out: Float64Array, next: () => number): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = -Math.PI + 2 * Math.PI * next();
  return out;
}
