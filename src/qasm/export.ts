/**
 * Export: circuit IR → target gate list (basis translation) → OpenQASM AST → text (see `printer.ts`).
 *
 * Bases: `native` keeps the IR gates (ry, rx, rz, x, z, h, cz, cx, swap; exact, including the global
 * phase, which OpenQASM 3 prints as `gphase`); `ibm` uses rz, sx, x, cz (IBM's current native set; equal
 * up to a global phase); `u-cx` uses `u3` (OpenQASM 2) or `U` (OpenQASM 3) and `cx` (equal up to a global
 * phase, which differs only where the circuit has rz).
 */
import {
  type Bindings,
  bindParameters,
  type Circuit,
  type Gate,
  gateStats,
  isParamAngle,
  isRotation,
} from '../circuit/ir.ts';
import { describe, InputError, ParameterError } from '../errors.ts';
import { type Aff, add, fromAngle, konst, shift } from './affine.ts';
import { type Expr, NOWHERE, type Program, type Statement } from './ast.ts';
import { type ConnectivityReport, type Coupling, checkConnectivity, routeCircuit } from './connectivity.ts';
import { printProgram } from './printer.ts';

/** Target gate sets of the exporter. */
export type QasmBasis = 'native' | 'ibm' | 'u-cx';
export const QASM_BASES: readonly QasmBasis[] = ['native', 'ibm', 'u-cx'];

export interface ExportOptions {
  /** OpenQASM major version (default 3). */
  version?: 2 | 3;
  /** Target gate set (default `native`). */
  basis?: QasmBasis;
  /** Values for the circuit's parameters (a vector in `circuit.params` order or a name → value map). */
  bindings?: Bindings;
  /** OpenQASM 3 only: leave unbound parameters as `input float[64] name;` (a partial map binds the rest). */
  unbound?: boolean;
  /** Measure every qubit into a classical register `c` at the end. */
  measure?: boolean;
  /** Coupling map to check (default: none). With `routing: 'error'` a circuit that does not fit throws. */
  coupling?: Coupling;
  /** `error` (default): refuse a circuit that needs SWAPs; `swap`: insert them (greedy router). */
  routing?: 'error' | 'swap';
  /** Comment lines printed after the header. */
  comment?: string;
  /**
   * OpenQASM 3 on physical qubits, as transpiled programs are written: wire i becomes `$layout[i]`
   * (`true`: wire i is `$i`). No register is declared; the importer reads it back on the same wires.
   */
  physical?: readonly number[] | true;
}

/** One gate of the target basis: a name, wires and affine angles. */
export interface TargetGate {
  readonly name: string;
  readonly wires: readonly number[];
  readonly args: readonly Aff[];
}

const PI = Math.PI;
const k = konst;
const t = (name: string, wires: number[], args: Aff[] = []): TargetGate => ({ name, wires, args });

function checkBasis(basis: unknown): QasmBasis {
  if (!QASM_BASES.includes(basis as QasmBasis)) {
    throw new InputError(`basis must be one of ${QASM_BASES.join(', ')}, got ${describe(basis)}`);
  }
  return basis as QasmBasis;
}

function nativeGate(g: Gate): TargetGate {
  return t(g.name, [...g.wires], isRotation(g) ? [fromAngle(g.angle)] : []);
}

function uCx(g: Gate, version: 2 | 3): TargetGate[] {
  const U = version === 2 ? 'u3' : 'U';
  const w = g.wires[0];
  const u = (q: number, a: Aff, b: number, c: number | Aff) =>
    t(U, [q], [a, k(b), typeof c === 'number' ? k(c) : c]);
  switch (g.name) {
    case 'ry':
      return [u(w, fromAngle(g.angle), 0, 0)];
    case 'rx':
      return [u(w, fromAngle(g.angle), -PI / 2, PI / 2)];
    case 'rz':
      return [u(w, k(0), 0, fromAngle(g.angle))];
    case 'x':
      return [u(w, k(PI), 0, PI)];
    case 'z':
      return [u(w, k(0), 0, PI)];
    case 'h':
      return [u(w, k(PI / 2), 0, PI)];
    case 'cx':
      return [t('cx', [...g.wires])];
    case 'cz': {
      const b = g.wires[1];
      return [u(b, k(PI / 2), 0, PI), t('cx', [...g.wires]), u(b, k(PI / 2), 0, PI)];
    }
    case 'swap': {
      const [a, b] = g.wires;
      return [t('cx', [a, b]), t('cx', [b, a]), t('cx', [a, b])];
    }
  }
}

