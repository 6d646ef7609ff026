/**
 * An independent whole-file reference for OpenQASM 3 programs: qasm-ts (a different parser, a dev
 * dependency) reads the text, and the evaluator below walks its syntax tree and applies the gates as dense
 * matrices built from the hand-written ones in dense-ref.ts. Nothing here is shared with src/qasm: the
 * classical semantics (typed integers, loops, branches), the standard library, gate definitions and
 * modifiers are written again from the OpenQASM 3 specification.
 *
 * Scope: what the accepted corpus files use (registers and physical qubits, `gate` definitions with
 * parameters, `ctrl @` / `negctrl @` / `inv @` / integer `pow(k) @`, `gphase`, `for` over ranges and sets,
 * `while`, `if`/`else`, `bool`/`int[n]`/`uint[n]`/`float`/`angle[n]` variables with bit reads, barriers,
 * delays, reset before any gate and measurement at the end). Anything else throws, so a file that needs
 * more makes the corpus test fail instead of passing unchecked.
 *
 * qasm-ts 2.1 cannot read a few spellings that the specification allows; `forQasmTs` rewrites them to an
 * equivalent program first (physical qubits become a register, see there).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseString } from 'qasm-ts';
import {
  type C,
  cexp,
  Dense,
  H,
  I2,
  type M2,
  P,
  RX,
  RY,
  RZ,
  S,
  SX,
  scaled,
  T,
  U,
  X,
  Y,
  Z,
} from './dense-ref.ts';

// qasm-ts nodes are plain class instances; the evaluator dispatches on the class name.
// biome-ignore lint/suspicious/noExplicitAny: an untyped foreign syntax tree, checked field by field below
type Node = any;
const kind = (n: Node): string => n?.constructor?.name ?? typeof n;

class RefError extends Error {}
const fail = (what: string): never => {
  throw new RefError(`qasm3-ref: ${what}`);
};

/**
 * Rewrite the spellings qasm-ts 2.1 does not read into equivalent OpenQASM 3:
 * - physical qubits: `qubit $n;` declarations are dropped and `$n` becomes `PHYSICAL[n]` of one register
 *   declared after the version line, `max n + 1` wide (the specification's width for physical programs);
 * - a `for` loop variable without a type gets `int` (older 3.0 drafts allowed it untyped);
 * - `bit b = measure …;` becomes `bit b; b = measure …;`;
 * - comments are removed and the program is put on one line (qasm-ts 2.1 fails on `h q;⏎ } else {`).
 * Each is a token-level change that cannot alter the program's unitary.
 */
export function forQasmTs(text: string): { text: string; physical: number } {
  let width = 0;
  for (const m of text.matchAll(/\$(\d+)/g)) width = Math.max(width, Number(m[1]) + 1);
  let t = text.replace(/\bqubit\s+\$\d+\s*;/g, '').replace(/\$(\d+)/g, 'PHYSICAL[$1]');
  if (width > 0) {
    const decl = `qubit[${width}] PHYSICAL;`;
    const v = /OPENQASM\s+[\d.]+\s*;/.exec(t);
    t = v
      ? `${t.slice(0, v.index + v[0].length)}\n${decl}${t.slice(v.index + v[0].length)}`
      : `${decl}\n${t}`;
  }
  t = t.replace(/\bfor\s+([A-Za-z_]\w*)\s+in\b/g, 'for int $1 in');
  t = t.replace(/\bbit\s+([A-Za-z_]\w*)\s*=\s*measure\b/g, 'bit $1; $1 = measure');
  t = t
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s*\n\s*/g, ' ');
  return { text: t, physical: width };
}

/**
 * Replace each `include "f";` other than stdgates.inc by the text of `includeDir/f` (the specification's
 * include is textual substitution); the included file's own version line, if any, is dropped.
 */
function spliceIncludes(text: string, includeDir: string, depth: number): string {
  if (depth > 8) fail('includes nested more than 8 deep');
  return text.replace(/\binclude\s+"([^"]+)"\s*;/g, (whole, file: string) => {
    if (file === 'stdgates.inc') return whole;
    const inner = readFileSync(path.join(includeDir, file), 'utf8').replace(/OPENQASM\s+[\d.]+\s*;/, '');
    return spliceIncludes(inner, includeDir, depth + 1);
  });
}

/** A k-qubit unitary as a dense 2^k × 2^k matrix; local bit j is the gate's j-th qubit argument. */
type Op = { k: number; re: Float64Array; im: Float64Array };

const opOf = (d: Dense): Op => ({ k: d.n, re: d.re, im: d.im });
const one = (m: M2): Op => opOf(new Dense(1).g(m, 0));
const ctrl1 = (m: M2): Op => opOf(new Dense(2).g(m, 1, [0]));

