/**
 * The standard gates of `qelib1.inc` (OpenQASM 2, Qiskit's edition) and `stdgates.inc` (OpenQASM 3), built
 * in (no file is read), and their exact lowering to the IR gate set (ry rx rz x z h cz cx swap) plus a global
 * phase. Each file brings exactly its own gates (`QELIB1_GATES`, `STDGATES_GATES`). The gate modifiers
 * (`ctrl @`, `inv @`, `pow(k) @`) are sinks here too: `ControlSink` turns every lowered gate into its
 * controlled form, `InverseSink` records and replays reversed and inverted, `MatrixSink` builds the dense
 * matrix that a non-integer power needs.
 *
 * Matrices follow Qiskit's gate definitions (which are those of qelib1.inc with
 * U(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]):
 * p(λ) = u1(λ) = diag(1, e^{iλ}) = e^{iλ/2}·rz(λ); u2(φ,λ) = U(π/2,φ,λ); u3 = u = U;
 * U(θ,φ,λ) = e^{i(φ+λ)/2}·rz(φ)·ry(θ)·rz(λ); y = i·x·z; s = e^{iπ/4}·rz(π/2); t = e^{iπ/8}·rz(π/4);
 * sx = e^{iπ/4}·rx(π/2). OpenQASM 3's `stdgates.inc` defines its u2/u3 with an extra `gphase(−(φ+λ)/2)`:
 * that makes them rz(φ)·ry(θ)·rz(λ), "identical to the U of OpenQASM 2" as the specification puts it, and
 * `include "stdgates.inc"` brings those (`STDGATES_OWN`); qelib1.inc's u2/u3 stay Qiskit's matrices above.
 */
import type { FixedName, RotationName, TwoQubitName } from '../circuit/gates.ts';
import { type Aff, AffineError, add, konst, neg, scale } from './affine.ts';

/** Where lowered gates go. `exact` rotations are kept as written; decomposition rotations may simplify. */
export interface Sink {
  rot(name: RotationName, wire: number, angle: Aff, exact: boolean): void;
  fixed(name: FixedName, wire: number): void;
  two(name: TwoQubitName, a: number, b: number): void;
  phase(angle: Aff): void;
}

export interface StdGate {
  readonly params: number;
  readonly qubits: number;
  lower(s: Sink, a: readonly Aff[], w: readonly number[]): void;
}

const PI = Math.PI;
const k = konst;

function u3(s: Sink, theta: Aff, phi: Aff, lambda: Aff, w: number): void {
  s.rot('rz', w, lambda, false);
  s.rot('ry', w, theta, false);
  s.rot('rz', w, phi, false);
  s.phase(scale(add(phi, lambda), 0.5));
}
function p(s: Sink, lambda: Aff, w: number): void {
  s.rot('rz', w, lambda, false);
  s.phase(scale(lambda, 0.5));
}
const call = (s: Sink, name: string, a: readonly Aff[], w: readonly number[]) =>
  STD_GATES[name]!.lower(s, a, w);

const g = (params: number, qubits: number, lower: StdGate['lower']): StdGate =>
  Object.freeze({ params, qubits, lower });
const native1 = (name: RotationName) => g(1, 1, (s, a, w) => s.rot(name, w[0]!, a[0]!, true));
const fixed1 = (name: FixedName) => g(0, 1, (s, _a, w) => s.fixed(name, w[0]!));
const twoQ = (name: TwoQubitName) => g(0, 2, (s, _a, w) => s.two(name, w[0]!, w[1]!));
const phased = (name: RotationName, angle: number, phase: number) =>
  g(0, 1, (s, _a, w) => {
    s.rot(name, w[0]!, k(angle), false);
    s.phase(k(phase));
  });
const uGate = g(3, 1, (s, a, w) => u3(s, a[0]!, a[1]!, a[2]!, w[0]!));
const pGate = g(1, 1, (s, a, w) => p(s, a[0]!, w[0]!));
const cpGate = g(1, 2, (s, a, [c, t]) => {
  const half = scale(a[0]!, 0.5);
  p(s, half, c!);
  s.two('cx', c!, t!);
  p(s, neg(half), t!);
  s.two('cx', c!, t!);
  p(s, half, t!);
});

