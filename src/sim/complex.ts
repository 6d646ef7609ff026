/**
 * A complex float64 reference simulator for circuits that contain RX or RZ (the real path refuses them).
 * Real gates act on the real and imaginary parts separately with the real kernels; RX, RZ and the global
 * phase mix the two. Not a fast path: it serves QASM lowering checks and "equal up to global phase" tests.
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { assertCapacity } from './capacity.ts';
import { applyOp } from './kernels.ts';
import { compile, gateAngles, OP, resolveTheta } from './program.ts';
import { basisBatch } from './simulate.ts';

/** A complex N×K row-major matrix as separate real and imaginary parts. */
export interface ComplexMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

function pairs(
  re: Float64Array,
  im: Float64Array,
  total: number,
  stride: number,
  f: (ar: number, ai: number, br: number, bi: number, i: number, j: number) => void,
): void {
  for (let base = 0; base < total; base += 2 * stride) {
    for (let i = base; i < base + stride; i++)
      f(re[i]!, im[i]!, re[i + stride]!, im[i + stride]!, i, i + stride);
  }
}

/** First K columns of the circuit's (complex) matrix, including `globalPhase`. */
export function simulateComplex(
  circuit: Circuit,
  theta?: Bindings,
  k: number = 2 ** circuit.qubits,
): ComplexMatrix {
  const prog = compile(circuit);
  if (!Number.isInteger(k) || k < 1 || k > prog.dim) {
    throw new InputError(`columns K must be an integer in 1..${prog.dim}, got ${describe(k)}`);
  }
  assertCapacity(circuit.qubits, k, 'float64', 2);
  const angles = gateAngles(prog, resolveTheta(circuit, theta));
  const re = basisBatch(prog.dim, k, 'float64') as Float64Array;
  const im = new Float64Array(re.length);
  const total = re.length;
  for (let g = 0; g < prog.nGates; g++) {
    const code = prog.code[g];
    const stride = (1 << prog.w0[g]!) * k;
    const c = Math.cos(angles[g]! / 2);
    const s = Math.sin(angles[g]! / 2);
    if (code === OP.rx) {
      pairs(re, im, total, stride, (ar, ai, br, bi, i, j) => {
        re[i] = c * ar + s * bi;
        im[i] = c * ai - s * br;
        re[j] = c * br + s * ai;
        im[j] = c * bi - s * ar;
      });
    } else if (code === OP.rz) {
      pairs(re, im, total, stride, (ar, ai, br, bi, i, j) => {
        re[i] = c * ar + s * ai;
        im[i] = c * ai - s * ar;
        re[j] = c * br - s * bi;
        im[j] = c * bi + s * br;
      });
    } else {
      applyOp(prog, g, angles[g]!, re, k, false);
      applyOp(prog, g, angles[g]!, im, k, false);
    }
  }
  const phase = circuit.globalPhase ?? 0;
  if (phase !== 0) {
    const c = Math.cos(phase);
    const s = Math.sin(phase);
    for (let i = 0; i < total; i++) {
      const r = re[i]!;
      re[i] = c * r - s * im[i]!;
      im[i] = s * r + c * im[i]!;
    }
  }
  return { rows: prog.dim, cols: k, re, im };
}

/**
 * The largest entry-wise distance between A and e^{iφ}B over the best global phase φ (found from the
 * largest entry of B): 0 when the two matrices are equal up to a global phase.
 */
export function distanceUpToPhase(a: ComplexMatrix, b: ComplexMatrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new InputError(
      `matrices must have the same shape, got ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`,
    );
  }
  let best = 0;
  let bi = 0;
  for (let i = 0; i < b.re.length; i++) {
    const m = b.re[i]! ** 2 + b.im[i]! ** 2;
    if (m > best) {
      best = m;
      bi = i;
    }
  }
  // phase = arg(a[bi] / b[bi])
  const num = {
    re: a.re[bi]! * b.re[bi]! + a.im[bi]! * b.im[bi]!,
    im: a.im[bi]! * b.re[bi]! - a.re[bi]! * b.im[bi]!,
  };
  const r = Math.hypot(num.re, num.im) || 1;
  const c = num.re / r;
  const s = num.im / r;
  let err = 0;
  for (let i = 0; i < a.re.length; i++) {
    const pr = c * b.re[i]! - s * b.im[i]!;
    const pi = s * b.re[i]! + c * b.im[i]!;
    err = Math.max(err, Math.hypot(a.re[i]! - pr, a.im[i]! - pi));
  }
  return err;
}