/** Add `n` controls (bits 0…n−1 of the new op; `neg` for controls that fire on |0⟩). */
function controlled(op: Op, n: number, neg: boolean): Op {
  const k = op.k + n;
  const dim = 2 ** k;
  const sub = 2 ** op.k;
  const re = new Float64Array(dim * dim);
  const im = new Float64Array(dim * dim);
  const fire = neg ? 0 : 2 ** n - 1;
  for (let i = 0; i < dim; i++) {
    const ci = i & (2 ** n - 1);
    if (ci !== fire) {
      re[i * dim + i] = 1;
      continue;
    }
    for (let j = 0; j < dim; j++) {
      if ((j & (2 ** n - 1)) !== fire) continue;
      re[i * dim + j] = op.re[(i >> n) * sub + (j >> n)]!;
      im[i * dim + j] = op.im[(i >> n) * sub + (j >> n)]!;
    }
  }
  return { k, re, im };
}

function adjoint(op: Op): Op {
  const dim = 2 ** op.k;
  const re = new Float64Array(dim * dim);
  const im = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) {
      re[i * dim + j] = op.re[j * dim + i]!;
      im[i * dim + j] = -op.im[j * dim + i]!;
    }
  return { k: op.k, re, im };
}

/** A register of 2^n rows and `cols` columns that ops multiply from the left (row-major). */
class Sim {
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(
    readonly n: number,
    readonly cols: number,
  ) {
    this.re = new Float64Array(2 ** n * cols);
    this.im = new Float64Array(2 ** n * cols);
    if (cols === 1) this.re[0] = 1;
    else for (let i = 0; i < cols; i++) this.re[i * cols + i] = 1;
  }
  /** Apply `op` with its local bit j on wire `wires[j]`. */
  apply(op: Op, wires: number[]): void {
    if (new Set(wires).size !== wires.length) fail(`a gate names one qubit twice (${wires.join(', ')})`);
    const sub = 2 ** op.k;
    const offs = new Array<number>(sub);
    for (let j = 0; j < sub; j++) {
      let o = 0;
      for (let b = 0; b < op.k; b++) if ((j >> b) & 1) o |= 1 << wires[b]!;
      offs[j] = o;
    }
    const mask = wires.reduce((m, w) => m | (1 << w), 0);
    const ar = new Float64Array(sub);
    const ai = new Float64Array(sub);
    const { re, im, cols } = this;
    for (let base = 0; base < 2 ** this.n; base++) {
      if (base & mask) continue;
      for (let c = 0; c < cols; c++) {
        for (let j = 0; j < sub; j++) {
          ar[j] = re[(base | offs[j]!) * cols + c]!;
          ai[j] = im[(base | offs[j]!) * cols + c]!;
        }
        for (let i = 0; i < sub; i++) {
          let sr = 0;
          let si = 0;
          for (let j = 0; j < sub; j++) {
            const mr = op.re[i * sub + j]!;
            const mi = op.im[i * sub + j]!;
            sr += mr * ar[j]! - mi * ai[j]!;
            si += mr * ai[j]! + mi * ar[j]!;
          }
          re[(base | offs[i]!) * cols + c] = sr;
          im[(base | offs[i]!) * cols + c] = si;
        }
      }
    }
  }
}

/**
 * `op^k` for a non-integer k on the principal branch (eigenvalue arguments in (−π, π]), for ops that move
 * at most two basis states (controlled one-qubit unitaries). The 2×2 block is split as
 * e^{iα}(cos β·I − i sin β·n·σ), whose eigenvalues e^{i(α∓β)} belong to the projectors (I ± n·σ)/2.
 */
function fractionalPower(op: Op, k: number): Op {
  const dim = 2 ** op.k;
  const moved: number[] = [];
  for (let i = 0; i < dim; i++) {
    let off = false;
    for (let j = 0; j < dim && !off; j++)
      off =
        Math.hypot(op.re[i * dim + j]! - (i === j ? 1 : 0), op.im[i * dim + j]!) > 1e-12 ||
        Math.hypot(op.re[j * dim + i]! - (i === j ? 1 : 0), op.im[j * dim + i]!) > 1e-12;
    if (off) moved.push(i);
  }
  if (moved.length > 2) fail('a non-integer power of a gate that is no controlled one-qubit unitary');
  const principal = (theta: number): number => {
    let t = theta % (2 * Math.PI);
    if (t > Math.PI) t -= 2 * Math.PI;
    if (t <= -Math.PI) t += 2 * Math.PI;
    return t;
  };
  const re = Float64Array.from(op.re);
  const im = Float64Array.from(op.im);
  const at = (i: number, j: number): C => [
    op.re[moved[i]! * dim + moved[j]!]!,
    op.im[moved[i]! * dim + moved[j]!]!,
  ];
  const put = (i: number, j: number, v: C) => {
    re[moved[i]! * dim + moved[j]!] = v[0];
    im[moved[i]! * dim + moved[j]!] = v[1];
  };
  if (moved.length === 1) {
    const [x, y] = at(0, 0);
    // principal() also sends atan2(−0, −1) = −π to π: the branch (−π, π] whatever the sign of a zero.
    put(0, 0, cexp(k * principal(Math.atan2(y, x))));
    return { k: op.k, re, im };
  }
  if (moved.length === 0) return op;
  const [a, b, c, d] = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
  const det: C = [
    a[0] * d[0] - a[1] * d[1] - (b[0] * c[0] - b[1] * c[1]),
    a[0] * d[1] + a[1] * d[0] - (b[0] * c[1] + b[1] * c[0]),
  ];
  const alpha = Math.atan2(det[1], det[0]) / 2;
  const [ur, ui] = cexp(-alpha);
  const un = (z: C): C => [z[0] * ur - z[1] * ui, z[0] * ui + z[1] * ur];
  // W = e^{−iα}V = [[w0 − i·wz, −wy − i·wx], [wy − i·wx, w0 + i·wz]].
  const w00 = un(a);
  const w01 = un(b);
  const w0 = w00[0];
  const wz = -w00[1];
  const wx = -w01[1];
  const wy = -w01[0];
  const norm = Math.hypot(wx, wy, wz);
  const beta = Math.atan2(norm, w0);
  const [nx, ny, nz] = norm < 1e-15 ? [0, 0, 1] : [wx / norm, wy / norm, wz / norm];
  const lp = cexp(k * principal(alpha - beta));
  const lm = cexp(k * principal(alpha + beta));
  // (I ± n·σ)/2 with n·σ = [[nz, nx − i·ny], [nx + i·ny, −nz]].
  const ns: [C, C, C, C] = [
    [nz, 0],
    [nx, -ny],
    [nx, ny],
    [-nz, 0],
  ];
  const eye = [1, 0, 0, 1];
  for (let e = 0; e < 4; e++) {
    const pp: C = [(eye[e]! + ns[e]![0]) / 2, ns[e]![1] / 2];
    const pm: C = [(eye[e]! - ns[e]![0]) / 2, -ns[e]![1] / 2];
    put(e >> 1, e & 1, [
      lp[0] * pp[0] - lp[1] * pp[1] + lm[0] * pm[0] - lm[1] * pm[1],
      lp[0] * pp[1] + lp[1] * pp[0] + lm[0] * pm[1] + lm[1] * pm[0],
    ]);
  }
  return { k: op.k, re, im };
}