/** The standard gate library by name (the union of qelib1.inc and stdgates.inc, plus Qiskit's additions). */
export const STD_GATES: Readonly<Record<string, StdGate>> = Object.freeze({
  U: uGate,
  u3: uGate,
  u: uGate,
  u2: g(2, 1, (s, a, w) => u3(s, k(PI / 2), a[0]!, a[1]!, w[0]!)),
  u1: pGate,
  p: pGate,
  phase: pGate,
  id: g(0, 1, () => {}),
  rx: native1('rx'),
  ry: native1('ry'),
  rz: native1('rz'),
  x: fixed1('x'),
  z: fixed1('z'),
  h: fixed1('h'),
  y: g(0, 1, (s, _a, w) => {
    s.fixed('z', w[0]!);
    s.fixed('x', w[0]!);
    s.phase(k(PI / 2));
  }),
  s: phased('rz', PI / 2, PI / 4),
  sdg: phased('rz', -PI / 2, -PI / 4),
  t: phased('rz', PI / 4, PI / 8),
  tdg: phased('rz', -PI / 4, -PI / 8),
  sx: phased('rx', PI / 2, PI / 4),
  sxdg: phased('rx', -PI / 2, -PI / 4),
  cx: twoQ('cx'),
  CX: twoQ('cx'),
  cz: twoQ('cz'),
  swap: twoQ('swap'),
  cy: g(0, 2, (s, _a, [c, t]) => {
    call(s, 'sdg', [], [t!]);
    s.two('cx', c!, t!);
    call(s, 's', [], [t!]);
  }),
  // H = ry(π/4)·z·ry(−π/4), so controlled-H = ry(π/4)_t · cz · ry(−π/4)_t: real, no phase.
  ch: g(0, 2, (s, _a, [c, t]) => {
    s.rot('ry', t!, k(-PI / 4), false);
    s.two('cz', c!, t!);
    s.rot('ry', t!, k(PI / 4), false);
  }),
  ccx: g(0, 3, (s, _a, [a, b, c]) => {
    const T = (q: number) => call(s, 't', [], [q]);
    const Tdg = (q: number) => call(s, 'tdg', [], [q]);
    s.fixed('h', c!);
    s.two('cx', b!, c!);
    Tdg(c!);
    s.two('cx', a!, c!);
    T(c!);
    s.two('cx', b!, c!);
    Tdg(c!);
    s.two('cx', a!, c!);
    T(b!);
    T(c!);
    s.fixed('h', c!);
    s.two('cx', a!, b!);
    T(a!);
    Tdg(b!);
    s.two('cx', a!, b!);
  }),
  cswap: g(0, 3, (s, _a, [a, b, c]) => {
    s.two('cx', c!, b!);
    call(s, 'ccx', [], [a!, b!, c!]);
    s.two('cx', c!, b!);
  }),
  crz: g(1, 2, (s, a, [c, t]) => {
    const half = scale(a[0]!, 0.5);
    s.rot('rz', t!, half, false);
    s.two('cx', c!, t!);
    s.rot('rz', t!, neg(half), false);
    s.two('cx', c!, t!);
  }),
  cry: g(1, 2, (s, a, [c, t]) => {
    const half = scale(a[0]!, 0.5);
    s.rot('ry', t!, half, false);
    s.two('cx', c!, t!);
    s.rot('ry', t!, neg(half), false);
    s.two('cx', c!, t!);
  }),
  crx: g(1, 2, (s, a, w) => {
    s.fixed('h', w[1]!);
    call(s, 'crz', a, w);
    s.fixed('h', w[1]!);
  }),
  cp: cpGate,
  cphase: cpGate,
  cu1: cpGate,
  cu3: g(3, 2, (s, [theta, phi, lambda], [c, t]) => {
    p(s, scale(add(lambda!, phi!), 0.5), c!);
    p(s, scale(add(lambda!, neg(phi!)), 0.5), t!);
    s.two('cx', c!, t!);
    u3(s, scale(theta!, -0.5), k(0), scale(add(phi!, lambda!), -0.5), t!);
    s.two('cx', c!, t!);
    u3(s, scale(theta!, 0.5), phi!, k(0), t!);
  }),
  rzz: g(1, 2, (s, a, [x, y]) => {
    s.two('cx', x!, y!);
    s.rot('rz', y!, a[0]!, false);
    s.two('cx', x!, y!);
  }),
  u0: g(1, 1, () => {}),
  csx: g(0, 2, (s, _a, [c, t]) => call(new ControlSink(s, c!), 'sx', [], [t!])),
  // Controlled-(e^{iγ}·U(θ, φ, λ)), as Qiskit's CUGate: the phase γ lands on the control.
  cu: g(4, 2, (s, a, [c, t]) => {
    p(s, a[3]!, c!);
    uGate.lower(new ControlSink(s, c!), a.slice(0, 3), [t!]);
  }),
  // Relative-phase Toffolis (qelib1.inc): equal to ccx / c3x up to a diagonal of phases.
  rccx: g(0, 3, (s, _a, [a, b, c]) => {
    const T = (sign: number) => p(s, k((sign * PI) / 4), c!);
    s.fixed('h', c!);
    T(1);
    s.two('cx', b!, c!);
    T(-1);
    s.two('cx', a!, c!);
    T(1);
    s.two('cx', b!, c!);
    T(-1);
    s.fixed('h', c!);
  }),
  rc3x: g(0, 4, (s, _a, [a, b, c, d]) => {
    const T = (sign: number) => p(s, k((sign * PI) / 4), d!);
    const H = () => s.fixed('h', d!);
    const CX = (q: number) => s.two('cx', q, d!);
    H();
    T(1);
    CX(c!);
    T(-1);
    H();
    CX(a!);
    T(1);
    CX(b!);
    T(-1);
    CX(a!);
    T(1);
    CX(b!);
    T(-1);
    H();
    T(1);
    CX(c!);
    T(-1);
    H();
  }),
  c3x: g(0, 4, (s, _a, w) => multiControlled(s, w.slice(0, 3), (inner) => inner.fixed('x', w[3]!))),
  c4x: g(0, 5, (s, _a, w) => multiControlled(s, w.slice(0, 4), (inner) => inner.fixed('x', w[4]!))),
  // The 3-controlled √X (qelib1.inc's c3sqrtx is controlled-sx exactly).
  c3sqrtx: g(0, 4, (s, _a, w) =>
    multiControlled(s, w.slice(0, 3), (inner) => call(inner, 'sx', [], [w[3]!])),
  ),
  rxx: g(1, 2, (s, a, [x, y]) => {
    s.fixed('h', x!);
    s.fixed('h', y!);
    call(s, 'rzz', a, [x!, y!]);
    s.fixed('h', x!);
    s.fixed('h', y!);
  }),
});

