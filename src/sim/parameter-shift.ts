/**
 * Parameter-shift rules: gradients from forward evaluations only, exact for RY/RX/RZ (generator P with
 * P² = I, so a gate angle t enters the state as cos(t/2), sin(t/2)). A parameter used by several gates
 * gets the sum over its gates, each weighted by the angle's `scale` (chain rule).
 *
 * - Expectation values f = ⟨ψ|H|ψ⟩ (quadratic in the state; what hardware measures) have frequency 1 in t:
 *   ∂f/∂t = [f(t + π/2) − f(t − π/2)] / 2.
 * - Linear functionals of the matrix f = ⟨G, U⟩ (what a weight update sees) have frequency ½:
 *   ∂f/∂t = [f(t + π) − f(t − π)] / 4. (The ±π/2 rule would be off by a factor √2 here.)
 * Both are the independent checks of the adjoint gradients.
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import { runProgram } from './kernels.ts';
import { compile, gateAngles, type Program, resolveTheta } from './program.ts';
import { allocate, basisBatch } from './simulate.ts';

function shiftRule(
  prog: Program,
  base: Float64Array,
  f: (angles: Float64Array) => number,
  shift: number,
  denominator: number,
): Float64Array {
  const grad = new Float64Array(prog.nParams);
  const shifted = base.slice();
  for (let g = 0; g < prog.nGates; g++) {
    const p = prog.pIndex[g]!;
    if (p < 0) continue;
    shifted[g] = base[g]! + shift;
    const plus = f(shifted);
    shifted[g] = base[g]! - shift;
    const minus = f(shifted);
    shifted[g] = base[g]!;
    grad[p]! += (prog.scale[g]! * (plus - minus)) / denominator;
  }
  return grad;
}

/**
 * ∂⟨G, U_K(θ)⟩/∂θ for an upstream G (N×K) on the first K columns, by the amplitude-level shift rule
 * [f(t+π) − f(t−π)]/4: 2 forward runs per parameterised gate.
 */
export function parameterShiftGradient(
  circuit: Circuit,
  theta: Bindings | undefined,
  upstream: Matrix,
): Float64Array {
  const prog = compile(circuit);
  const k = upstream.cols;
  if (upstream.rows !== prog.dim || upstream.data.length !== prog.dim * k) {
    throw new InputError(`upstream gradient must be ${prog.dim}×K, got ${upstream.rows}×${upstream.cols}`);
  }
  const dtype = upstream.data instanceof Float32Array ? 'float32' : 'float64';
  const start = basisBatch(prog.dim, k, dtype);
  const work = allocate(dtype, start.length);
  const f = (angles: Float64Array): number => {
    work.set(start);
    runProgram(prog, angles, work, k);
    let s = 0;
    for (let i = 0; i < work.length; i++) s += upstream.data[i]! * work[i]!;
    return s;
  };
  return shiftRule(prog, gateAngles(prog, resolveTheta(circuit, theta)), f, Math.PI, 4);
}

/**
 * Gradient of the expectation ⟨ψ(θ)|H|ψ(θ)⟩ of a diagonal observable H = diag(h) (a computational-basis
 * measurement, e.g. a Pauli-Z string) with ψ(θ) = U(θ)|input⟩, by the hardware rule [f(t+π/2) − f(t−π/2)]/2.
 * `input` is a basis index (default 0).
 */
export function parameterShiftExpectation(
  circuit: Circuit,
  theta: Bindings | undefined,
  diagonal: ArrayLike<number>,
  input = 0,
): Float64Array {
  const prog = compile(circuit);
  if (diagonal.length !== prog.dim) {
    throw new InputError(`the observable's diagonal must have ${prog.dim} entries, got ${diagonal.length}`);
  }
  const work = new Float64Array(prog.dim);
  const f = (angles: Float64Array): number => {
    work.fill(0);
    work[input] = 1;
    runProgram(prog, angles, work, 1);
    let s = 0;
    for (let i = 0; i < prog.dim; i++) s += diagonal[i]! * work[i]! * work[i]!;
    return s;
  };
  return shiftRule(prog, gateAngles(prog, resolveTheta(circuit, theta)), f, Math.PI / 2, 2);
}