/** rz, sx, x, cz; each up to a global phase. `h ∝ rz(π/2)·sx·rz(π/2)`, `ry(θ) ∝ rz(π)·sx·rz(θ+π)·sx`. */
function ibm(g: Gate): TargetGate[] {
  const w = g.wires[0];
  const rz = (q: number, a: Aff) => t('rz', [q], [a]);
  const sx = (q: number) => t('sx', [q]);
  const h = (q: number) => [rz(q, k(PI / 2)), sx(q), rz(q, k(PI / 2))];
  switch (g.name) {
    case 'ry':
      return [sx(w), rz(w, shift(fromAngle(g.angle), PI)), sx(w), rz(w, k(PI))];
    case 'rx':
      return [rz(w, k(PI / 2)), sx(w), rz(w, shift(fromAngle(g.angle), PI)), sx(w), rz(w, k(PI / 2))];
    case 'rz':
      return [rz(w, fromAngle(g.angle))];
    case 'x':
      return [t('x', [w])];
    case 'z':
      return [rz(w, k(PI))];
    case 'h':
      return h(w);
    case 'cz':
      return [t('cz', [...g.wires])];
    case 'cx': {
      const [c, tg] = g.wires;
      return [...h(tg), t('cz', [c, tg]), ...h(tg)];
    }
    case 'swap': {
      const [a, b] = g.wires;
      const cxg = (c: number, tg: number) => [...h(tg), t('cz', [c, tg]), ...h(tg)];
      return [...cxg(a, b), ...cxg(b, a), ...cxg(a, b)];
    }
  }
}

/** Merge runs of rz on one wire (constants, or the same input) and drop rz(0); only a global phase changes. */
function mergeRz(gates: TargetGate[], qubits: number): TargetGate[] {
  const out: (TargetGate | null)[] = [];
  const last = new Array<number>(qubits).fill(-1);
  for (const g of gates) {
    const prevIndex = g.wires.length === 1 ? last[g.wires[0]!]! : -1;
    const prev = prevIndex >= 0 ? out[prevIndex] : null;
    if (g.name === 'rz' && prev && prev.name === 'rz') {
      const a = prev.args[0]!;
      const b = g.args[0]!;
      if (a.p === null || b.p === null || a.p === b.p) {
        let m = add(a, b);
        if (m.p === null) m = k(m.b - 2 * PI * Math.round(m.b / (2 * PI)));
        if (m.p === null && m.b === 0) {
          out[prevIndex] = null;
          last[g.wires[0]!] = -1;
        } else out[prevIndex] = t('rz', [...g.wires], [m]);
        continue;
      }
    }
    out.push(g);
    for (const w of g.wires) last[w] = out.length - 1;
  }
  return out.filter((g): g is TargetGate => g !== null);
}

/** The circuit's gates in a target basis (angles stay affine in the circuit's parameters). */
export function translateGates(
  circuit: Circuit,
  basis: QasmBasis = 'native',
  version: 2 | 3 = 3,
): TargetGate[] {
  checkBasis(basis);
  if (basis === 'native') return circuit.gates.map(nativeGate);
  if (basis === 'u-cx') return circuit.gates.flatMap((g) => uCx(g, version));
  return mergeRz(circuit.gates.flatMap(ibm), circuit.qubits);
}

/** Gate counts, two-qubit count and depth of the exported program, plus the connectivity check. */
export interface QasmStats {
  readonly basis: QasmBasis;
  readonly qubits: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  readonly twoQubit: number;
  readonly depth: number;
  readonly connectivity: ConnectivityReport & { readonly note: string };
}

/** Statistics of a gate list: counts by name, two-qubit gates, depth (ASAP layering). */
export function gateListStats(gates: readonly { name: string; wires: readonly number[] }[], qubits: number) {
  const counts: Record<string, number> = {};
  const level = new Array<number>(qubits).fill(0);
  let twoQubit = 0;
  for (const g of gates) {
    counts[g.name] = (counts[g.name] ?? 0) + 1;
    if (g.wires.length === 2) twoQubit++;
    const d = Math.max(...g.wires.map((w) => level[w]!)) + 1;
    for (const w of g.wires) level[w] = d;
  }
  return { counts, total: gates.length, twoQubit, depth: Math.max(0, ...level) };
}

