/**
 * Lowering: an OpenQASM syntax tree → the circuit IR. Resolves registers (flattened in declaration order,
 * so the first register holds wires 0…), `input` parameters (they become `circuit.params`, in declaration
 * order), the standard library and user `gate` definitions (expanded), broadcasting over registers, and
 * angle expressions (affine in at most one input). Gates outside the IR set are lowered exactly; their
 * global phase is summed into `circuit.globalPhase`.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FixedName, RotationName, TwoQubitName } from '../circuit/gates.ts';
import {
  type Circuit,
  cx,
  cz,
  type Gate,
  h,
  MAX_QUBITS,
  makeCircuit,
  rx,
  ry,
  rz,
  swap,
  x,
  z,
} from '../circuit/ir.ts';
import { QasmParseError, QpeftError } from '../errors.ts';
import { type Aff, AffineError, add, constant, div, konst, mul, neg, sub, sym, toAngle } from './affine.ts';
import type { Expr, GateCall, Operand, Pos, Program, Statement } from './ast.ts';
import { parseProgram } from './parser.ts';
import { piMultiple, type Sink, STD_GATES, type StdGate } from './stdlib.ts';

/** Options of `parseQasm`: where includes may come from and the size limits for untrusted text. */
export interface ParseOptions {
  /** Directory that non-standard `include` files are read from (paths may not leave it). Default: none. */
  includeDir?: string;
  /** Largest accepted program (and included file) in bytes. Default 16 MiB. */
  maxBytes?: number;
  /** Most qubits the program may declare. Default `MAX_QUBITS` (30). */
  maxQubits?: number;
  /** Deepest chain of user gate definitions (a gate whose body calls a user gate is one level deeper). Default 32. */
  maxGateDepth?: number;
  /** Most IR gates the expanded program may produce. Default 5,000,000. */
  maxGates?: number;
  /** Deepest expression / block nesting. Default 64. */
  maxNesting?: number;
}

export interface QasmRegister {
  readonly name: string;
  readonly size: number;
  /** First wire (qubit registers) or first bit (classical registers) in the flattened order. */
  readonly offset: number;
}
export interface QasmInput {
  readonly name: string;
  readonly type: 'float' | 'angle';
  readonly bits: number | null;
}
export interface QasmMeasurement {
  readonly qubit: number;
  /** The classical bit (register and index), or `null` for a bare `measure q;`. */
  readonly bit: { readonly register: string; readonly index: number } | null;
}

/** Everything read from a program: the circuit plus what the IR does not hold. */
export interface ParsedQasm {
  readonly circuit: Circuit;
  readonly version: 2 | 3;
  readonly qregs: readonly QasmRegister[];
  readonly cregs: readonly QasmRegister[];
  readonly inputs: readonly QasmInput[];
  readonly measurements: readonly QasmMeasurement[];
  readonly barriers: number;
  readonly includes: readonly string[];
  /** Names of the user gate definitions, in order. */
  readonly gateDefinitions: readonly string[];
}

const STD_FILES = new Set(['qelib1.inc', 'stdgates.inc']);
const CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  pi: Math.PI,
  π: Math.PI,
  tau: 2 * Math.PI,
  τ: 2 * Math.PI,
  euler: Math.E,
  ℇ: Math.E,
});
const FUNCS: Readonly<Record<string, (x: number) => number>> = Object.freeze({
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  exp: Math.exp,
  ln: Math.log,
  log: Math.log,
  sqrt: Math.sqrt,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  abs: Math.abs,
});
const ASCII_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

type GateDef = Extract<Statement, { kind: 'gateDef' }>;
type GateEntry =
  | { readonly kind: 'std'; readonly std: StdGate; readonly from: string }
  | { readonly kind: 'user'; readonly def: GateDef; readonly level: number }
  | { readonly kind: 'opaque'; readonly params: number; readonly qubits: number };

const err = (detail: string, pos: Pos): QasmParseError => new QasmParseError(detail, pos.line, pos.column);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

