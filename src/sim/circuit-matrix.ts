/**
 * The first K columns of any circuit's matrix, real or complex, with its orthogonality (unitarity) error:
 * what `qpeft unitary` and `qpeft qasm import --json` print and what a notebook shows.
 */
import { type Bindings, type Circuit, complexGates } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import { orthogonalityError } from '../util/matrix.ts';
import type { RealDType } from './capacity.ts';
import { simulateComplex } from './complex.ts';
import { columns } from './simulate.ts';

/** U_K of a circuit: the real part, the imaginary part when the circuit is complex, and ‖U_K†U_K − I‖_max. */
export interface CircuitMatrix {
  readonly re: Matrix;
  /** Null for a real circuit (RY/CZ and other real gates, no global phase). */
  readonly im: Matrix<Float64Array> | null;
  readonly globalPhase: number;
  readonly dtype: RealDType;
  /** max over entries of |U_K†U_K − I| (|U_KᵀU_K − I| for a real circuit). */
  readonly orthogonalityError: number;
}

/** max |U†U − I| over entries for a complex N×K matrix given as real and imaginary parts. */
function unitarityError(re: Float64Array, im: Float64Array, n: number, k: number): number {
  let err = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let a = 0;
      let b = 0;
      for (let r = 0; r < n; r++) {
        const ar = re[r * k + i]!;
        const ai = im[r * k + i]!;
        const br = re[r * k + j]!;
        const bi = im[r * k + j]!;
        a += ar * br + ai * bi;
        b += ar * bi - ai * br;
      }
      err = Math.max(err, Math.hypot(a - (i === j ? 1 : 0), b));
    }
  }
  return err;
}

/**
 * Simulate the first `k` columns of `circuit` at `theta`. A circuit with complex gates or a global phase
 * runs on the complex float64 simulator (float32 is then an error: there is no complex float32 path).
 */
export function circuitMatrix(
  circuit: Circuit,
  theta: Bindings,
  k: number = 2 ** circuit.qubits,
  dtype: RealDType = 'float64',
): CircuitMatrix {
  if (dtype !== 'float64' && dtype !== 'float32')
    throw new InputError(`dtype must be float64 or float32, got ${describe(dtype)}`);
  const globalPhase = circuit.globalPhase ?? 0;
  const complex = complexGates(circuit).length > 0 || globalPhase !== 0;
  if (!complex) {
    const re = columns(circuit, theta, k, { dtype });
    return { re, im: null, globalPhase, dtype, orthogonalityError: orthogonalityError(re) };
  }
  if (dtype !== 'float64')
    throw new InputError(
      'this circuit is complex (complex gates or a global phase): it simulates in float64 only',
    );
  const m = simulateComplex(circuit, theta, k);
  const dim = m.rows;
  return {
    re: { rows: dim, cols: k, data: m.re },
    im: { rows: dim, cols: k, data: m.im },
    globalPhase,
    dtype,
    orthogonalityError: unitarityError(m.re, m.im, dim, k),
  };
}
