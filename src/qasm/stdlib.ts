/**
 * The standard gates of `qelib1.inc` (OpenQASM 2) and `stdgates.inc` (OpenQASM 3), built in (no file is
 * read), and their exact lowering to the IR gate set (ry rx rz x z h cz cx swap) plus a global phase.
 *
 * Matrices follow Qiskit's gate definitions (which are those of qelib1.inc with
 * U(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]):
 * p(λ) = u1(λ) = diag(1, e^{iλ}) = e^{iλ/2}·rz(λ); u2(φ,λ) = U(π/2,φ,λ); u3 = u = U;
 * U(θ,φ,λ) = e^{i(φ+λ)/2}·rz(φ)·ry(θ)·rz(λ); y = i·x·z; s = e^{iπ/4}·rz(π/2); t = e^{iπ/8}·rz(π/4);
 * sx = e^{iπ/4}·rx(π/2). The OpenQASM 3 `stdgates.inc` text defines u2/u3 with an extra `gphase`; like
 * Qiskit, we read u2/u3 as the matrices above (a difference of global phase only).
 */
import type { FixedName, RotationName, TwoQubitName } from '../circuit/gates.ts';
import { type Aff, add, konst, neg, scale } from './affine.ts';

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
  rxx: g(1, 2, (s, a, [x, y]) => {
    s.fixed('h', x!);
    s.fixed('h', y!);
    call(s, 'rzz', a, [x!, y!]);
    s.fixed('h', x!);
    s.fixed('h', y!);
  }),
});

/** Whether `angle` is the constant k·π for an integer k in −8..8 (then rz/rx simplify to Paulis). */
export function piMultiple(angle: Aff): number | null {
  if (angle.p !== null) return null;
  for (let m = -8; m <= 8; m++) if (angle.b === m * PI) return m;
  return null;
}