/** rz(φ)·ry(θ)·rz(λ) with no global phase: stdgates.inc's `gphase(−(φ+λ)/2); U(θ, φ, λ)`. */
function zyz(s: Sink, theta: Aff, phi: Aff, lambda: Aff, w: number): void {
  s.rot('rz', w, lambda, false);
  s.rot('ry', w, theta, false);
  s.rot('rz', w, phi, false);
}

/**
 * The gates whose `stdgates.inc` definition differs from the qelib1.inc one of the same name (by a global
 * phase): `include "stdgates.inc"` takes these instead of `STD_GATES`'.
 */
export const STDGATES_OWN: Readonly<Record<string, StdGate>> = Object.freeze({
  u3: g(3, 1, (s, a, w) => zyz(s, a[0]!, a[1]!, a[2]!, w[0]!)),
  u2: g(2, 1, (s, a, w) => zyz(s, k(PI / 2), a[0]!, a[1]!, w[0]!)),
});

/** The gates `include "qelib1.inc";` brings (Qiskit's edition of the file); `U` and `CX` are built in. */
export const QELIB1_GATES: readonly string[] = Object.freeze(
  (
    'u3 u2 u1 cx id u0 u p x y z h s sdg t tdg rx ry rz sx sxdg cz cy swap ch ccx cswap crx cry crz ' +
    'cu1 cp cu3 csx cu rxx rzz rccx rc3x c3x c3sqrtx c4x'
  ).split(' '),
);
/** The gates `include "stdgates.inc";` brings (the OpenQASM 3 specification's file); `U` and `gphase` are built in. */
export const STDGATES_GATES: readonly string[] = Object.freeze(
  (
    'p x y z h s sdg t tdg sx rx ry rz cx cy cz cp crx cry crz ch swap ccx cswap cu CX phase cphase ' +
    'id u1 u2 u3'
  ).split(' '),
);

