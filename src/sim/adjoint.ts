/**
 * Exact gradients by the adjoint method (reverse-mode through the statevector).
 *
 * For f(θ) = ⟨G, U(θ)·Ψ₀⟩ (Frobenius inner product) the forward pass gives Ψ = UΨ₀. Walking the gates
 * backwards with Ψ_j (the batch after gate j) and Λ_j (the upstream gradient pulled back to after gate j):
 * dRY(t)/dt = ½·A·RY(t) with A = [[0, −1], [1, 0]], so ∂f/∂t_j = ½⟨Λ_j, A·Ψ_j⟩; then both are pulled one
 * gate back through g_jᵀ (RY(t)ᵀ = RY(−t); every other real gate is symmetric). The cost is about three
 * forward passes and two state buffers, whatever the number of parameters.
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import { assertCapacity, type RealDType } from './capacity.ts';
import { applyOp, assertReal, runProgram, type Vec } from './kernels.ts';
import { compile, gateAngles, OP, type Program, resolveTheta } from './program.ts';
import { basisBatch } from './simulate.ts';

export interface VjpResult {
  /** The forward value U·Ψ₀ (for `vjp`: the first K columns of U). */
  readonly value: Matrix;
  /** ∂⟨G, UΨ₀⟩/∂θ in `circuit.params` order. */
  readonly grad: Float64Array;
  /** ∂⟨G, UΨ₀⟩/∂Ψ₀ = UᵀG, the gradient with respect to the input states. */
  readonly inputGrad: Matrix;
}

/** One fused backward step through an RY: accumulate ½⟨Λ, AΨ⟩ and undo the rotation on Ψ and Λ. */
function ryBackward(psi: Vec, lam: Vec, total: number, B: number, w: number, angle: number): number {
  const stride = (1 << w) * B;
  const block = 2 * stride;
  const c = Math.cos(angle / 2);
  const s = -Math.sin(angle / 2);
  let acc = 0;
  for (let base = 0; base < total; base += block) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const p0 = psi[i]!;
      const p1 = psi[i + stride]!;
      const l0 = lam[i]!;
      const l1 = lam[i + stride]!;
      acc += l1 * p0 - l0 * p1;
      psi[i] = c * p0 - s * p1;
      psi[i + stride] = s * p0 + c * p1;
      lam[i] = c * l0 - s * l1;
      lam[i + stride] = s * l0 + c * l1;
    }
  }
  return 0.5 * acc;
}

/** Adjoint pass over a program; `psi` holds UΨ₀ on entry and Ψ₀ on exit, `lam` G on entry, UᵀG on exit. */
export function adjointPass(
  prog: Program,
  angles: Float64Array,
  psi: Vec,
  lam: Vec,
  B: number,
  grad: Float64Array,
): void {
  const total = prog.dim * B;
  for (let g = prog.nGates - 1; g >= 0; g--) {
    const p = prog.pIndex[g]!;
    if (prog.code[g] === OP.ry) {
      const d = ryBackward(psi, lam, total, B, prog.w0[g]!, angles[g]!);
      if (p >= 0) grad[p]! += prog.scale[g]! * d;
    } else {
      applyOp(prog, g, angles[g]!, psi, B, true);
      applyOp(prog, g, angles[g]!, lam, B, true);
    }
  }
}

function checkBatch(name: string, m: Matrix, dim: number, cols: number): void {
  if (m.rows !== dim || m.cols !== cols || m.data.length !== dim * cols) {
    throw new InputError(
      `${name} must be ${dim}×${cols}, got ${m.rows}×${m.cols} (${m.data.length} numbers)`,
    );
  }
}

/**
 * The vector–Jacobian product of the circuit on a batch of input states: value UΨ₀, ∂⟨G, UΨ₀⟩/∂θ and
 * UᵀG. `states` and `upstream` are N×B; the dtype of `states` is used for the work buffers.
 */
export function vjpStates(
  circuit: Circuit,
  theta: Bindings | undefined,
  states: Matrix,
  upstream: Matrix,
): VjpResult {
  const prog = compile(circuit);
  assertReal(prog);
  checkBatch('states', states, prog.dim, states.cols);
  checkBatch('upstream gradient', upstream, prog.dim, states.cols);
  const B = states.cols;
  const dtype: RealDType = states.data instanceof Float32Array ? 'float32' : 'float64';
  assertCapacity(circuit.qubits, B, dtype, 2);
  const th = resolveTheta(circuit, theta);
  const angles = gateAngles(prog, th);
  const psi = states.data.slice();
  runProgram(prog, angles, psi, B);
  const value = psi.slice();
  const lam = dtype === 'float32' ? Float32Array.from(upstream.data) : Float64Array.from(upstream.data);
  const grad = new Float64Array(prog.nParams);
  adjointPass(prog, angles, psi, lam, B, grad);
  return {
    value: { rows: prog.dim, cols: B, data: value },
    grad,
    inputGrad: { rows: prog.dim, cols: B, data: lam },
  };
}

/**
 * The first K columns U_K (N×K) and the gradient ∂⟨G, U_K⟩/∂θ for an upstream gradient G (N×K): the
 * backward pass of "circuit → orthogonal factor". `dtype` sets the work precision (gradients accumulate
 * in float64 either way).
 */
export function vjp(
  circuit: Circuit,
  theta: Bindings | undefined,
  upstream: Matrix,
  options: { dtype?: RealDType } = {},
): { value: Matrix; grad: Float64Array } {
  const dtype = options.dtype ?? (upstream.data instanceof Float32Array ? 'float32' : 'float64');
  const k = upstream.cols;
  const dim = 2 ** circuit.qubits;
  if (!Number.isInteger(k) || k < 1 || k > dim) {
    throw new InputError(`upstream gradient must have 1..${dim} columns, got ${k}`);
  }
  const states: Matrix = { rows: dim, cols: k, data: basisBatch(dim, k, dtype) };
  const { value, grad } = vjpStates(circuit, theta, states, upstream);
  return { value, grad };
}

/**
 * ⟨ψ|H|ψ⟩ and its exact gradient for ψ = U(θ)|input⟩ and a diagonal observable H = diag(h), by the adjoint
 * method (upstream 2·h∘ψ, since H is symmetric and ψ real).
 */
export function expectationAndGradient(
  circuit: Circuit,
  theta: Bindings | undefined,
  diagonal: ArrayLike<number>,
  input = 0,
): { value: number; grad: Float64Array } {
  const prog = compile(circuit);
  if (diagonal.length !== prog.dim) {
    throw new InputError(`the observable's diagonal must have ${prog.dim} entries, got ${diagonal.length}`);
  }
  if (!Number.isInteger(input) || input < 0 || input >= prog.dim) {
    throw new InputError(`input basis index must be in 0..${prog.dim - 1}, got ${input}`);
  }
  const start = new Float64Array(prog.dim);
  start[input] = 1;
  const th = resolveTheta(circuit, theta);
  const angles = gateAngles(prog, th);
  const psi = start.slice();
  runProgram(prog, angles, psi, 1);
  const lam = new Float64Array(prog.dim);
  let value = 0;
  for (let i = 0; i < prog.dim; i++) {
    value += diagonal[i]! * psi[i]! * psi[i]!;
    lam[i] = 2 * diagonal[i]! * psi[i]!;
  }
  const grad = new Float64Array(prog.nParams);
  adjointPass(prog, angles, psi, lam, 1, grad);
  return { value, grad };
}