class Lowerer implements Sink {
  version: 2 | 3 = 3;
  private readonly qregs = new Map<string, QasmRegister & { single: boolean }>();
  private readonly cregs = new Map<string, QasmRegister & { single: boolean }>();
  private readonly inputs = new Map<string, QasmInput>();
  private readonly names = new Map<string, string>();
  private readonly gates = new Map<string, GateEntry>();
  private readonly includes: string[] = [];
  private readonly defs: string[] = [];
  private readonly measurements: QasmMeasurement[] = [];
  private readonly measured = new Set<number>();
  private readonly ir: Gate[] = [];
  private qubits = 0;
  private bits = 0;
  private barriers = 0;
  private phaseConst = 0;
  private readonly phaseSym = new Map<string, { coeff: number; pos: Pos }>();
  private here: Pos = { line: 1, column: 1 };
  private includeDepth = 0;
  private readonly limits: Required<Omit<ParseOptions, 'includeDir'>>;

  constructor(private readonly options: ParseOptions) {
    this.limits = {
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
      maxQubits: options.maxQubits ?? MAX_QUBITS,
      maxGateDepth: options.maxGateDepth ?? 32,
      maxGates: options.maxGates ?? 5_000_000,
      maxNesting: options.maxNesting ?? 64,
    };
    const builtin = (name: string) =>
      this.gates.set(name, { kind: 'std', std: STD_GATES[name]!, from: 'the language' });
    builtin('U');
    builtin('CX');
  }