/**
 * Controlled form of everything lowered into it: each IR gate becomes its controlled version on `parent`
 * (controlled rotations by the two-CNOT identity, controlled cx by the Toffoli decomposition), and a global
 * phase φ becomes p(φ) on the control, which is what makes `ctrl @ gphase(φ)` the phase gate.
 */
export class ControlSink implements Sink {
  constructor(
    private readonly parent: Sink,
    private readonly control: number,
  ) {}
  private check(...wires: number[]): void {
    if (wires.includes(this.control))
      throw new AffineError(
        `the control qubit (wire ${this.control}) is also a target of the controlled gate`,
      );
  }
  rot(name: RotationName, wire: number, angle: Aff, _exact: boolean): void {
    this.check(wire);
    const c = this.control;
    const P = this.parent;
    if (name === 'rx') P.fixed('h', wire);
    const r = name === 'ry' ? 'ry' : 'rz';
    const half = scale(angle, 0.5);
    P.rot(r, wire, half, false);
    P.two('cx', c, wire);
    P.rot(r, wire, neg(half), false);
    P.two('cx', c, wire);
    if (name === 'rx') P.fixed('h', wire);
  }
  fixed(name: FixedName, wire: number): void {
    this.check(wire);
    const P = this.parent;
    if (name === 'x') P.two('cx', this.control, wire);
    else if (name === 'z') P.two('cz', this.control, wire);
    else STD_GATES.ch!.lower(P, [], [this.control, wire]);
  }
  two(name: TwoQubitName, a: number, b: number): void {
    this.check(a, b);
    const P = this.parent;
    const ccx = () => STD_GATES.ccx!.lower(P, [], [this.control, a, b]);
    if (name === 'cx') ccx();
    else if (name === 'cz') {
      P.fixed('h', b);
      ccx();
      P.fixed('h', b);
    } else {
      P.two('cx', b, a);
      ccx();
      P.two('cx', b, a);
    }
  }
  phase(angle: Aff): void {
    p(this.parent, angle, this.control);
  }
}

/** Run `body` under one `ControlSink` per control (outermost first). */
export function multiControlled(s: Sink, controls: readonly number[], body: (inner: Sink) => void): void {
  let inner: Sink = s;
  for (const c of controls) inner = new ControlSink(inner, c);
  body(inner);
}

/** Records what is lowered into it; `replayInverse` emits the inverse (reversed order, negated angles). */
export class InverseSink implements Sink {
  private readonly ops: ((s: Sink) => void)[] = [];
  constructor(private readonly maxOps: number) {}
  private add(op: (s: Sink) => void): void {
    if (this.ops.length >= this.maxOps)
      throw new AffineError(`the inverted gate expands to more than ${this.maxOps} gates`);
    this.ops.push(op);
  }
  rot(name: RotationName, wire: number, angle: Aff, exact: boolean): void {
    this.add((s) => s.rot(name, wire, neg(angle), exact));
  }
  fixed(name: FixedName, wire: number): void {
    this.add((s) => s.fixed(name, wire));
  }
  two(name: TwoQubitName, a: number, b: number): void {
    this.add((s) => s.two(name, a, b));
  }
  phase(angle: Aff): void {
    this.add((s) => s.phase(neg(angle)));
  }
  replayInverse(s: Sink): void {
    for (let i = this.ops.length - 1; i >= 0; i--) this.ops[i]!(s);
  }
}