/**
 * Gate statistics of a circuit exported in `basis`, and whether it fits `coupling` (linear by default)
 * without SWAPs (with the SWAP count of a greedy router when it does not).
 */
export function qasmStats(
  circuit: Circuit,
  options: { basis?: QasmBasis; version?: 2 | 3; coupling?: Coupling } = {},
): QasmStats {
  const basis = checkBasis(options.basis ?? 'native');
  const s =
    basis === 'native'
      ? gateStats(circuit)
      : gateListStats(translateGates(circuit, basis, options.version ?? 3), circuit.qubits);
  const conn = checkConnectivity(circuit, options.coupling ?? 'linear');
  const note = conn.fits
    ? `every two-qubit gate couples neighbours on the ${conn.coupling === 'custom' ? 'given' : conn.coupling} coupling map: no SWAP needed`
    : `${conn.violations.length}${conn.violations.length === 20 ? '+' : ''} two-qubit gate(s) on uncoupled qubits; a greedy router inserts ${conn.swaps} SWAP(s)`;
  return {
    basis,
    qubits: circuit.qubits,
    counts: { ...s.counts },
    total: s.total,
    twoQubit: s.twoQubit,
    depth: s.depth,
    connectivity: { ...conn, note },
  };
}

function affExpr(a: Aff): Expr {
  const num = (value: number): Expr => ({ kind: 'num', value, pos: NOWHERE });
  if (a.p === null) return num(a.b);
  const id: Expr = { kind: 'id', name: a.p, pos: NOWHERE };
  const term: Expr =
    a.a === 1
      ? id
      : a.a === -1
        ? { kind: 'unary', op: '-', arg: id, pos: NOWHERE }
        : { kind: 'binary', op: '*', left: num(a.a), right: id, pos: NOWHERE };
  if (a.b === 0) return term;
  return { kind: 'binary', op: a.b > 0 ? '+' : '-', left: term, right: num(Math.abs(a.b)), pos: NOWHERE };
}

/** Bind what must be bound; returns the circuit whose remaining parameters become `input`s. */
function prepare(circuit: Circuit, options: ExportOptions, version: 2 | 3): Circuit {
  if (options.unbound && version !== 3) {
    throw new InputError(
      'unbound parameters need OpenQASM 3 (input float[64]); use version 3 or bind every parameter',
    );
  }
  let c = circuit;
  if (options.bindings !== undefined && c.params.length) {
    const isMap = !Array.isArray(options.bindings) && !ArrayBuffer.isView(options.bindings);
    c = bindParameters(c, options.bindings, { partial: Boolean(options.unbound) && isMap });
  }
  if (c.params.length && !options.unbound) {
    const names =
      c.params.length > 4
        ? `${c.params.slice(0, 3).join(', ')}, … (${c.params.length})`
        : c.params.join(', ');
    throw new ParameterError(
      `the circuit has unbound parameters (${names}): pass bindings, or unbound: true with version 3 to export them as inputs`,
    );
  }
  return c;
}

