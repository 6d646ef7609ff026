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
  applyOpRows(prog, g, angle, v, B, transpose, prog.dim);
}

/**
 * `applyOp` restricted to the first `rows` basis rows (a power of two above every wire of the gate): the
 * rows beyond are known to be zero, or not needed, and are left alone.
 */
export function applyOpRows(
  prog: Program,
  g: number,
  angle: number,
  v: Vec,
  B: number,
  transpose: boolean,
  rows: number,
): void {
  const total = rows * B;
  const a = prog.w0[g]!;
  const k = kernelsFor(v);
  switch (prog.code[g]) {
    case OP.ry: {
      const half = (transpose ? -angle : angle) / 2;
      k.rotY(v, total, B, a, Math.cos(half), Math.sin(half));
      return;
    }
    case OP.cz:
      k.negateWhereBothSet(v, total, B, a, prog.w1[g]!);
      return;
    case OP.z:
      k.negateWhereSet(v, total, B, a);
      return;
    case OP.x:
      k.flip(v, total, B, a);
      return;
    case OP.h:
      k.hadamard(v, total, B, a);
      return;
    case OP.cx: {
      // rows with control = 1 and target = 0 swap with control = 1, target = 1
      const c = 1 << a;
      const t = 1 << prog.w1[g]!;
      for (let i = 0; i < rows; i++) {
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
      k.swapRows(v, rows, B, ma | (1 << prog.w1[g]!), ma);
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
  else runFused(prog, angles, v, B, prog.dim);
}

// ---------------------------------------------------------------------------------------------------------
// Gate fusion. Memory passes, not arithmetic, dominate these kernels, so consecutive gates acting on at most
// two wires run as one dense 4×4 (or 2×2) pass, and consecutive diagonal gates (CZ, Z) as one sign pass. In
// the simplified two-design every "CZ, RY, RY" block becomes one pass.

/** A run of consecutive gates of a program, applied as one pass. */
export interface Segment {
  /** `block`: gates on wires ⊆ {lo, hi}, a dense local matrix; `diag`: CZ/Z gates only, a ±1 row sign. */
  readonly kind: 'block' | 'diag';
  /** The gates, in circuit order. */
  readonly gates: Int32Array;
  /** Block wires, lo < hi; hi = −1 for a one-wire block. */
  readonly lo: number;
  readonly hi: number;
  /** The highest wire touched (row extents are powers of two above it). */
  readonly maxWire: number;
  /** Diag: masks whose rows (all bits set) change sign. */
  readonly masks: Int32Array;
  /**
   * Block pattern with a fused backward step: optionally CZ(lo, hi) first, then one RY on lo and one on hi
   * (in either order: they commute). `ryLo`/`ryHi` are their gate indices, −1 if the pattern does not hold.
   */
  readonly ryLo: number;
  readonly ryHi: number;
  readonly czFirst: boolean;
}

const segmentCache = new WeakMap<Program, readonly Segment[]>();

function gateWires(prog: Program, g: number): number[] {
  const b = prog.w1[g]!;
  return b < 0 ? [prog.w0[g]!] : [prog.w0[g]!, b];
}

/** The fused segments of a program (cached). */
export function segments(prog: Program): readonly Segment[] {
  const hit = segmentCache.get(prog);
  if (hit) return hit;
  const blocks: { wires: number[]; gates: number[] }[] = [];
  let cur: { wires: number[]; gates: number[] } | undefined;
  for (let g = 0; g < prog.nGates; g++) {
    const ws = gateWires(prog, g);
    if (cur) {
      const union = [...new Set([...cur.wires, ...ws])];
      if (union.length <= 2) {
        cur.wires = union;
        cur.gates.push(g);
        continue;
      }
      blocks.push(cur);
    }
    cur = { wires: ws, gates: [g] };
  }
  if (cur) blocks.push(cur);
  const isDiag = (g: number) => prog.code[g] === OP.cz || prog.code[g] === OP.z;
  const out: Segment[] = [];
  let diag: number[] = [];
  const flushDiag = () => {
    if (!diag.length) return;
    const masks = Int32Array.from(diag, (g) =>
      prog.code[g] === OP.cz ? (1 << prog.w0[g]!) | (1 << prog.w1[g]!) : 1 << prog.w0[g]!,
    );
    const maxWire = Math.max(...diag.flatMap((g) => gateWires(prog, g)));
    out.push({
      kind: 'diag',
      gates: Int32Array.from(diag),
      lo: -1,
      hi: -1,
      maxWire,
      masks,
      ryLo: -1,
      ryHi: -1,
      czFirst: false,
    });
    diag = [];
  };
  for (const b of blocks) {
    if (b.gates.every(isDiag)) {
      diag.push(...b.gates);
      continue;
    }
    flushDiag();
    const lo = Math.min(...b.wires);
    const hi = b.wires.length === 2 ? Math.max(...b.wires) : -1;
    let ryLo = -1;
    let ryHi = -1;
    const czFirst = prog.code[b.gates[0]!] === OP.cz;
    const rest = czFirst ? b.gates.slice(1) : b.gates;
    if (hi >= 0 && rest.length === 2 && rest.every((g) => prog.code[g] === OP.ry)) {
      for (const g of rest) {
        if (prog.w0[g] === lo) ryLo = g;
        else ryHi = g;
      }
      if (ryLo < 0 || ryHi < 0) ryLo = ryHi = -1;
    }
    out.push({
      kind: 'block',
      gates: Int32Array.from(b.gates),
      lo,
      hi,
      maxWire: Math.max(lo, hi),
      masks: new Int32Array(0),
      ryLo,
      ryHi,
      czFirst: ryLo >= 0 && czFirst,
    });
  }
  flushDiag();
  segmentCache.set(prog, out);
  return out;
}

/**
 * Left-multiply the local 4×4 matrix `m` (row-major; local index j = bit(lo) + 2·bit(hi)) by gate `g`.
 * Local bit q of a wire: 0 for lo, 1 for hi.
 */
function mulLocal(m: Float64Array, prog: Program, g: number, angle: number, lo: number): void {
  const code = prog.code[g]!;
  const q0 = prog.w0[g] === lo ? 0 : 1;
  const q1 = prog.w1[g]! < 0 ? -1 : prog.w1[g] === lo ? 0 : 1;
  const c = Math.cos(angle / 2);
  const s = Math.sin(angle / 2);
  const r = Math.SQRT1_2;
  for (let col = 0; col < 4; col++) {
    // x = column `col` of m, transformed by the gate
    const x0 = m[col]!;
    const x1 = m[4 + col]!;
    const x2 = m[8 + col]!;
    const x3 = m[12 + col]!;
    const x = [x0, x1, x2, x3];
    const y = x.slice();
    if (code === OP.cz) y[3] = -x3;
    else if (code === OP.swap) {
      y[1] = x2;
      y[2] = x1;
    } else if (code === OP.cx) {
      const cb = 1 << q0;
      const tb = 1 << q1;
      for (let j = 0; j < 4; j++) if (j & cb) y[j] = x[j ^ tb]!;
    } else {
      const bit = 1 << q0;
      for (let j = 0; j < 4; j++) {
        if (j & bit) continue;
        const a = x[j]!;
        const b = x[j | bit]!;
        if (code === OP.ry) {
          y[j] = c * a - s * b;
          y[j | bit] = s * a + c * b;
        } else if (code === OP.z) {
          y[j | bit] = -b;
        } else if (code === OP.x) {
          y[j] = b;
          y[j | bit] = a;
        } else if (code === OP.h) {
          y[j] = r * (a + b);
          y[j | bit] = r * (a - b);
        }
      }
    }
    for (let j = 0; j < 4; j++) m[4 * j + col] = y[j]!;
  }
}

/** The local matrix of a block segment for the given gate angles. */
function blockMatrix(prog: Program, seg: Segment, angles: Float64Array, m: Float64Array): void {
  if (seg.ryLo >= 0) {
    // RY(hi) ⊗ RY(lo), after CZ if the block starts with one (it negates local column 3)
    const tl = angles[seg.ryLo]! / 2;
    const th = angles[seg.ryHi]! / 2;
    const lo = [Math.cos(tl), -Math.sin(tl), Math.sin(tl), Math.cos(tl)];
    const hi = [Math.cos(th), -Math.sin(th), Math.sin(th), Math.cos(th)];
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const v = hi[2 * (r >> 1) + (c >> 1)]! * lo[2 * (r & 1) + (c & 1)]!;
        m[4 * r + c] = seg.czFirst && c === 3 ? -v : v;
      }
    }
    return;
  }
  m.fill(0);
  m[0] = m[5] = m[10] = m[15] = 1;
  for (const g of seg.gates) mulLocal(m, prog, g, angles[g]!, seg.lo);
}

/** Dense 4×4 on wires lo < hi over the first `total` elements. */
function apply4(v: Vec, total: number, B: number, lo: number, hi: number, m: Float64Array): void {
  const sa = (1 << lo) * B;
  const sb = (1 << hi) * B;
  const m00 = m[0]!,
    m01 = m[1]!,
    m02 = m[2]!,
    m03 = m[3]!;
  const m10 = m[4]!,
    m11 = m[5]!,
    m12 = m[6]!,
    m13 = m[7]!;
  const m20 = m[8]!,
    m21 = m[9]!,
    m22 = m[10]!,
    m23 = m[11]!;
  const m30 = m[12]!,
    m31 = m[13]!,
    m32 = m[14]!,
    m33 = m[15]!;
  for (let h = 0; h < total; h += 2 * sb) {
    const hEnd = h + sb;
    for (let l = h; l < hEnd; l += 2 * sa) {
      const end = l + sa;
      for (let i = l; i < end; i++) {
        const i1 = i + sa;
        const i2 = i + sb;
        const i3 = i2 + sa;
        const x0 = v[i]!;
        const x1 = v[i1]!;
        const x2 = v[i2]!;
        const x3 = v[i3]!;
        v[i] = m00 * x0 + m01 * x1 + m02 * x2 + m03 * x3;
        v[i1] = m10 * x0 + m11 * x1 + m12 * x2 + m13 * x3;
        v[i2] = m20 * x0 + m21 * x1 + m22 * x2 + m23 * x3;
        v[i3] = m30 * x0 + m31 * x1 + m32 * x2 + m33 * x3;
      }
    }
  }
}

/** Dense 2×2 (the top-left of a one-wire block's local matrix) on wire w over the first `total` elements. */
function apply2(v: Vec, total: number, B: number, w: number, m: Float64Array): void {
  const stride = (1 << w) * B;
  const m00 = m[0]!,
    m01 = m[1]!,
    m10 = m[4]!,
    m11 = m[5]!;
  for (let base = 0; base < total; base += 2 * stride) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const a = v[i]!;
      const b = v[i + stride]!;
      v[i] = m00 * a + m01 * b;
      v[i + stride] = m10 * a + m11 * b;
    }
  }
}

