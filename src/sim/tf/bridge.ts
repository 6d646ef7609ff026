/**
 * The bridge between the typed-array kernels and TensorFlow.js: tfjs ops whose forward value comes from the
 * statevector kernels and whose gradient is the kernels' adjoint VJP (`tf.customGrad`). No per-gate tfjs op
 * runs on this path, which is why it is the default for adapters on wasm/cpu (see bench/adapters.bench.ts:
 * building the small N×K factor in plain JS beats dozens of tiny tfjs ops, forward and backward).
 *
 * Work buffers are float64 (the result is cast to float32 once), so the factor is orthogonal to float32
 * rounding rather than to accumulated float32 error over many gates.
 */
import type { Circuit } from '../../circuit/ir.ts';
import { describe, InputError } from '../../errors.ts';
import { tf } from '../../tf/backend.ts';
import type { Matrix } from '../../util/matrix.ts';
import { vjp, vjpStates } from '../adjoint.ts';
import { assertReal } from '../kernels.ts';
import { compile } from '../program.ts';
import {
  applyToStates,
  checkSubspace,
  columns,
  leadingBasis,
  restrictRows,
  subspaceInputColumns,
} from '../simulate.ts';

function checkTheta(circuit: Circuit, theta: tf.Tensor): void {
  if (theta.rank !== 1 || theta.shape[0] !== circuit.params.length) {
    throw new InputError(
      `theta must be a 1-D tensor of ${circuit.params.length} angles (the circuit's parameters in order), got shape [${theta.shape.join(', ')}]`,
    );
  }
  if (theta.dtype !== 'float32') throw new InputError(`theta must be float32, got ${theta.dtype}`);
}

function checkK(circuit: Circuit, k: number): void {
  const n = 2 ** circuit.qubits;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new InputError(`columns K must be an integer in 1..${n} (2^${circuit.qubits}), got ${describe(k)}`);
  }
}

/**
 * The circuit's first K columns as a float32 [N, K] tensor, differentiable with respect to `theta` ([P],
 * float32, the circuit's parameters in order) through the adjoint method. The caller owns the result.
 * Complex gates are refused (`UnsupportedGateError`) before any work.
 */
export function circuitColumns(circuit: Circuit, theta: tf.Tensor1D, k: number): tf.Tensor2D {
  checkTheta(circuit, theta);
  checkK(circuit, k);
  assertReal(compile(circuit));
  const n = 2 ** circuit.qubits;
  const op = tf.customGrad(((th: tf.Tensor) => {
    const angles = Float64Array.from(th.dataSync());
    const u = columns(circuit, angles, k, { dtype: 'float64' });
    const value = tf.tensor2d(Float32Array.from(u.data), [n, k], 'float32');
    const gradFunc = (dy: tf.Tensor) => {
      const g: Matrix = { rows: n, cols: k, data: Float64Array.from(dy.dataSync()) };
      // the forward columns (float64) are reused: the backward pass does not simulate the circuit again
      const { grad } = vjp(circuit, angles, g, { dtype: 'float64', forward: u });
      return [tf.tensor1d(Float32Array.from(grad), 'float32')];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(theta) as tf.Tensor2D;
}

/**
 * The circuit applied to a batch of states given as the columns of `states` ([N, B] float32): U·X, with
 * gradients with respect to both `theta` and `states` (UᵀG) from the adjoint method. Used to compose
 * circuits into larger orthogonal maps (the direct sums of `peft/factor.ts`).
 */
export function applyCircuit(circuit: Circuit, theta: tf.Tensor1D, states: tf.Tensor2D): tf.Tensor2D {
  checkTheta(circuit, theta);
  const n = 2 ** circuit.qubits;
  if (states.rank !== 2 || states.shape[0] !== n) {
    throw new InputError(
      `states must be a [${n}, B] tensor (one state per column), got shape [${states.shape.join(', ')}]`,
    );
  }
  assertReal(compile(circuit));
  const b = states.shape[1];
  const op = tf.customGrad(((th: tf.Tensor, x: tf.Tensor) => {
    const angles = Float64Array.from(th.dataSync());
    const input: Matrix = { rows: n, cols: b, data: Float64Array.from(x.dataSync()) };
    const out = applyToStates(circuit, angles, input.data.slice(), b);
    const value = tf.tensor2d(Float32Array.from(out), [n, b], 'float32');
    const gradFunc = (dy: tf.Tensor) => {
      const g: Matrix = { rows: n, cols: b, data: Float64Array.from(dy.dataSync()) };
      // the forward value is reused: the backward pass does not simulate the circuit again
      const forward: Matrix = { rows: n, cols: b, data: out };
      const { grad, inputGrad } = vjpStates(circuit, angles, input, g, { forward });
      return [
        tf.tensor1d(Float32Array.from(grad), 'float32'),
        tf.tensor2d(Float32Array.from(inputGrad.data), [n, b], 'float32'),
      ];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(theta, states) as tf.Tensor2D;
}

/**
 * The circuit restricted to a subspace as a float32 [d, K] tensor, P[r][c] = U[basis[r]][basis[c]]
 * (see `subspaceColumns`), differentiable with respect to `theta` through the adjoint method: the upstream
 * gradient is scattered back to the register's rows, so rows outside the subspace get none. This is how a
 * mixed-radix factor (one circuit on ⌈log₂d⌉ qubits) enters tfjs. The caller owns the result.
 */
export function circuitSubspaceColumns(
  circuit: Circuit,
  theta: tf.Tensor1D,
  basis: Int32Array,
  k: number,
): tf.Tensor2D {
  checkTheta(circuit, theta);
  assertReal(compile(circuit));
  const n = 2 ** circuit.qubits;
  const d = basis.length;
  checkSubspace(circuit, basis, k);
  const leading = leadingBasis(basis, k);
  const op = tf.customGrad(((th: tf.Tensor) => {
    const angles = Float64Array.from(th.dataSync());
    // all N rows are kept for the backward pass, which starts from them instead of re-simulating
    const full = subspaceInputColumns(circuit, angles, basis, k);
    const value = tf.tensor2d(Float32Array.from(restrictRows(full, basis).data), [d, k], 'float32');
    const gradFunc = (dy: tf.Tensor) => {
      const up = dy.dataSync();
      const g = new Float64Array(n * k);
      for (let r = 0; r < d; r++) for (let c = 0; c < k; c++) g[basis[r]! * k + c] = up[r * k + c]!;
      const upstream: Matrix = { rows: n, cols: k, data: g };
      let grad: Float64Array;
      if (leading) grad = vjp(circuit, angles, upstream, { dtype: 'float64', forward: full }).grad;
      else {
        const states = new Float64Array(n * k);
        for (let c = 0; c < k; c++) states[basis[c]! * k + c] = 1;
        grad = vjpStates(circuit, angles, { rows: n, cols: k, data: states }, upstream, {
          forward: full,
        }).grad;
      }
      return [tf.tensor1d(Float32Array.from(grad), 'float32')];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(theta) as tf.Tensor2D;
}
