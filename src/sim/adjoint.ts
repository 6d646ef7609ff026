/**
 * Exact gradients by the adjoint method (reverse-mode through the statevector).
 *
 * For f(θ) = ⟨G, U(θ)·Ψ₀⟩ (Frobenius inner product) the forward pass gives Ψ = UΨ₀. Walking the gates
 * backwards with Ψ_j (the batch after gate j) and Λ_j (the upstream gradient pulled back to after gate j):
 * dRY(t)/dt = ½·A·RY(t) with A = [[0, −1], [1, 0]], so ∂f/∂t_j = ½⟨Λ_j, A·Ψ_j⟩; then both are pulled one
 * gate back through g_jᵀ (RY(t)ᵀ = RY(−t); every other real gate is symmetric). The cost is about three
 * forward passes and two state buffers, whatever the number of parameters. The walk goes over the fused
 * segments of kernels.ts, so a two-design "CZ, RY, RY" block is one backward pass.
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../util/matrix.ts';
import { assertCapacity, type RealDType } from './capacity.ts';
import {
  applyOpRows,
  assertReal,
  checkedCopies,
  extentAfter,
  kernelsFor,
  runFused,
  segments,
  specialise,
  type Vec,
} from './kernels.ts';
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

/**
 * Backward step through a fused "CZ(lo, hi)?, RY(lo), RY(hi)" block in one pass: accumulate both RYs'
 * ½⟨Λ, AΨ⟩ into `out` and undo the block on Ψ and Λ. The two RYs commute, so their order does not matter.
 */
function pairBackward(
  psi: Vec,
  lam: Vec,
  total: number,
  B: number,
  lo: number,
  hi: number,
  angleLo: number,
  angleHi: number,
  cz: boolean,
  out: Float64Array,
): void {
  const sa = (1 << lo) * B;
  const sb = (1 << hi) * B;
  const ca = Math.cos(angleLo / 2);
  const na = Math.sin(angleLo / 2);
  const cb = Math.cos(angleHi / 2);
  const nb = Math.sin(angleHi / 2);
  const sign = cz ? -1 : 1;
  let accLo = 0;
  let accHi = 0;
  for (let h = 0; h < total; h += 2 * sb) {
    const hEnd = h + sb;
    for (let l = h; l < hEnd; l += 2 * sa) {
      const end = l + sa;
      for (let i = l; i < end; i++) {
        const i1 = i + sa;
        const i2 = i + sb;
        const i3 = i2 + sa;
        let p0 = psi[i]!;
        let p1 = psi[i1]!;
        let p2 = psi[i2]!;
        let p3 = psi[i3]!;
        let l0 = lam[i]!;
        let l1 = lam[i1]!;
        let l2 = lam[i2]!;
        let l3 = lam[i3]!;
        // RY on hi: pairs (0, 2) and (1, 3); then undo it (rotate by −t)
        accHi += l2 * p0 - l0 * p2 + l3 * p1 - l1 * p3;
        let t0 = cb * p0 + nb * p2;
        let t1 = cb * p1 + nb * p3;
        p2 = cb * p2 - nb * p0;
        p3 = cb * p3 - nb * p1;
        p0 = t0;
        p1 = t1;
        t0 = cb * l0 + nb * l2;
        t1 = cb * l1 + nb * l3;
        l2 = cb * l2 - nb * l0;
        l3 = cb * l3 - nb * l1;
        l0 = t0;
        l1 = t1;
        // RY on lo: pairs (0, 1) and (2, 3)
        accLo += l1 * p0 - l0 * p1 + l3 * p2 - l2 * p3;
        psi[i] = ca * p0 + na * p1;
        psi[i1] = ca * p1 - na * p0;
        psi[i2] = ca * p2 + na * p3;
        psi[i3] = sign * (ca * p3 - na * p2);
        lam[i] = ca * l0 + na * l1;
        lam[i1] = ca * l1 - na * l0;
        lam[i2] = ca * l2 + na * l3;
        lam[i3] = sign * (ca * l3 - na * l2);
      }
    }
  }
  out[0] = 0.5 * accLo;
  out[1] = 0.5 * accHi;
}

const pairOut = new Float64Array(2);

/** Backward kernels, one copy per element type (see `specialise`). */
const F64_BACKWARD = { ryBackward, pairBackward };
const F32_BACKWARD = checkedCopies(
  { ryBackward: specialise(ryBackward), pairBackward: specialise(pairBackward) },
  (k) => {
    const psi = Float32Array.of(1, 0, 0, 0);
    const lam = Float32Array.of(0, 1, 0, 0);
    k.ryBackward(psi, lam, 4, 1, 0, 0.1);
    k.pairBackward(psi, lam, 4, 1, 0, 1, 0.1, 0.2, true, new Float64Array(2));
  },
  F64_BACKWARD,
);
const backwardFor = (v: Vec) => (v instanceof Float32Array ? F32_BACKWARD : F64_BACKWARD);

/**
 * The adjoint pass over the program's fused segments. Rows at or beyond `startRows` of the input batch are
 * zero; each segment then works on the rows the forward pass reached at that point, so with
 * `startRows < dim` `psi` and `lam` are exact on exit only in their first `startRows` rows (enough for θ's
 * gradient, which is all `vjp` needs). With `startRows = dim` this is the full adjoint pass.
 */