/** Negate the rows (blocks of B) whose index has every bit of some odd number of `masks` set. */
function applySigns(v: Vec, rows: number, B: number, masks: Int32Array): void {
  const nm = masks.length;
  for (let r = 0; r < rows; r++) {
    let odd = 0;
    for (let j = 0; j < nm; j++) {
      const m = masks[j]!;
      if ((r & m) === m) odd ^= 1;
    }
    if (odd === 0) continue;
    const end = (r + 1) * B;
    for (let i = r * B; i < end; i++) v[i] = -v[i]!;
  }
}

/** The smallest power of two ≥ max(rows, 2^(wire+1)). */
export function extentAfter(rows: number, maxWire: number): number {
  let e = 1;
  while (e < rows) e *= 2;
  return Math.max(e, 2 ** (maxWire + 1));
}

const scratch4 = new Float64Array(16);

/** Apply one segment to the first `rows` rows. */
export function applySegment(
  prog: Program,
  seg: Segment,
  angles: Float64Array,
  v: Vec,
  B: number,
  rows: number,
): void {
  const k = kernelsFor(v);
  if (seg.kind === 'diag') {
    k.applySigns(v, rows, B, seg.masks);
    return;
  }
  blockMatrix(prog, seg, angles, scratch4);
  if (seg.hi < 0) k.apply2(v, rows * B, B, seg.lo, scratch4);
  else k.apply4(v, rows * B, B, seg.lo, seg.hi, scratch4);
}