/**
 * The dense matrix of what is lowered into it, on `n` local wires (wire j is bit j of the basis index).
 * Only constant angles: a non-integer power of a gate with input angles is not an IR circuit.
 */
export class MatrixSink implements Sink {
  readonly dim: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(readonly n: number) {
    this.dim = 1 << n;
    this.re = new Float64Array(this.dim * this.dim);
    this.im = new Float64Array(this.dim * this.dim);
    for (let i = 0; i < this.dim; i++) this.re[i * this.dim + i] = 1;
  }
  private value(a: Aff): number {
    if (a.p !== null)
      throw new AffineError(
        `a non-integer power of a gate whose angle uses input '${a.p}' is not supported (the power needs constant angles)`,
      );
    return a.b;
  }
  /** Left-multiply by a one-qubit matrix on `w`. */
  private one(w: number, m: readonly [number, number, number, number, number, number, number, number]): void {
    const [ar, ai, br, bi, cr, ci, dr, di] = m;
    const bit = 1 << w;
    const { dim, re, im } = this;
    for (let col = 0; col < dim; col++) {
      for (let r0 = 0; r0 < dim; r0++) {
        if (r0 & bit) continue;
        const r1 = r0 | bit;
        const i0 = r0 * dim + col;
        const i1 = r1 * dim + col;
        const x0r = re[i0]!;
        const x0i = im[i0]!;
        const x1r = re[i1]!;
        const x1i = im[i1]!;
        re[i0] = ar * x0r - ai * x0i + br * x1r - bi * x1i;
        im[i0] = ar * x0i + ai * x0r + br * x1i + bi * x1r;
        re[i1] = cr * x0r - ci * x0i + dr * x1r - di * x1i;
        im[i1] = cr * x0i + ci * x0r + dr * x1i + di * x1r;
      }
    }
  }
  /** Permute or sign basis rows: `f(row)` gives the source row and a sign. */
  private rows(f: (r: number) => [number, number]): void {
    const { dim, re, im } = this;
    const r2 = new Float64Array(re.length);
    const i2 = new Float64Array(im.length);
    for (let r = 0; r < dim; r++) {
      const [src, sign] = f(r);
      for (let c = 0; c < dim; c++) {
        r2[r * dim + c] = sign * re[src * dim + c]!;
        i2[r * dim + c] = sign * im[src * dim + c]!;
      }
    }
    re.set(r2);
    im.set(i2);
  }
  rot(name: RotationName, wire: number, angle: Aff, _exact: boolean): void {
    const t = this.value(angle) / 2;
    const c = Math.cos(t);
    const s = Math.sin(t);
    if (name === 'ry') this.one(wire, [c, 0, -s, 0, s, 0, c, 0]);
    else if (name === 'rx') this.one(wire, [c, 0, 0, -s, 0, -s, c, 0]);
    else this.one(wire, [c, -s, 0, 0, 0, 0, c, s]);
  }
  fixed(name: FixedName, wire: number): void {
    const r = Math.SQRT1_2;
    if (name === 'x') this.one(wire, [0, 0, 1, 0, 1, 0, 0, 0]);
    else if (name === 'z') this.one(wire, [1, 0, 0, 0, 0, 0, -1, 0]);
    else this.one(wire, [r, 0, r, 0, r, 0, -r, 0]);
  }
  two(name: TwoQubitName, a: number, b: number): void {
    const A = 1 << a;
    const B = 1 << b;
    if (name === 'cx') this.rows((r) => [r & A ? r ^ B : r, 1]);
    else if (name === 'cz') this.rows((r) => [r, r & A && r & B ? -1 : 1]);
    else this.rows((r) => [((r & A) !== 0) === ((r & B) !== 0) ? r : r ^ A ^ B, 1]);
  }
  phase(angle: Aff): void {
    const t = this.value(angle);
    const c = Math.cos(t);
    const s = Math.sin(t);
    for (let i = 0; i < this.re.length; i++) {
      const x = this.re[i]!;
      const y = this.im[i]!;
      this.re[i] = c * x - s * y;
      this.im[i] = c * y + s * x;
    }
  }
}