function adjointFused(
  prog: Program,
  angles: Float64Array,
  psi: Vec,
  lam: Vec,
  B: number,
  grad: Float64Array,
  startRows: number,
): void {
  const segs = segments(prog);
  const extent = new Float64Array(segs.length);
  let rows = extentAfter(startRows, -1);
  segs.forEach((seg, i) => {
    rows = extentAfter(rows, seg.maxWire);
    extent[i] = rows;
  });
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i]!;
    const r = extent[i]!;
    if (seg.kind === 'diag') {
      const k = kernelsFor(psi);
      k.applySigns(psi, r, B, seg.masks);
      k.applySigns(lam, r, B, seg.masks);
    } else if (seg.ryLo >= 0) {
      const gl = seg.ryLo;
      const gh = seg.ryHi;
      backwardFor(psi).pairBackward(
        psi,
        lam,
        r * B,
        B,
        seg.lo,
        seg.hi,
        angles[gl]!,
        angles[gh]!,
        seg.czFirst,
        pairOut,
      );
      const pl = prog.pIndex[gl]!;
      const ph = prog.pIndex[gh]!;
      if (pl >= 0) grad[pl]! += prog.scale[gl]! * pairOut[0]!;
      if (ph >= 0) grad[ph]! += prog.scale[gh]! * pairOut[1]!;
    } else {
      for (let j = seg.gates.length - 1; j >= 0; j--) {
        const g = seg.gates[j]!;
        if (prog.code[g] === OP.ry) {
          const d = backwardFor(psi).ryBackward(psi, lam, r * B, B, prog.w0[g]!, angles[g]!);
          const p = prog.pIndex[g]!;
          if (p >= 0) grad[p]! += prog.scale[g]! * d;
        } else {
          applyOpRows(prog, g, angles[g]!, psi, B, true, r);
          applyOpRows(prog, g, angles[g]!, lam, B, true, r);
        }
      }
    }
  }
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
  assertReal(prog);
  adjointFused(prog, angles, psi, lam, B, grad, prog.dim);
}

function checkBatch(name: string, m: Matrix, dim: number, cols: number): void {
  if (m.rows !== dim || m.cols !== cols || m.data.length !== dim * cols) {
    throw new InputError(
      `${name} must be ${dim}×${cols}, got ${m.rows}×${m.cols} (${m.data.length} numbers)`,
    );
  }
}

/**
 * The state the backward pass starts from: the given forward value (`name` in errors; copied into a `dtype`
 * buffer, shape checked), or `input()` run through the circuit (`rows`: the rows a sparse start has reached).
 */
function startingState(
  prog: Program,
  angles: Float64Array,
  forward: Matrix | undefined,
  name: string,
  input: () => Vec,
  B: number,
  dtype: RealDType,
  rows: number = prog.dim,
): Vec {
  if (forward) {
    checkBatch(name, forward, prog.dim, B);
    return dtype === 'float32' ? Float32Array.from(forward.data) : Float64Array.from(forward.data);
  }
  const psi = input();
  runFused(prog, angles, psi, B, rows);
  return psi;
}

/**
 * The vector–Jacobian product of the circuit on a batch of input states: value UΨ₀, ∂⟨G, UΨ₀⟩/∂θ and
 * UᵀG. `states` and `upstream` are N×B; the dtype of `states` is used for the work buffers. `forward`:
 * UΨ₀ already computed with the same angles (the tf bridge's forward pass); the backward pass then starts
 * from it instead of simulating the circuit again (the caller vouches for it; only its shape is checked).
 */
export function vjpStates(
  circuit: Circuit,
  theta: Bindings | undefined,
  states: Matrix,
  upstream: Matrix,
  options: { forward?: Matrix } = {},
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
  const psi = startingState(
    prog,
    angles,
    options.forward,
    'forward value',
    () => states.data.slice(),
    B,
    dtype,
  );
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
 * in float64 either way). Faster than `vjpStates` on the basis states: it skips the rows the sparse start
 * has not reached and does not form UᵀG. `forward`: U_K already computed by `columns` with the same angles
 * and dtype; the backward pass then starts from it instead of simulating the circuit again (the caller
 * vouches that it is that matrix; only its shape is checked).
 */
export function vjp(
  circuit: Circuit,
  theta: Bindings | undefined,
  upstream: Matrix,
  options: { dtype?: RealDType; forward?: Matrix } = {},
): { value: Matrix; grad: Float64Array } {
  const dtype = options.dtype ?? (upstream.data instanceof Float32Array ? 'float32' : 'float64');
  const k = upstream.cols;
  const dim = 2 ** circuit.qubits;
  if (!Number.isInteger(k) || k < 1 || k > dim) {
    throw new InputError(`upstream gradient must have 1..${dim} columns, got ${k}`);
  }
  const prog = compile(circuit);
  assertReal(prog);
  if (upstream.rows !== dim || upstream.data.length !== dim * k) {
    throw new InputError(
      `upstream gradient must be ${dim}×${k}, got ${upstream.rows}×${upstream.cols} (${upstream.data.length} numbers)`,
    );
  }
  assertCapacity(circuit.qubits, k, dtype, 2);
  const angles = gateAngles(prog, resolveTheta(circuit, theta));
  // The basis start is zero beyond row K: forward and backward touch only the rows reached so far.
  const psi = startingState(
    prog,
    angles,
    options.forward,
    'forward columns',
    () => basisBatch(dim, k, dtype),
    k,
    dtype,
    k,
  );
  const value = psi.slice();
  const lam = dtype === 'float32' ? Float32Array.from(upstream.data) : Float64Array.from(upstream.data);
  const grad = new Float64Array(prog.nParams);
  adjointFused(prog, angles, psi, lam, k, grad, k);
  return { value: { rows: dim, cols: k, data: value }, grad };
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
  runFused(prog, angles, psi, 1, prog.dim);
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