/** The product of `ops` applied in order (for gate bodies and powers). */
function compose(k: number, steps: { op: Op; wires: number[] }[]): Op {
  const s = new Sim(k, 2 ** k);
  for (const st of steps) s.apply(st.op, st.wires);
  return { k, re: s.re, im: s.im };
}

const phaseOp = (phi: number): Op => {
  const [c, s] = cexp(phi);
  return { k: 0, re: Float64Array.of(c), im: Float64Array.of(s) };
};

/**
 * The OpenQASM 3 specification's stdgates.inc as matrices (its "mathematical descriptions"), including the
 * `gphase` it puts into u2 and u3: u3(θ,φ,λ) = e^{−i(φ+λ)/2}·U(θ,φ,λ).
 */
const STDGATES: Record<string, (a: number[]) => Op> = {
  p: ([l]) => one(P(l!)),
  phase: ([l]) => one(P(l!)),
  x: () => one(X),
  y: () => one(Y),
  z: () => one(Z),
  h: () => one(H),
  s: () => one(S),
  sdg: () => one(P(-Math.PI / 2)),
  t: () => one(T),
  tdg: () => one(P(-Math.PI / 4)),
  sx: () => one(SX),
  rx: ([t]) => one(RX(t!)),
  ry: ([t]) => one(RY(t!)),
  rz: ([t]) => one(RZ(t!)),
  cx: () => ctrl1(X),
  CX: () => ctrl1(X),
  cy: () => ctrl1(Y),
  cz: () => ctrl1(Z),
  cp: ([l]) => ctrl1(P(l!)),
  cphase: ([l]) => ctrl1(P(l!)),
  crx: ([t]) => ctrl1(RX(t!)),
  cry: ([t]) => ctrl1(RY(t!)),
  crz: ([t]) => ctrl1(RZ(t!)),
  ch: () => ctrl1(H),
  swap: () => opOf(new Dense(2).swap(0, 1)),
  ccx: () => opOf(new Dense(3).g(X, 2, [0, 1])),
  cswap: () => opOf(new Dense(3).g(X, 1, [0, 2]).g(X, 2, [0, 1]).g(X, 1, [0, 2])),
  cu: ([t, p, l, g]) => opOf(new Dense(2).g(P(g!), 0).g(U(t!, p!, l!), 1, [0])),
  id: () => one(I2),
  u1: ([l]) => one(P(l!)),
  u2: ([p, l]) => one(scaled(U(Math.PI / 2, p!, l!), cexp(-(p! + l!) / 2) as C)),
  u3: ([t, p, l]) => one(scaled(U(t!, p!, l!), cexp(-(p! + l!) / 2) as C)),
};
const STD_ARITY: Record<string, number> = {
  p: 1,
  phase: 1,
  rx: 1,
  ry: 1,
  rz: 1,
  cp: 1,
  cphase: 1,
  crx: 1,
  cry: 1,
  crz: 1,
  u1: 1,
  u2: 2,
  u3: 3,
  cu: 4,
};

/** A classical value with the type that decides its arithmetic. */
type Val = { t: 'int' | 'uint' | 'float' | 'bool' | 'angle' | 'bit'; w: number | null; v: number };

const wrapInt = (v: number, t: Val['t'], w: number | null): number => {
  if (w === null) return v;
  const m = 2 ** w;
  if (t === 'uint' || t === 'bit') return ((v % m) + m) % m;
  if (t === 'int') {
    const u = ((v % m) + m) % m;
    return u >= m / 2 ? u - m : u;
  }
  return v;
};