/**
 * Run the program on a batch whose rows at or beyond `startRows` are zero (K for the basis states |0⟩…|K−1⟩,
 * `prog.dim` for arbitrary states): each segment touches only the rows that can be nonzero so far.
 */
export function runFused(prog: Program, angles: Float64Array, v: Vec, B: number, startRows: number): void {
  let rows = extentAfter(startRows, -1);
  for (const seg of segments(prog)) {
    rows = extentAfter(rows, seg.maxWire);
    applySegment(prog, seg, angles, v, B, rows);
  }
}

/**
 * Specialised copies after a trial call on a tiny input: a copy that cannot run (its source referred to
 * something outside it, as code instrumented for coverage does) falls back to the shared `fallback`.
 */
export function checkedCopies<T>(copies: T, trial: (k: T) => unknown, fallback: T): T {
  try {
    trial(copies);
    return copies;
  } catch {
    return fallback;
  }
}

/**
 * A second copy of a self-contained kernel (one that uses only its arguments and globals such as `Math`),
 * compiled from its source. V8 keeps type feedback per function, so one copy per element type keeps every
 * typed-array access monomorphic: measured about 1.5× faster than one copy serving Float64Array and
 * Float32Array alike. Where code generation is not allowed (a browser's CSP) the shared function is used.
 */
export function specialise<F extends (...args: never[]) => unknown>(fn: F): F {
  try {
    const copy = new Function(`return ${fn.toString()}`)() as unknown;
    return typeof copy === 'function' ? (copy as F) : fn;
  } catch {
    return fn;
  }
}

const F64_KERNELS = {
  rotY,
  negateWhereSet,
  negateWhereBothSet,
  flip,
  hadamard,
  swapRows,
  apply2,
  apply4,
  applySigns,
};
type Kernels = typeof F64_KERNELS;
const F32_KERNELS = checkedCopies(
  Object.fromEntries(
    Object.entries(F64_KERNELS).map(([name, fn]) => [name, specialise(fn)]),
  ) as unknown as Kernels,
  (k) => {
    const v = Float32Array.of(1, 2, 3, 4);
    const m = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    k.rotY(v, 4, 1, 0, 1, 0);
    k.negateWhereSet(v, 4, 1, 1);
    k.negateWhereBothSet(v, 4, 1, 0, 1);
    k.flip(v, 4, 1, 0);
    k.hadamard(v, 4, 1, 1);
    k.swapRows(v, 4, 1, 3, 1);
    k.apply2(v, 4, 1, 0, m);
    k.apply4(v, 4, 1, 0, 1, m);
    k.applySigns(v, 4, 1, Int32Array.of(3));
    return v;
  },
  F64_KERNELS,
);

/** The kernel set specialised to the buffer's element type. */
export function kernelsFor(v: Vec): Kernels {
  return v instanceof Float32Array ? F32_KERNELS : F64_KERNELS;
}