type C = readonly [number, number];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const csub = (a: C, b: C): C => [a[0] - b[0], a[1] - b[1]];
const cdiv = (a: C, b: C): C => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
const csqrt = (a: C): C => {
  const r = Math.hypot(a[0], a[1]);
  const re = Math.sqrt((r + a[0]) / 2);
  const im = Math.sqrt(Math.max(0, (r - a[0]) / 2));
  return [re, a[1] < 0 ? -im : im];
};
/** λ^k on the principal branch (arg in (−π, π]). */
const cpow = (a: C, k: number): C => {
  const r = Math.hypot(a[0], a[1]) ** k;
  let t = Math.atan2(a[1], a[0]);
  if (t === -Math.PI) t = Math.PI;
  return [r * Math.cos(k * t), r * Math.sin(k * t)];
};

/** A 2×2 complex matrix, row-major: [m00, m01, m10, m11]. */
export type Mat2 = readonly [C, C, C, C];

/**
 * The principal k-th power of a 2×2 unitary: M^k = Σ λᵢ^k Pᵢ over its eigenvalues (arg in (−π, π]) and
 * spectral projectors, so pow(1/2) @ z is s and pow(1/2) @ x is sx, as in Qiskit.
 */
export function principalPower(m: Mat2, k: number): Mat2 {
  const [a, b, c, d] = m;
  const half: C = [(a[0] + d[0]) / 2, (a[1] + d[1]) / 2];
  const det = csub(cmul(a, d), cmul(b, c));
  const root = csqrt(csub(cmul(half, half), det));
  const l1: C = [half[0] + root[0], half[1] + root[1]];
  const l2: C = [half[0] - root[0], half[1] - root[1]];
  const gap = csub(l1, l2);
  if (Math.hypot(gap[0], gap[1]) < 1e-12) {
    const p1 = cpow(l1, k);
    return [p1, [0, 0], [0, 0], p1];
  }
  const p1 = cdiv(cpow(l1, k), gap);
  const p2 = cdiv(cpow(l2, k), gap);
  // M^k = p1·(M − l2·I) − p2·(M − l1·I)
  const entry = (x: C, diag: boolean): C => {
    const u = cmul(p1, diag ? csub(x, l2) : x);
    const v = cmul(p2, diag ? csub(x, l1) : x);
    return csub(u, v);
  };
  return [entry(a, true), entry(b, false), entry(c, false), entry(d, true)];
}

/** Emit a 2×2 unitary as e^{iα}·rz(φ)·ry(θ)·rz(λ) on `wire` (exact, the ZYZ decomposition). */
export function emitUnitary1(s: Sink, m: Mat2, wire: number): void {
  const [a0, , b0, d0] = m;
  const det = csub(cmul(a0, d0), cmul(m[1], b0));
  const alpha = Math.atan2(det[1], det[0]) / 2;
  const unphase: C = [Math.cos(-alpha), Math.sin(-alpha)];
  const a = cmul(a0, unphase);
  const b = cmul(b0, unphase);
  const ma = Math.hypot(a[0], a[1]);
  const mb = Math.hypot(b[0], b[1]);
  const theta = 2 * Math.atan2(mb, ma);
  const sum = ma > 1e-14 ? -2 * Math.atan2(a[1], a[0]) : 0;
  const diff = mb > 1e-14 ? 2 * Math.atan2(b[1], b[0]) : 0;
  const phi = (sum + diff) / 2;
  const lambda = (sum - diff) / 2;
  s.rot('rz', wire, k(lambda), false);
  s.rot('ry', wire, k(theta), false);
  s.rot('rz', wire, k(phi), false);
  s.phase(k(alpha));
}

/** Whether `angle` is the constant k·π for an integer k in −8..8 (then rz/rx simplify to Paulis). */
export function piMultiple(angle: Aff): number | null {
  if (angle.p !== null) return null;
  for (let m = -8; m <= 8; m++) if (angle.b === m * PI) return m;
  return null;
}
