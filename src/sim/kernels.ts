/**
 * Real statevector kernels on a batch of states.
 *
 * Layout: a batch of B states of dimension N is one typed array of N·B numbers, index-major:
 * amplitude i of state b sits at `i·B + b`. Read as a row-major N×B matrix, the batch's columns are the
 * states, so running the circuit on the first K basis states yields the circuit's first K columns in place.
 * Indices differing only in wire w are 2^w·B elements apart and the elements with bit w = 0 come in
 * contiguous runs, so a one-qubit gate is one flat loop (PennyLane/TorchQuantum's "slice and recombine").
 *
 * All gates here are real. RX and RZ are rejected by `applyOp` (see complex.ts for the complex path).
 */
import { UnsupportedGateError } from '../errors.ts';
import { OP, type Program } from './program.ts';

export type Vec = Float64Array | Float32Array;

/** [[c, −s], [s, c]] on wire w. */
export function rotY(v: Vec, total: number, B: number, w: number, c: number, s: number): void {
  const stride = (1 << w) * B;
  const block = 2 * stride;
  for (let base = 0; base < total; base += block) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const a = v[i]!;
      const b = v[i + stride]!;
      v[i] = c * a - s * b;
      v[i + stride] = s * a + c * b;
    }
  }
}

function negateWhereSet(v: Vec, total: number, B: number, w: number): void {
  const stride = (1 << w) * B;
  for (let base = stride; base < total; base += 2 * stride) {
    const end = base + stride;
    for (let i = base; i < end; i++) v[i] = -v[i]!;
  }
}

function negateWhereBothSet(v: Vec, total: number, B: number, a: number, b: number): void {
  const lo = (1 << Math.min(a, b)) * B;
  const hi = (1 << Math.max(a, b)) * B;
  for (let h = hi; h < total; h += 2 * hi) {
    const hEnd = h + hi;
    for (let l = h + lo; l < hEnd; l += 2 * lo) {
      const end = l + lo;
      for (let i = l; i < end; i++) v[i] = -v[i]!;
    }
  }
}

function flip(v: Vec, total: number, B: number, w: number): void {
  const stride = (1 << w) * B;
  for (let base = 0; base < total; base += 2 * stride) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const t = v[i]!;
      v[i] = v[i + stride]!;
      v[i + stride] = t;
    }
  }
}

function hadamard(v: Vec, total: number, B: number, w: number): void {
  const stride = (1 << w) * B;
  const r = Math.SQRT1_2;
  for (let base = 0; base < total; base += 2 * stride) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const a = v[i]!;
      const b = v[i + stride]!;
      v[i] = r * (a + b);
      v[i + stride] = r * (a - b);
    }
  }
}

/** Swap the rows (blocks of B) of basis index i and i ^ mask for every i with (i & mask) === pick. */
function swapRows(v: Vec, dim: number, B: number, mask: number, pick: number): void {
  for (let i = 0; i < dim; i++) {
    if ((i & mask) !== pick) continue;
    const j = (i ^ mask) * B;
    const o = i * B;
    for (let b = 0; b < B; b++) {
      const t = v[o + b]!;
      v[o + b] = v[j + b]!;
      v[j + b] = t;
    }
  }
}

/**
 * Apply gate `g` of `prog` with numeric `angle` (its transpose when `transpose`) to the batch in place.
 * Every real gate but RY is symmetric, so the transpose only negates RY's angle.
 */
export function applyOp(
  prog: Program,
  g: number,
  angle: number,
  v: Vec,
  B: number,
  transpose: boolean,
): void {
  const dim = prog.dim;
  const total = dim * B;
  const a = prog.w0[g]!;
  switch (prog.code[g]) {
    case OP.ry: {
      const half = (transpose ? -angle : angle) / 2;
      rotY(v, total, B, a, Math.cos(half), Math.sin(half));
      return;
    }
    case OP.cz:
      negateWhereBothSet(v, total, B, a, prog.w1[g]!);
      return;
    case OP.z:
      negateWhereSet(v, total, B, a);
      return;
    case OP.x:
      flip(v, total, B, a);
      return;
    case OP.h:
      hadamard(v, total, B, a);
      return;
    case OP.cx: {
      // rows with control = 1 and target = 0 swap with control = 1, target = 1
      const c = 1 << a;
      const t = 1 << prog.w1[g]!;
      for (let i = 0; i < dim; i++) {
        if ((i & c) === 0 || (i & t) !== 0) continue;
        const o = i * B;
        const j = (i | t) * B;
        for (let b = 0; b < B; b++) {
          const tmp = v[o + b]!;
          v[o + b] = v[j + b]!;
          v[j + b] = tmp;
        }
      }
      return;
    }
    case OP.swap: {
      const ma = 1 << a;
      swapRows(v, dim, B, ma | (1 << prog.w1[g]!), ma);
      return;
    }
    default:
      throw new UnsupportedGateError(
        `gate ${g} (${prog.circuit.gates[g]!.name}) is complex; the real simulator applies only ry, cz, cx, x, z, h, swap (use the complex reference simulator, simulateComplex)`,
      );
  }
}

/** Refuse a program with complex gates before any work is done. */
export function assertReal(prog: Program): void {
  if (prog.real) return;
  const g = prog.circuit.gates.findIndex((x) => x.name === 'rx' || x.name === 'rz');
  throw new UnsupportedGateError(
    `gate ${g} (${prog.circuit.gates[g]!.name}) is complex; the real simulator applies only ry, cz, cx, x, z, h, swap (use the complex reference simulator, simulateComplex)`,
  );
}

/** Run the whole program (or its transpose: gates reversed and transposed) on the batch in place. */
export function runProgram(prog: Program, angles: Float64Array, v: Vec, B: number, transpose = false): void {
  assertReal(prog);
  if (transpose) for (let g = prog.nGates - 1; g >= 0; g--) applyOp(prog, g, angles[g]!, v, B, true);
  else for (let g = 0; g < prog.nGates; g++) applyOp(prog, g, angles[g]!, v, B, false);
}