/** Build the OpenQASM syntax tree of a circuit (see `exportQasm` for the options). */
export function toQasmProgram(circuit: Circuit, options: ExportOptions = {}): Program {
  const version = options.version ?? 3;
  if (version !== 2 && version !== 3)
    throw new InputError(`version must be 2 or 3, got ${describe(version)}`);
  const basis = checkBasis(options.basis ?? 'native');
  let c = prepare(circuit, options, version);
  let layout: number[] | null = null;
  const comments: string[] = options.comment ? [options.comment] : [];
  if (options.coupling !== undefined) {
    const report = checkConnectivity(c, options.coupling);
    if (!report.fits) {
      if (options.routing !== 'swap') {
        const v = report.violations[0]!;
        throw new InputError(
          `the circuit does not fit the coupling map: gate ${v.gate} couples qubits ${v.wires[0]} and ${v.wires[1]}, which are not adjacent ` +
            `(${report.violations.length}${report.violations.length === 20 ? '+' : ''} such gates; routing 'swap' would insert ${report.swaps} SWAPs)`,
        );
      }
      const routed = routeCircuit(c, options.coupling);
      c = routed.circuit;
      layout = routed.layout;
      comments.push(
        `routed with ${routed.swaps} inserted SWAP(s); final layout (logical -> physical): ${routed.layout.join(' ')}`,
      );
    }
  }
  const statements: Statement[] = [
    { kind: 'version', major: version, text: version === 2 ? '2.0' : '3.0', pos: NOWHERE },
    { kind: 'include', path: version === 2 ? 'qelib1.inc' : 'stdgates.inc', pos: NOWHERE },
  ];
  for (const text of comments) statements.push({ kind: 'comment', text, pos: NOWHERE });
  for (const name of c.params)
    statements.push({ kind: 'input', type: 'float', bits: 64, name, pos: NOWHERE });
  const phys = physicalLayout(options.physical, c.qubits, version);
  if (!phys) statements.push({ kind: 'qreg', name: 'q', size: c.qubits, pos: NOWHERE });
  const logical = layout ? layout.length : c.qubits;
  if (options.measure) statements.push({ kind: 'creg', name: 'c', size: logical, pos: NOWHERE });
  const op = (w: number) =>
    phys ? { name: `$${phys[w]}`, pos: NOWHERE } : { name: 'q', index: w, pos: NOWHERE };
  for (const g of translateGates(c, basis, version)) {
    statements.push({
      kind: 'gate',
      name: g.name,
      args: g.args.map(affExpr),
      operands: g.wires.map(op),
      pos: NOWHERE,
    });
  }
  const phase = c.globalPhase ?? 0;
  if (phase !== 0 && basis === 'native') {
    if (version === 3)
      statements.push({
        kind: 'gate',
        name: 'gphase',
        args: [affExpr(k(phase))],
        operands: [],
        pos: NOWHERE,
      });
    else
      statements.push({
        kind: 'comment',
        text: `global phase: ${phase} (OpenQASM 2 cannot express it)`,
        pos: NOWHERE,
      });
  }
  if (options.measure) {
    const whole = { name: 'q', pos: NOWHERE };
    const all = Array.from({ length: c.qubits }, (_, w) => op(w));
    statements.push({ kind: 'barrier', operands: phys ? all : [whole], pos: NOWHERE });
    if (layout || phys) {
      (layout ?? all.map((_, w) => w)).forEach((p, i) => {
        statements.push({
          kind: 'measure',
          qubit: op(p),
          target: { name: 'c', index: i, pos: NOWHERE },
          pos: NOWHERE,
        });
      });
    } else
      statements.push({ kind: 'measure', qubit: whole, target: { name: 'c', pos: NOWHERE }, pos: NOWHERE });
  }
  return { version, statements };
}

/** Check a `physical` layout: one distinct non-negative physical index per wire, OpenQASM 3 only. */
function physicalLayout(
  physical: readonly number[] | true | undefined,
  qubits: number,
  version: 2 | 3,
): readonly number[] | null {
  if (physical === undefined) return null;
  if (version !== 3)
    throw new InputError('physical qubits ($n) are OpenQASM 3: drop version 2 or the physical layout');
  if (physical === true) return Array.from({ length: qubits }, (_, i) => i);
  const ok =
    Array.isArray(physical) &&
    physical.length === qubits &&
    physical.every((p) => Number.isSafeInteger(p) && p >= 0) &&
    new Set(physical).size === physical.length;
  if (!ok)
    throw new InputError(
      `physical layout must list ${qubits} distinct non-negative qubit indices (wire i → $layout[i]), got ${describe(physical)}`,
    );
  return physical;
}

/**
 * The circuit as OpenQASM text. Version 3 by default (`include "stdgates.inc"`, `qubit[n] q;`); version 2
 * writes `include "qelib1.inc"`, `qreg q[n];`. Every parameter must be bound (`bindings`) unless
 * `unbound` (version 3), which declares the free ones as `input float[64] name;` in `circuit.params` order.
 * Angles print so that they parse back to the same double. Throws `ParameterError` for unbound parameters,
 * `InputError` for bad options or a circuit that does not fit `coupling`.
 */
export function exportQasm(circuit: Circuit, options: ExportOptions = {}): string {
  return printProgram(toQasmProgram(circuit, options));
}

/** Whether the circuit has symbolic angles (for callers deciding between bound and unbound export). */
export function hasSymbolicAngles(circuit: Circuit): boolean {
  return circuit.gates.some((g) => isRotation(g) && isParamAngle(g.angle));
}