  checkSize(text: string, what: string, pos: Pos): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxBytes) {
      throw err(`${what} is ${bytes} bytes; the limit is ${this.limits.maxBytes} (option maxBytes)`, pos);
    }
  }

  parse(text: string): Program {
    return parseProgram(text, { maxNesting: this.limits.maxNesting });
  }

  run(program: Program): ParsedQasm {
    this.version = program.version;
    for (const s of program.statements) this.statement(s);
    if (this.qubits === 0)
      throw err('the program declares no qubits: expected a qreg or qubit declaration', this.here);
    for (const [name, { coeff, pos }] of this.phaseSym) {
      if (coeff !== 0) {
        throw err(
          `the global phase depends on input '${name}' (a phase gate such as p, u1, u2, u3 or cp with a symbolic angle); ` +
            'the circuit IR keeps only a constant global phase',
          pos,
        );
      }
    }
    const twoPi = 2 * Math.PI;
    let phase = this.phaseConst % twoPi;
    if (phase > Math.PI) phase -= twoPi;
    else if (phase <= -Math.PI) phase += twoPi;
    let circuit: Circuit;
    try {
      circuit = makeCircuit({
        qubits: this.qubits,
        gates: this.ir,
        params: [...this.inputs.keys()],
        ...(phase !== 0 ? { globalPhase: phase } : {}),
      });
    } catch (e) {
      if (e instanceof QpeftError) throw err(`the lowered circuit is invalid: ${e.message}`, this.here);
      throw e;
    }
    const strip = ({ name, size, offset }: QasmRegister) => ({ name, size, offset });
    return {
      circuit,
      version: this.version,
      qregs: [...this.qregs.values()].map(strip),
      cregs: [...this.cregs.values()].map(strip),
      inputs: [...this.inputs.values()],
      measurements: this.measurements,
      barriers: this.barriers,
      includes: this.includes,
      gateDefinitions: this.defs,
    };
  }

  private declare(name: string, what: string, pos: Pos): void {
    const prev = this.names.get(name) ?? (this.gates.has(name) ? 'a gate' : undefined);
    if (prev) throw err(`'${name}' is already declared as ${prev}: expected a new name for the ${what}`, pos);
    if (Object.hasOwn(CONSTANTS, name))
      throw err(`'${name}' is a built-in constant: expected another name for the ${what}`, pos);
    this.names.set(name, `a ${what}`);
  }

  private statement(s: Statement): void {
    this.here = s.pos;
    switch (s.kind) {
      case 'version':
      case 'comment':
        return;
      case 'include':
        this.include(s.path, s.pos);
        return;
      case 'qreg':
      case 'creg': {
        const what = s.kind === 'qreg' ? 'qubit register' : 'bit register';
        this.declare(s.name, what, s.pos);
        if (s.size !== null && s.size < 1)
          throw err(`the ${what} '${s.name}' must have at least 1 element, got ${s.size}`, s.pos);
        const size = s.size ?? 1;
        if (s.kind === 'qreg') {
          if (this.qubits + size > this.limits.maxQubits) {
            throw err(
              `declaring '${s.name}' brings the program to ${this.qubits + size} qubits; the limit is ${this.limits.maxQubits} (option maxQubits)`,
              s.pos,
            );
          }
          this.qregs.set(s.name, { name: s.name, size, offset: this.qubits, single: s.size === null });
          this.qubits += size;
        } else {
          if (this.bits + size > 1 << 16)
            throw err(
              `the bit registers would hold ${this.bits + size} bits; the limit is ${1 << 16}`,
              s.pos,
            );
          this.cregs.set(s.name, { name: s.name, size, offset: this.bits, single: s.size === null });
          this.bits += size;
        }
        return;
      }
      case 'input': {
        if (this.version === 2)
          throw err("'input' parameters are OpenQASM 3: expected 'OPENQASM 3.0;' as the header", s.pos);
        if (!ASCII_IDENT.test(s.name)) {
          throw err(
            `input '${s.name}' must be an ASCII identifier ([A-Za-z_][A-Za-z0-9_]*) to become a circuit parameter`,
            s.pos,
          );
        }
        if (s.type === 'float' && s.bits !== null && s.bits !== 16 && s.bits !== 32 && s.bits !== 64) {
          throw err(`input float width must be 16, 32 or 64, got ${s.bits}`, s.pos);
        }
        if (s.bits !== null && (s.bits < 1 || s.bits > 128))
          throw err(`input angle width must be in 1..128, got ${s.bits}`, s.pos);
        this.declare(s.name, 'input parameter', s.pos);
        this.inputs.set(s.name, { name: s.name, type: s.type, bits: s.bits });
        return;
      }
      case 'gateDef':
        this.gateDef(s);
        return;
      case 'opaque':
        this.declareGate(s.name, s.pos);
        this.gates.set(s.name, { kind: 'opaque', params: s.params.length, qubits: s.qubits.length });
        this.defs.push(s.name);
        return;
      case 'gate':
        this.topCall(s);
        return;
      case 'barrier':
        if (s.operands.length === 0) {
          this.barriers++;
          return;
        }
        for (const o of s.operands) this.qubitOperand(o);
        this.barriers++;
        return;
      case 'measure':
        this.measure(s.qubit, s.target, s.pos);
        return;
    }
  }

  private include(file: string, pos: Pos): void {
    if (STD_FILES.has(file)) {
      if (this.includes.includes(file) || this.includes.some((f) => STD_FILES.has(f))) {
        this.includes.push(file);
        return;
      }
      for (const name of Object.keys(STD_GATES)) {
        const prev = this.gates.get(name);
        if (prev && prev.kind !== 'std') {
          throw err(
            `include "${file}" defines '${name}', which the program already defined: rename that gate`,
            pos,
          );
        }
        if (this.names.has(name))
          throw err(
            `include "${file}" defines gate '${name}', which clashes with ${this.names.get(name)}`,
            pos,
          );
        if (!prev) this.gates.set(name, { kind: 'std', std: STD_GATES[name]!, from: file });
      }
      this.includes.push(file);
      return;
    }
    const dir = this.options.includeDir;
    if (dir === undefined) {
      throw err(
        `cannot include "${file}": only "qelib1.inc" and "stdgates.inc" are built in; other files need an include directory (option includeDir)`,
        pos,
      );
    }
    if (this.includeDepth >= 8) throw err(`includes nested deeper than 8 levels at "${file}"`, pos);
    let root: string;
    let real: string;
    try {
      root = realpathSync(dir);
    } catch {
      throw err(`the include directory ${JSON.stringify(dir)} does not exist`, pos);
    }
    try {
      real = realpathSync(path.resolve(root, file));
    } catch {
      throw err(
        `cannot include "${file}": no such file in the include directory ${JSON.stringify(dir)}`,
        pos,
      );
    }
    const rel = path.relative(root, real);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw err(
        `cannot include "${file}": the path leaves the include directory ${JSON.stringify(dir)}`,
        pos,
      );
    }
    let text: string;
    try {
      const st = statSync(real);
      if (!st.isFile()) throw err(`cannot include "${file}": not a regular file`, pos);
      if (st.size > this.limits.maxBytes) {
        throw err(
          `included file "${file}" is ${st.size} bytes; the limit is ${this.limits.maxBytes} (option maxBytes)`,
          pos,
        );
      }
      text = readFileSync(real, 'utf8');
    } catch (e) {
      if (e instanceof QasmParseError) throw e;
      throw err(
        `cannot read included file "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        pos,
      );
    }
    this.includeDepth++;
    try {
      const prog = this.parse(text);
      for (const s of prog.statements) this.statement(s);
    } catch (e) {
      if (e instanceof QasmParseError)
        throw err(`in included file "${file}", line ${e.line}, column ${e.column}: ${e.detail}`, pos);
      throw e;
    } finally {
      this.includeDepth--;
      this.here = pos;
    }
    this.includes.push(file);
  }

  private declareGate(name: string, pos: Pos): void {
    const prev = this.gates.get(name);
    if (prev) {
      const by =
        prev.kind === 'std' ? ` by ${prev.from === 'the language' ? 'the language' : `"${prev.from}"`}` : '';
      throw err(`gate '${name}' is already defined${by}: expected a new gate name`, pos);
    }
    if (name === 'gphase') throw err("'gphase' is built in: expected a new gate name", pos);
    this.declare(name, 'gate', pos);
  }

  private gateDef(d: GateDef): void {
    this.declareGate(d.name, d.pos);
    const dup = (list: readonly string[], what: string) => {
      const seen = new Set<string>();
      for (const n of list) {
        if (seen.has(n)) throw err(`gate '${d.name}' lists the ${what} '${n}' twice`, d.pos);
        seen.add(n);
      }
    };
    dup(d.params, 'parameter');
    dup(d.qubits, 'qubit argument');
    const params = new Set(d.params);
    const qubits = new Set(d.qubits);
    for (const p of d.params)
      if (qubits.has(p)) throw err(`gate '${d.name}' uses '${p}' as both a parameter and a qubit`, d.pos);
    let level = 1;
    for (const c of d.body) {
      if (c.kind === 'barrier') {
        for (const o of c.operands) this.bodyOperand(o, qubits, d.name);
        continue;
      }
      for (const a of c.args) this.checkBodyExpr(a, params, d.name);
      if (c.name === 'gphase') {
        if (this.version === 2)
          throw err("'gphase' is OpenQASM 3: expected 'OPENQASM 3.0;' as the header", c.pos);
        if (c.args.length !== 1 || c.operands.length !== 0) {
          throw err(
            `gphase takes 1 angle and no qubits, got ${plural(c.args.length, 'angle')} and ${plural(c.operands.length, 'qubit')}`,
            c.pos,
          );
        }
        continue;
      }
      if (c.name === d.name)
        throw err(`gate '${d.name}' calls itself: recursive definitions are not allowed`, c.pos);
      const entry = this.lookup(c);
      this.checkSignature(c, entry);
      const seen = new Set<string>();
      for (const o of c.operands) {
        this.bodyOperand(o, qubits, d.name);
        if (seen.has(o.name)) throw err(`'${c.name}' is applied to qubit '${o.name}' twice`, o.pos);
        seen.add(o.name);
      }
      if (entry.kind === 'user') level = Math.max(level, entry.level + 1);
    }
    if (level > this.limits.maxGateDepth) {
      throw err(
        `gate '${d.name}' nests user gate definitions ${level} deep; the limit is ${this.limits.maxGateDepth} (option maxGateDepth)`,
        d.pos,
      );
    }
    this.gates.set(d.name, { kind: 'user', def: d, level });
    this.defs.push(d.name);
  }

  private bodyOperand(o: Operand, qubits: Set<string>, gate: string): void {
    if (o.index !== undefined)
      throw err(
        `inside gate '${gate}', qubit arguments take no index: expected '${o.name}', got '${o.name}[${o.index}]'`,
        o.pos,
      );
    if (!qubits.has(o.name)) {
      throw err(
        `unknown qubit '${o.name}' in the body of gate '${gate}': expected one of ${[...qubits].join(', ')}`,
        o.pos,
      );
    }
  }

  private checkBodyExpr(e: Expr, params: Set<string>, gate: string): void {
    switch (e.kind) {
      case 'num':
        return;
      case 'id':
        if (params.has(e.name) || Object.hasOwn(CONSTANTS, e.name)) return;
        throw err(
          `unknown name '${e.name}' in the body of gate '${gate}': expected one of its parameters (${[...params].join(', ') || 'none'}) or pi, tau, euler`,
          e.pos,
        );
      case 'unary':
        this.checkBodyExpr(e.arg, params, gate);
        return;
      case 'binary':
        this.checkBodyExpr(e.left, params, gate);
        this.checkBodyExpr(e.right, params, gate);
        return;
      case 'call':
        this.checkFunction(e);
        for (const a of e.args) this.checkBodyExpr(a, params, gate);
    }
  }

  private checkFunction(e: Extract<Expr, { kind: 'call' }>): (x: number) => number {
    const f = FUNCS[e.fn];
    if (!f || !Object.hasOwn(FUNCS, e.fn)) {
      throw err(`unknown function '${e.fn}': expected one of ${Object.keys(FUNCS).join(', ')}`, e.pos);
    }
    if (e.args.length !== 1) throw err(`'${e.fn}' takes 1 argument, got ${e.args.length}`, e.pos);
    return f;
  }

  private lookup(c: GateCall): GateEntry {
    const entry = this.gates.get(c.name);
    if (entry) return entry;
    if (Object.hasOwn(STD_GATES, c.name)) {
      const lib = this.version === 2 ? 'qelib1.inc' : 'stdgates.inc';
      throw err(
        `unknown gate '${c.name}': it is a standard gate, so expected 'include "${lib}";' before its first use`,
        c.pos,
      );
    }
    const what = this.names.get(c.name);
    if (what) throw err(`'${c.name}' is ${what}, not a gate: expected a gate name`, c.pos);
    throw err(
      `unknown gate '${c.name}': expected a standard gate (with the library included) or a gate defined earlier`,
      c.pos,
    );
  }

  private checkSignature(c: GateCall, entry: GateEntry): void {
    const [np, nq] =
      entry.kind === 'std'
        ? [entry.std.params, entry.std.qubits]
        : entry.kind === 'user'
          ? [entry.def.params.length, entry.def.qubits.length]
          : [entry.params, entry.qubits];
    if (c.args.length !== np)
      throw err(`gate '${c.name}' takes ${plural(np, 'angle')}, got ${c.args.length}`, c.pos);
    if (c.operands.length !== nq)
      throw err(`gate '${c.name}' acts on ${plural(nq, 'qubit')}, got ${c.operands.length}`, c.pos);
  }

  /** Evaluate an angle expression; `env` holds gate parameters (inside a gate body) or is `null` (top level). */
  private evaluate(e: Expr, env: ReadonlyMap<string, Aff> | null): Aff {
    try {
      switch (e.kind) {
        case 'num':
          return konst(e.value);
        case 'id': {
          const v = env?.get(e.name);
          if (v) return v;
          if (Object.hasOwn(CONSTANTS, e.name)) return konst(CONSTANTS[e.name]!);
          if (env === null && this.inputs.has(e.name)) return sym(e.name);
          const what = this.names.get(e.name);
          if (what)
            throw err(
              `'${e.name}' is ${what}: expected a number, an input parameter or pi, tau, euler`,
              e.pos,
            );
          throw err(
            `unknown name '${e.name}' in the expression: expected an input parameter declared earlier, or pi, tau, euler`,
            e.pos,
          );
        }
        case 'unary': {
          const a = this.evaluate(e.arg, env);
          return e.op === '-' ? neg(a) : a;
        }
        case 'binary': {
          const l = this.evaluate(e.left, env);
          const r = this.evaluate(e.right, env);
          switch (e.op) {
            case '+':
              return add(l, r);
            case '-':
              return sub(l, r);
            case '*':
              return mul(l, r);
            case '/':
              return div(l, r);
            default:
              return konst(constant(l, `the base of '${e.op}'`) ** constant(r, `the exponent of '${e.op}'`));
          }
        }
        case 'call': {
          const f = this.checkFunction(e);
          return konst(f(constant(this.evaluate(e.args[0]!, env), `the argument of '${e.fn}'`)));
        }
      }
    } catch (x) {
      if (x instanceof AffineError) throw err(x.message, e.pos);
      throw x;
    }
  }

  private angle(e: Expr, env: ReadonlyMap<string, Aff> | null): Aff {
    const v = this.evaluate(e, env);
    if (!Number.isFinite(v.a) || !Number.isFinite(v.b)) throw err('the angle is not a finite number', e.pos);
    return v;
  }

  /** Wires of an operand: one wire, or a whole register (for broadcasting). */
  private qubitOperand(o: Operand): number[] {
    const r = this.qregs.get(o.name);
    if (!r) {
      const what = this.names.get(o.name);
      throw err(
        what
          ? `'${o.name}' is ${what}: expected a qubit or qubit register`
          : `unknown qubit register '${o.name}': declare it first (qreg/qubit)`,
        o.pos,
      );
    }
    if (o.index === undefined) return Array.from({ length: r.size }, (_, i) => r.offset + i);
    if (r.single) throw err(`'${o.name}' is a single qubit: expected '${o.name}' without an index`, o.pos);
    if (o.index >= r.size)
      throw err(
        `index ${o.index} is out of range for '${o.name}' (size ${r.size}): expected 0..${r.size - 1}`,
        o.pos,
      );
    return [r.offset + o.index];
  }

  private bitOperand(o: Operand): { register: string; index: number }[] {
    const r = this.cregs.get(o.name);
    if (!r) {
      const what = this.names.get(o.name);
      throw err(
        what
          ? `'${o.name}' is ${what}: expected a bit register`
          : `unknown bit register '${o.name}': declare it first (creg/bit)`,
        o.pos,
      );
    }
    if (o.index === undefined)
      return Array.from({ length: r.size }, (_, i) => ({ register: r.name, index: i }));
    if (r.single) throw err(`'${o.name}' is a single bit: expected '${o.name}' without an index`, o.pos);
    if (o.index >= r.size)
      throw err(
        `index ${o.index} is out of range for '${o.name}' (size ${r.size}): expected 0..${r.size - 1}`,
        o.pos,
      );
    return [{ register: r.name, index: o.index }];
  }

  private topCall(c: GateCall): void {
    if (c.name === 'gphase') {
      if (this.version === 2)
        throw err("'gphase' is OpenQASM 3: expected 'OPENQASM 3.0;' as the header", c.pos);
      if (c.args.length !== 1 || c.operands.length !== 0) {
        throw err(
          `gphase takes 1 angle and no qubits, got ${plural(c.args.length, 'angle')} and ${plural(c.operands.length, 'qubit')}`,
          c.pos,
        );
      }
      this.phase(this.angle(c.args[0]!, null));
      return;
    }
    const entry = this.lookup(c);
    this.checkSignature(c, entry);
    const args = c.args.map((a) => this.angle(a, null));
    const lists = c.operands.map((o) => this.qubitOperand(o));
    let width = 1;
    c.operands.forEach((o, i) => {
      if (o.index !== undefined) return;
      const n = lists[i]!.length;
      if (width !== 1 && n !== width && n !== 1) {
        throw err(
          `registers in one gate call must have the same size: expected ${width} qubits in '${o.name}', got ${n}`,
          o.pos,
        );
      }
      width = Math.max(width, n);
    });
    for (let k = 0; k < width; k++) {
      const wires = lists.map((l) => (l.length === 1 ? l[0]! : l[k]!));
      wires.forEach((w, i) => {
        if (wires.indexOf(w) !== i)
          throw err(`gate '${c.name}' is applied to the same qubit twice (wire ${w})`, c.operands[i]!.pos);
        if (this.measured.has(w)) {
          throw err(
            `gate '${c.name}' acts on a qubit (wire ${w}) after it was measured: mid-circuit measurement is not supported`,
            c.pos,
          );
        }
      });
      this.apply(c, entry, args, wires, 0);
    }
  }

  private apply(
    c: GateCall,
    entry: GateEntry,
    args: readonly Aff[],
    wires: readonly number[],
    depth: number,
  ): void {
    if (entry.kind === 'opaque')
      throw err(`gate '${c.name}' is opaque: it has no definition to lower`, c.pos);
    if (entry.kind === 'std') {
      try {
        entry.std.lower(this, args, wires);
      } catch (x) {
        if (x instanceof AffineError) throw err(`in the decomposition of '${c.name}': ${x.message}`, c.pos);
        throw x;
      }
      return;
    }
    const def = entry.def;
    const env = new Map<string, Aff>(def.params.map((p, i) => [p, args[i]!]));
    const wireOf = new Map<string, number>(def.qubits.map((q, i) => [q, wires[i]!]));
    for (const s of def.body) {
      if (s.kind === 'barrier') continue;
      if (s.name === 'gphase') {
        this.phase(this.angle(s.args[0]!, env));
        continue;
      }
      const sub = this.gates.get(s.name)!;
      this.apply(
        s,
        sub,
        s.args.map((a) => this.angle(a, env)),
        s.operands.map((o) => wireOf.get(o.name)!),
        depth + 1,
      );
    }
  }

  private measure(q: Operand, target: Operand | null, pos: Pos): void {
    const wires = this.qubitOperand(q);
    const bits = target ? this.bitOperand(target) : null;
    if (bits && bits.length !== wires.length) {
      throw err(
        `measure: expected as many bits as qubits, got ${plural(wires.length, 'qubit')} and ${plural(bits.length, 'bit')}`,
        pos,
      );
    }
    wires.forEach((w, i) => {
      this.measurements.push({ qubit: w, bit: bits ? bits[i]! : null });
      this.measured.add(w);
    });
  }

  // Sink: where the standard library's lowering lands.
  private push(g: Gate): void {
    if (this.ir.length >= this.limits.maxGates) {
      throw err(
        `the program expands to more than ${this.limits.maxGates} gates (option maxGates)`,
        this.here,
      );
    }
    this.ir.push(g);
  }
  rot(name: RotationName, wire: number, angle: Aff, exact: boolean): void {
    if (!exact && angle.p === null) {
      if (angle.b === 0) return;
      const m = name === 'ry' ? null : piMultiple(angle);
      if (m !== null) {
        if (m % 2 !== 0) this.fixed(name === 'rz' ? 'z' : 'x', wire);
        this.phase(konst((-m * Math.PI) / 2));
        return;
      }
    }
    const a = toAngle(angle);
    this.push(name === 'ry' ? ry(wire, a) : name === 'rx' ? rx(wire, a) : rz(wire, a));
  }
  fixed(name: FixedName, wire: number): void {
    this.push(name === 'x' ? x(wire) : name === 'z' ? z(wire) : h(wire));
  }
  two(name: TwoQubitName, a: number, b: number): void {
    this.push(name === 'cx' ? cx(a, b) : name === 'cz' ? cz(a, b) : swap(a, b));
  }
  phase(angle: Aff): void {
    this.phaseConst += angle.b;
    if (angle.p !== null) {
      const prev = this.phaseSym.get(angle.p);
      this.phaseSym.set(angle.p, { coeff: (prev?.coeff ?? 0) + angle.a, pos: prev?.pos ?? this.here });
    }
  }
}

/** Parse and lower a program, keeping what the IR does not hold (registers, measurements, inputs). */
export function parseQasmDetailed(text: string, options: ParseOptions = {}): ParsedQasm {
  const l = new Lowerer(options);
  l.checkSize(text, 'the program', { line: 1, column: 1 });
  return l.run(l.parse(text));
}

/**
 * Read an OpenQASM 2 or 3 program into the circuit IR. `input float`/`input angle` parameters become
 * `circuit.params` (declaration order) and may appear in angles only affinely (`2*theta + pi/4`); gates
 * outside the IR set are lowered exactly, with their global phase in `globalPhase`. Measurements and
 * barriers are checked and dropped (see `parseQasmDetailed` to keep them). Throws `QasmParseError`
 * (with line and column) for anything it cannot read.
 */
export function parseQasm(text: string, options: ParseOptions = {}): Circuit {
  return parseQasmDetailed(text, options).circuit;
}