/** Round to the nearest integer, ties to even (how a real becomes an angle[n]'s integer k). */
const roundTiesEven = (x: number): number => {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** The integer k of a sized angle (its value is k·2π/2ⁿ). */
const angleK = (a: Val): number => Math.round((a.v / (2 * Math.PI)) * 2 ** a.w!);

/** angle[n] with integer k, reduced modulo 2ⁿ. */
const angleOf = (k: number, w: number): Val => {
  const m = 2 ** w;
  const kk = ((k % m) + m) % m;
  return { t: 'angle', w, v: (kk * 2 * Math.PI) / m };
};

function coerce(v: Val, t: Val['t'], w: number | null): Val {
  // A sized angle becomes an integer through its bit pattern (the specification's angle[n] ↔ uint[n] cast).
  if (v.t === 'angle' && v.w !== null && (t === 'int' || t === 'uint'))
    return { t, w, v: wrapInt(angleK(v), t, w) };
  switch (t) {
    case 'bool':
      return { t, w: null, v: v.v !== 0 ? 1 : 0 };
    case 'int':
    case 'uint':
    case 'bit':
      return { t, w, v: wrapInt(Math.trunc(v.v), t, w) };
    case 'angle': {
      if (v.t === 'angle' && v.w !== null && v.w === w) return v;
      const x = ((v.v % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      if (w === null) return { t, w, v: x };
      return angleOf(roundTiesEven((x / (2 * Math.PI)) * 2 ** w), w);
    }
    default:
      return { t: 'float', w, v: w === 32 ? Math.fround(v.v) : v.v };
  }
}

type Gate =
  | { params: string[]; qubits: string[]; body: Node[] }
  | { std: (a: number[]) => Op; arity: number };

/** The reference result: the state or unitary on `qubits` wires, wire w = bit w of the row index. */
export interface RefSim {
  qubits: number;
  /** 2^qubits. */
  rows: number;
  cols: number;
  re: Float64Array;
  im: Float64Array;
}

/**
 * Simulate an OpenQASM 3 program with qasm-ts's parser and this file's evaluator: the whole unitary
 * (`cols` = 2^n) when it has at most `wholeUpTo` qubits, else the state from |0…0⟩.
 */
export function referenceQasm3(text: string, wholeUpTo = 4, includeDir?: string): RefSim {
  const { text: src } = forQasmTs(includeDir === undefined ? text : spliceIncludes(text, includeDir, 0));
  const ast = parseString(src, 3) as Node[];
  const regs = new Map<string, number[]>();
  let width = 0;
  for (const n of ast) {
    if (kind(n) !== 'QuantumDeclaration') continue;
    const size = n.size === null || n.size === undefined ? 1 : evalNum(n.size, new Map());
    const name = n.identifier.name as string;
    if (regs.has(name)) fail(`register ${name} declared twice`);
    regs.set(
      name,
      Array.from({ length: size }, (_, i) => width + i),
    );
    width += size;
  }
  const sim = new Sim(width, width <= wholeUpTo ? 2 ** width : 1);
  const touched = new Set<number>();
  const measured = new Set<number>();
  /** Qubit names bound by the subroutine being run (its qubit parameters → wires). */
  let qscope = new Map<string, number[]>();
  /** Classical variables that a measurement wrote: reading them would be run-time feedback. */
  const measuredVars = new Set<string>();
  const gates = new Map<string, Gate>();
  let steps = 0;

  function evalNum(e: Node, env: Map<string, Val>): number {
    return evalVal(e, env).v;
  }

  function typeOf(ct: Node, env: Map<string, Val>): { t: Val['t']; w: number | null } {
    const size = (s: Node): number | null =>
      s === null || s === undefined ? null : typeof s === 'number' ? s : evalNum(s, env);
    switch (kind(ct)) {
      case 'IntType':
        return { t: 'int', w: size(ct.size) };
      case 'UIntType':
        return { t: 'uint', w: size(ct.size) };
      case 'BitType':
        return { t: 'bit', w: size(ct.size) ?? 1 };
      case 'BoolType':
        return { t: 'bool', w: null };
      case 'AngleType':
        return { t: 'angle', w: size(ct.size) };
      case 'FloatType':
        return { t: 'float', w: size(ct.width) };
      default:
        return fail(`unsupported classical type ${kind(ct)}`);
    }
  }

  function evalVal(e: Node, env: Map<string, Val>): Val {
    switch (kind(e)) {
      case 'IntegerLiteral':
        return { t: 'int', w: null, v: Number(e.value) };
      case 'FloatLiteral':
      case 'NumericLiteral':
        return { t: 'float', w: null, v: Number(e.value) };
      case 'BitstringLiteral': {
        // "0101": the least significant bit is on the right.
        const digits = String(e.value).replace(/["']/g, '');
        if (!/^[01]+$/.test(digits)) fail(`bit string ${e.value}`);
        return { t: 'bit', w: digits.length, v: Number.parseInt(digits, 2) };
      }
      case 'BooleanLiteral':
        return { t: 'bool', w: null, v: e.value ? 1 : 0 };
      case 'Pi':
        return { t: 'float', w: null, v: Math.PI };
      case 'Tau':
        return { t: 'float', w: null, v: 2 * Math.PI };
      case 'Euler':
        return { t: 'float', w: null, v: Math.E };
      case 'Identifier': {
        if (measuredVars.has(e.name)) fail(`${e.name} holds measurement results (classical feedback)`);
        const v = env.get(e.name);
        if (!v) return fail(`unknown name ${e.name}`);
        return v;
      }
      case 'SubscriptedIdentifier': {
        if (measuredVars.has(e.name)) fail(`${e.name} holds measurement results (classical feedback)`);
        const v = env.get(e.name);
        if (!v) return fail(`unknown name ${e.name}`);
        const i = evalNum(e.subscript, env);
        if (v.w === null || i < 0 || i >= v.w) fail(`bit ${i} of ${e.name} out of range`);
        const u = v.v < 0 ? v.v + 2 ** v.w! : v.v;
        return { t: 'bit', w: 1, v: Math.floor(u / 2 ** i) % 2 };
      }
      case 'Unary': {
        const x = evalVal(e.operand, env);
        if (e.op === '-' && x.t === 'angle' && x.w !== null) return angleOf(-angleK(x), x.w);
        if (e.op === '-' && (x.t === 'int' || x.t === 'uint'))
          return coerce({ ...x, t: 'int', w: null, v: -x.v }, x.t, x.w);
        if (e.op === '-') return { ...x, v: -x.v };
        if (e.op === '~') {
          if ((x.t !== 'int' && x.t !== 'uint') || x.w === null) fail('~ needs a sized integer');
          // Bitwise NOT: all w bits flipped, read back in the operand's type.
          return coerce({ t: 'uint', w: null, v: 2 ** x.w! - 1 - wrapInt(x.v, 'uint', x.w) }, x.t, x.w);
        }
        if (e.op === '!') return { t: 'bool', w: null, v: x.v ? 0 : 1 };
        return fail(`unary ${e.op}`);
      }
      case 'Cast': {
        const ty = typeOf(e.type, env);
        return coerce(evalVal(e.operand, env), ty.t, ty.w);
      }
      case 'Arithmetic': {
        const l = evalVal(e.left, env);
        const r = evalVal(e.right, env);
        const ints = ['int', 'uint', 'bit', 'bool'];
        const integral = ints.includes(l.t) && ints.includes(r.t);
        const sized = (x: Val) => x.t === 'angle' && x.w !== null;
        if (sized(l) || sized(r)) {
          // Sized angles compute on their integers k, modulo 2ⁿ (the specification's table).
          const w = (sized(l) ? l.w : r.w)!;
          if (sized(l) && sized(r)) {
            if (l.w !== r.w) fail('angles of different widths');
            if (e.op === '+') return angleOf(angleK(l) + angleK(r), w);
            if (e.op === '-') return angleOf(angleK(l) - angleK(r), w);
            if (e.op === '/') return { t: 'uint', w, v: Math.trunc(angleK(l) / angleK(r)) };
            fail(`angle ${e.op} angle`);
          }
          const [a, n] = sized(l) ? [l, r] : [r, l];
          if (!ints.includes(n.t)) fail(`angle ${e.op} ${n.t}`);
          if (e.op === '*') return angleOf(angleK(a) * n.v, w);
          if (e.op === '/' && sized(l)) return angleOf(Math.trunc(angleK(l) / n.v), w);
          fail(`${l.t} ${e.op} ${r.t}`);
        }
        // Integers: the result has the sized operand's type (both sized: the wider; signed only if both are).
        const typed = [l, r].filter((x) => (x.t === 'int' || x.t === 'uint') && x.w !== null);
        const res = (v: number): Val => {
          if (!integral) return { t: 'float', w: null, v };
          if (!typed.length) return { t: 'int', w: null, v };
          const t = typed.every((x) => x.t === 'int') ? 'int' : 'uint';
          return coerce({ t: 'int', w: null, v }, t, Math.max(...typed.map((x) => x.w!)));
        };
        if (integral && typed.length && ['+', '-', '*'].includes(e.op)) {
          // Exact integers, then the typed wrap: int[32]·int[32] passes 2^53 before it wraps.
          const a = BigInt(l.v);
          const c = BigInt(r.v);
          const x = e.op === '+' ? a + c : e.op === '-' ? a - c : a * c;
          const w = Math.max(...typed.map((y) => y.w!));
          const m = 2n ** BigInt(w);
          return res(Number(((x % m) + m) % m));
        }
        switch (e.op) {
          case '+':
            return res(l.v + r.v);
          case '-':
            return res(l.v - r.v);
          case '*':
            return res(l.v * r.v);
          case '/':
            return integral ? res(Math.trunc(l.v / r.v)) : res(l.v / r.v);
          case '%':
            return res(l.v % r.v);
          case '**':
            return res(l.v ** r.v);
        }
        return fail(`operator ${e.op}`);
      }
      case 'Binary': {
        const l = evalVal(e.left, env);
        const b = (x: boolean): Val => ({ t: 'bool', w: null, v: x ? 1 : 0 });
        if (e.op === '&&') return b(l.v !== 0 && evalVal(e.right, env).v !== 0);
        if (e.op === '||') return b(l.v !== 0 || evalVal(e.right, env).v !== 0);
        const r = evalVal(e.right, env);
        if (['&', '|', '^', '<<', '>>'].includes(e.op)) {
          const ty = [l, r].find((x) => (x.t === 'uint' || x.t === 'int') && x.w !== null);
          if (!ty || l.v < 0 || r.v < 0) fail(`${e.op} is checked on unsigned sized integers only`);
          const a = BigInt(l.v);
          const c = BigInt(r.v);
          const v =
            e.op === '&'
              ? a & c
              : e.op === '|'
                ? a | c
                : e.op === '^'
                  ? a ^ c
                  : e.op === '<<'
                    ? a << c
                    : a >> c;
          return coerce({ t: 'int', w: null, v: Number(v % 2n ** BigInt(ty!.w!)) }, ty!.t, ty!.w);
        }
        switch (e.op) {
          case '==':
            return b(l.v === r.v);
          case '!=':
            return b(l.v !== r.v);
          case '<':
            return b(l.v < r.v);
          case '<=':
            return b(l.v <= r.v);
          case '>':
            return b(l.v > r.v);
          case '>=':
            return b(l.v >= r.v);
        }
        return fail(`operator ${e.op}`);
      }
      case 'SubroutineCall':
        return callSub(e, env) ?? fail('a subroutine without a value used in an expression');
      case 'TrigFunction':
      case 'MathFunction':
        return fail(`${kind(e)} is not needed by the corpus yet`);
      default:
        return fail(`expression ${kind(e)}`);
    }
  }

  /** Wires named by a qubit operand (a whole register broadcasts). */
  function wiresOf(q: Node, qenv: Map<string, number[]>, env: Map<string, Val>): number[] {
    const name = q.name as string;
    const reg = qenv.get(name) ?? regs.get(name);
    if (!reg) return fail(`unknown qubit ${name}`);
    if (kind(q) === 'SubscriptedIdentifier') {
      const s = q.subscript;
      if (kind(s) === 'Range') {
        const a = evalNum(s.start, env);
        const b = evalNum(s.end, env);
        const st = s.step ? evalNum(s.step, env) : 1;
        const out: number[] = [];
        for (let i = a; st > 0 ? i <= b : i >= b; i += st) out.push(reg[i]!);
        return out;
      }
      const i = evalNum(s, env);
      if (!Number.isInteger(i) || i < 0 || i >= reg.length) fail(`${name}[${i}] out of range`);
      return [reg[i]!];
    }
    return reg;
  }

  /** The op a (possibly modified) gate call applies, with its qubit count. */
  function gateOp(call: Node, env: Map<string, Val>): Op {
    const name = call.quantumGateName.name as string;
    const args: number[] = (call.parameters?.args ?? []).map((a: Node) => evalNum(a, env));
    let op: Op;
    if (name === 'U') {
      if (args.length !== 3) fail('U takes 3 angles');
      op = one(U(args[0]!, args[1]!, args[2]!));
    } else if (name === 'gphase') {
      if (args.length !== 1) fail('gphase takes 1 angle');
      op = phaseOp(args[0]!);
    } else {
      const g = gates.get(name) ?? fail(`unknown gate ${name}`);
      if ('std' in g) {
        if (args.length !== g.arity) fail(`${name} takes ${g.arity} angles, got ${args.length}`);
        op = g.std(args);
      } else {
        if (args.length !== g.params.length) fail(`${name} takes ${g.params.length} angles`);
        const inner = new Map<string, Val>(args.map((v, i) => [g.params[i]!, { t: 'float', w: null, v }]));
        const qenv = new Map(g.qubits.map((q, i) => [q, [i]]));
        const seq: { op: Op; wires: number[] }[] = [];
        for (const st of g.body) {
          const k = kind(st);
          if (k === 'QuantumBarrier') continue;
          if (k !== 'QuantumGateCall') fail(`${k} inside gate ${name}`);
          const sub = gateOp(st, inner);
          const wires = st.qubits.map((q: Node) => wiresOf(q, qenv, inner));
          if (sub.k === 0) seq.push({ op: sub, wires: [] });
          else for (const ws of broadcast(wires, sub.k)) seq.push({ op: sub, wires: ws });
        }
        op = compose(g.qubits.length, seq);
      }
    }
    // Modifiers apply right to left: `inv @ ctrl @ g` is inv(ctrl(g)).
    const mods: Node[] = [...(call.modifiers ?? [])].reverse();
    for (const m of mods) {
      const arg = m.argument ? evalNum(m.argument, env) : 1;
      switch (m.modifier) {
        case 0: // ctrl
        case 1: // negctrl
          op = controlled(op, arg, m.modifier === 1);
          break;
        case 2:
          op = adjoint(op);
          break;
        case 3: {
          if (!Number.isInteger(arg)) {
            op = fractionalPower(op, arg);
            break;
          }
          const base = arg < 0 ? adjoint(op) : op;
          const seq = Array.from({ length: Math.abs(arg) }, () => ({
            op: base,
            wires: Array.from({ length: op.k }, (_, i) => i),
          }));
          op = compose(op.k, seq);
          break;
        }
        default:
          fail(`modifier ${m.modifier}`);
      }
    }
    return op;
  }

  /** OpenQASM's broadcast: registers of equal length pair up index by index, single qubits repeat. */
  function broadcast(wires: number[][], k: number): number[][] {
    if (wires.length !== k) fail(`gate takes ${k} qubits, given ${wires.length}`);
    const len = Math.max(...wires.map((w) => w.length));
    return Array.from({ length: len }, (_, i) =>
      wires.map((w) => (w.length === 1 ? w[0]! : (w[i] ?? fail('registers of different lengths')))),
    );
  }

  class Break {}
  class Continue {}
  /** One loop iteration: false when it ended with `break` (`continue` just ends the iteration). */
  const iterate = (body: () => void): boolean => {
    try {
      body();
    } catch (x) {
      if (x instanceof Break) return false;
      if (!(x instanceof Continue)) throw x;
    }
    return true;
  };
  class Return {
    constructor(readonly value: Val | null) {}
  }

  type Param = { qubits: number; name: string } | { type: Node; name: string };
  const subs = new Map<string, { params: Param[]; body: Node[]; returns: Node | null }>();

  /**
   * Call a `def`: qubit arguments bind wires (a register's size must match), classical ones are converted to
   * the parameter's type; the body runs in its own scope and `return` hands back a value of the return type.
   */
  function callSub(call: Node, env: Map<string, Val>): Val | null {
    const name = call.subroutineName.name as string;
    const def = subs.get(name) ?? fail(`unknown subroutine ${name}`);
    const args: Node[] = call.parameters?.args ?? [];
    if (args.length !== def.params.length) fail(`${name} takes ${def.params.length} arguments`);
    const inner = new Map<string, Val>();
    const qinner = new Map<string, number[]>();
    def.params.forEach((p, i) => {
      if ('qubits' in p) {
        const ws = wiresOf(args[i], qscope, env);
        if (ws.length !== p.qubits) fail(`${name}: ${p.name} takes ${p.qubits} qubits, given ${ws.length}`);
        qinner.set(p.name, ws);
      } else {
        const ty = typeOf(p.type, env);
        inner.set(p.name, coerce(evalVal(args[i], env), ty.t, ty.w));
      }
    });
    const saved = qscope;
    qscope = qinner;
    try {
      run(def.body, inner);
      return null;
    } catch (x) {
      if (!(x instanceof Return)) throw x;
      if (!x.value || !def.returns) return null;
      const ty = typeOf(def.returns, env);
      return coerce(x.value, ty.t, ty.w);
    } finally {
      qscope = saved;
    }
  }

  function run(stmts: Node[], env: Map<string, Val>): void {
    for (const st of stmts) {
      if (++steps > 1e6) fail('more than a million steps');
      switch (kind(st)) {
        case 'Version':
        case 'QuantumDeclaration':
        case 'QuantumBarrier':
        case 'QuantumDelay':
          break;
        case 'SubroutineDefinition': {
          // qasm-ts lists a qubit parameter as [QuantumDeclaration], a classical one as a ClassicalDeclaration.
          const params: Param[] = (st.args?.args ?? []).map((a: Node) => {
            const d = Array.isArray(a) ? a[0] : a;
            if (kind(d) === 'QuantumDeclaration')
              return { qubits: d.size ? evalNum(d.size, env) : 1, name: d.identifier.name as string };
            return { type: d.classicalType, name: d.identifier.name as string };
          });
          subs.set(st.name.name, {
            params,
            body: st.subroutineBlock.statements,
            returns: st.returnType ?? null,
          });
          break;
        }
        case 'SubroutineCall':
          callSub(st, env);
          break;
        case 'ReturnStatement': {
          const ex = Array.isArray(st.expression) ? st.expression[0] : st.expression;
          throw new Return(ex ? evalVal(ex, env) : null);
        }
        case 'Include': {
          const f = String(st.filename).replace(/["']/g, '');
          if (f !== 'stdgates.inc') fail(`include ${f}`);
          for (const [name, std] of Object.entries(STDGATES))
            gates.set(name, { std, arity: STD_ARITY[name] ?? 0 });
          break;
        }
        case 'QuantumGateDefinition': {
          const name = st.name.name as string;
          if (gates.has(name) || name === 'U' || name === 'gphase') fail(`gate ${name} defined twice`);
          gates.set(name, {
            params: (st.params?.args ?? []).map((p: Node) => p.name as string),
            qubits: st.qubits.map((q: Node) => q.name as string),
            body: st.body.statements,
          });
          break;
        }
        case 'ClassicalDeclaration': {
          if (kind(st.classicalType) === 'StretchType' || kind(st.classicalType) === 'DurationType') break;
          const ty = typeOf(st.classicalType, env);
          const init = st.initializer ? evalVal(st.initializer, env) : { t: ty.t, w: ty.w, v: 0 };
          env.set(st.identifier.name, coerce(init, ty.t, ty.w));
          break;
        }
        case 'AssignmentStatement': {
          const lv = st.leftValue;
          if (measuredVars.has(lv.name)) fail(`assignment to ${lv.name}, which holds measurement results`);
          const old = env.get(lv.name) ?? fail(`assignment to undeclared ${lv.name}`);
          const val = evalVal(st.rightValue, env);
          if (kind(lv) === 'Identifier') env.set(lv.name, coerce(val, old.t, old.w));
          else if (kind(lv) === 'SubscriptedIdentifier' && old.w !== null) {
            // One bit of a register: clear it, then set it from the value's truth.
            const i = evalNum(lv.subscript, env);
            const bit = 2 ** i;
            const cleared = old.v - (Math.floor(old.v / bit) % 2) * bit;
            env.set(lv.name, { ...old, v: cleared + (val.v !== 0 ? bit : 0) });
          } else fail(`assignment to ${kind(lv)}`);
          break;
        }
        case 'QuantumGateCall': {
          const op = gateOp(st, env);
          if (op.k === 0) {
            if (st.qubits.length) fail('gphase on qubits');
            sim.apply(op, []);
            break;
          }
          const wires = st.qubits.map((q: Node) => wiresOf(q, qscope, env));
          for (const ws of broadcast(wires, op.k)) {
            for (const w of ws) {
              if (measured.has(w)) fail(`gate on wire ${w} after its measurement`);
              touched.add(w);
            }
            sim.apply(op, ws);
          }
          break;
        }
        case 'QuantumReset':
          for (const w of wiresOf(st.identifier, qscope, env))
            if (touched.has(w) || measured.has(w)) fail(`reset of wire ${w} after it was used`);
          break;
        case 'QuantumMeasurementAssignment':
        case 'QuantumMeasurement': {
          const m = kind(st) === 'QuantumMeasurement' ? st : st.quantumMeasurement;
          for (const q of m.identifierList) for (const w of wiresOf(q, qscope, env)) measured.add(w);
          if (st.identifier) measuredVars.add(st.identifier.name);
          break;
        }
        case 'BranchingStatement': {
          const c = evalVal(st.condition, env).v !== 0;
          const body = c ? st.trueBody : st.falseBody;
          if (body) runShared(body.statements, new Map(env), env);
          break;
        }
        case 'ForLoopStatement': {
          const set = st.indexSet;
          let values: number[];
          if (kind(set) === 'Range') {
            const a = evalNum(set.start, env);
            const b = evalNum(set.end, env);
            const s = set.step ? evalNum(set.step, env) : 1;
            if (s === 0) fail('range step 0');
            values = [];
            for (let i = a; s > 0 ? i <= b : i >= b; i += s) values.push(i);
          } else if (kind(set) === 'IndexSet') values = set.values.map((v: Node) => evalNum(v, env));
          else values = fail(`for over ${kind(set)}`);
          const ty = typeOf(st.loopVarType, env);
          for (const v of values) {
            const inner = new Map(env);
            inner.set(st.parameter.name, coerce({ t: 'int', w: null, v }, ty.t, ty.w));
            if (!iterate(() => runShared(st.body.statements, inner, env, st.parameter.name))) break;
          }
          break;
        }
        case 'WhileLoopStatement': {
          while (evalVal(st.condition, env).v !== 0) {
            if (++steps > 1e6) fail('while loop did not end');
            if (!iterate(() => runShared(st.body.statements, new Map(env), env))) break;
          }
          break;
        }
        case 'AliasStatement': {
          // `let a = x ++ y;`: qasm-ts gives '++' as an Arithmetic node; the alias lists the wires in order.
          const parts = (e: Node): number[] =>
            kind(e) === 'Arithmetic' && e.op === '++'
              ? [...parts(e.left), ...parts(e.right)]
              : wiresOf(e, qscope, env);
          const ws = parts(st.value);
          if (new Set(ws).size !== ws.length) fail('an alias names a qubit twice');
          (qscope.size ? qscope : regs).set(st.identifier.name, ws);
          break;
        }
        case 'SwitchStatement': {
          // The first case whose list holds the value runs (no fall-through), else default, else nothing.
          const v = evalVal(st.controlExpression, env);
          if (v.t === 'float' || v.t === 'angle' || v.t === 'bool') fail('switch on a non-integer');
          const hit = st.cases.find((c: Node) => c.labels.some((l: Node) => evalNum(l, env) === v.v));
          const body = hit ? hit.body : st.defaultBlock?.body;
          if (body) runShared(body.statements, new Map(env), env);
          break;
        }
        case 'BreakStatement':
          throw new Break();
        case 'ContinueStatement':
          throw new Continue();
        default:
          fail(`statement ${kind(st)}`);
      }
    }
  }

  /**
   * Run a block in its own scope and write assignments to outer variables back (a block sees and changes
   * the variables declared outside it; its own declarations end with it).
   */
  function runShared(stmts: Node[], inner: Map<string, Val>, outer: Map<string, Val>, own?: string): void {
    const declared = new Set<string>(own === undefined ? [] : [own]);
    for (const st of stmts) if (kind(st) === 'ClassicalDeclaration') declared.add(st.identifier.name);
    try {
      run(stmts, inner);
    } finally {
      for (const [k, v] of inner) if (outer.has(k) && !declared.has(k)) outer.set(k, v);
    }
  }

  const globals = new Map<string, Val>();
  run(ast, globals);
  return { qubits: width, rows: 2 ** width, cols: sim.cols, re: sim.re, im: sim.im };
}
