/**
 * Lowering: an OpenQASM source tree → the circuit IR. The program is executed at compile time: registers
 * are flattened in declaration order (the first register holds wires 0…; a program on physical qubits `$n`
 * uses wire n), classical declarations (bit registers too: a bit is a compile-time 0/1 until a measurement
 * writes it), loops, `if` on compile-time conditions and subroutines run here,
 * `input` parameters become `circuit.params` (declaration order), the standard library of the program's
 * version and user `gate` definitions are expanded with their modifiers, and angle expressions must stay
 * affine in at most one input. Gates outside the IR set are lowered exactly; their global phase is summed
 * into `circuit.globalPhase`. Whatever makes the program non-unitary (gates after a measurement, `reset`
 * after gates, branching on measured bits) is refused with the reason.
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
import type { Modifier, Pos, SExpr, SourceProgram, SStmt, TypeSpec } from './ast.ts';
import { CBIT, parseProgram } from './parser.ts';
import {
  emitUnitary1,
  InverseSink,
  type Mat2,
  MatrixSink,
  multiControlled,
  piMultiple,
  principalPower,
  QELIB1_GATES,
  type Sink,
  STD_GATES,
  STDGATES_GATES,
  STDGATES_OWN,
  type StdGate,
} from './stdlib.ts';

/** Options of `parseQasm`: where includes may come from and the size limits for untrusted text. */
export interface ParseOptions {
  /** Directory that non-standard `include` files are read from (paths may not leave it). Default: none. */
  includeDir?: string;
  /** Largest accepted program (and included file) in bytes. Default 16 MiB. */
  maxBytes?: number;
  /** Most bytes of included files, all includes together. Default 16 MiB. */
  maxIncludeBytes?: number;
  /** Most `include` statements of non-standard files, nested ones included. Default 64. */
  maxIncludes?: number;
  /** Most qubits the program may declare. Default `MAX_QUBITS` (30). */
  maxQubits?: number;
  /** Deepest chain of user gate definitions or subroutine calls. Default 32. */
  maxGateDepth?: number;
  /** Most IR gates the expanded program may produce. Default 5,000,000. */
  maxGates?: number;
  /** Deepest expression / block nesting. Default 64. */
  maxNesting?: number;
  /** Most statements, loop iterations and gate applications executed at compile time. Default 10,000,000. */
  maxSteps?: number;
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
  /**
   * For a program written on physical qubits (`$0`, `$3`, …): wire i is physical qubit `physicalQubits[i]`
   * (always i: the width is the largest index + 1, unused ones idle). `null` for declared registers.
   */
  readonly physicalQubits: readonly number[] | null;
  /** What was read and dropped because it does not change the unitary (delays, boxes, resets on |0⟩, …). */
  readonly dropped: readonly string[];
}

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
  floor: Math.floor,
  ceiling: Math.ceil,
});
const ASCII_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TWO_PI = 2 * Math.PI;

type GateDef = Extract<SStmt, { kind: 'gateDef' }>;
type DefStmt = Extract<SStmt, { kind: 'def' }>;
type CallStmt = Extract<SStmt, { kind: 'call' }>;
type GateEntry =
  | { readonly kind: 'std'; readonly std: StdGate; readonly from: string }
  | { readonly kind: 'user'; readonly def: GateDef; readonly level: number }
  | { readonly kind: 'opaque'; readonly params: number; readonly qubits: number };

/** A compile-time value. Floats and unsized angles may be affine in one input; the rest are constants. */
type Val =
  | { readonly t: 'int'; readonly v: number; readonly bits: number | null; readonly signed: boolean }
  | { readonly t: 'float'; readonly v: Aff; readonly bits: number | null }
  /** Sized angles hold k (the value is 2πk/2ⁿ); unsized angles hold radians (affine when an input). */
  | { readonly t: 'angle'; readonly v: Aff; readonly bits: number | null; readonly k: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'dur' }
  | { readonly t: 'qubits'; readonly wires: readonly number[] }
  | { readonly t: 'list'; readonly items: readonly Val[] };

type Binding =
  | { readonly kind: 'var'; type: ResolvedType; val: Val; readonly isConst: boolean }
  | { readonly kind: 'qubits'; readonly wires: readonly number[] };

interface ResolvedType {
  readonly name: TypeSpec['name'];
  readonly bits: number | null;
}

/** A gate modifier with its count or exponent evaluated. */
type Mod = { kind: 'ctrl' | 'negctrl'; n: number } | { kind: 'inv' } | { kind: 'pow'; k: number };

type Flow = null | 'break' | 'continue' | { readonly ret: Val | null };

const err = (detail: string, pos: Pos): QasmParseError => new QasmParseError(detail, pos.line, pos.column);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const NON_UNITARY = 'the program is not a unitary; qpeft simulates unitary programs';

/** Round half to even, as the specification's float → angle cast. */
function roundEven(x: number): number {
  const f = Math.floor(x);
  // A tie up to rounding in x = value/2π·2ⁿ (3π/8 in angle[3] is 1.4999999999999998) is a tie.
  if (Math.abs(x - f - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}
/** k mod 2^bits for integers held exactly in a double. */
function wrap(v: number, bits: number): number {
  const m = 2 ** bits;
  return ((v % m) + m) % m;
}

class Lowerer implements Sink {
  version: 2 | 3 = 3;
  private readonly qregs = new Map<string, QasmRegister & { single: boolean }>();
  private readonly cregs = new Map<string, QasmRegister & { single: boolean }>();
  /**
   * Compile-time contents of each bit register: a bit holds a known 0/1 until a measurement writes it
   * (then `measured` is set and reading it is classical feedback). Undeclared-value bits read as 0, as
   * uninitialised classical variables do here.
   */
  private readonly bitState = new Map<string, { v: Uint8Array; measured: Uint8Array }>();
  private readonly inputs = new Map<string, QasmInput>();
  private readonly names = new Map<string, string>();
  private readonly gates = new Map<string, GateEntry>();
  private readonly subs = new Map<string, DefStmt>();
  private readonly includes: string[] = [];
  private readonly defs: string[] = [];
  private readonly measurements: QasmMeasurement[] = [];
  /** Line of the (first) measurement of each measured wire. */
  private readonly measured = new Map<number, number>();
  /** Wires that a gate has acted on (a later `reset` is not a no-op there). */
  private readonly touched = new Set<number>();
  private readonly ir: Gate[] = [];
  private readonly dropped = new Map<string, number>();
  private readonly scopes: Map<string, Binding>[] = [new Map()];
  private qubits = 0;
  private physical = false;
  private maxPhysical = -1;
  private bits = 0;
  private barriers = 0;
  private phaseConst = 0;
  private readonly phaseSym = new Map<string, { coeff: number; pos: Pos }>();
  private here: Pos = { line: 1, column: 1 };
  private includeDepth = 0;
  private includeCount = 0;
  private includeBytes = 0;
  private callDepth = 0;
  private steps = 0;
  /** What an expression is being evaluated for, named when it reads measured bits. */
  private reading = 'an expression';
  private readonly limits: Required<Omit<ParseOptions, 'includeDir'>>;

  constructor(private readonly options: ParseOptions) {
    this.limits = {
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
      maxIncludeBytes: options.maxIncludeBytes ?? 16 * 1024 * 1024,
      maxIncludes: options.maxIncludes ?? 64,
      maxQubits: options.maxQubits ?? MAX_QUBITS,
      maxGateDepth: options.maxGateDepth ?? 32,
      maxGates: options.maxGates ?? 5_000_000,
      maxNesting: options.maxNesting ?? 64,
      maxSteps: options.maxSteps ?? 10_000_000,
    };
  }

  checkSize(text: string, what: string, pos: Pos): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxBytes) {
      throw err(`${what} is ${bytes} bytes; the limit is ${this.limits.maxBytes} (option maxBytes)`, pos);
    }
  }

  parse(text: string): SourceProgram {
    return parseProgram(text, { maxNesting: this.limits.maxNesting });
  }

  private step(pos: Pos): void {
    if (++this.steps > this.limits.maxSteps) {
      throw err(
        `the program executes more than ${this.limits.maxSteps} steps at compile time (loops, powers and calls are unrolled; option maxSteps)`,
        pos,
      );
    }
  }

  private drop(what: string): void {
    this.dropped.set(what, (this.dropped.get(what) ?? 0) + 1);
  }

  run(program: SourceProgram): ParsedQasm {
    this.version = program.version;
    const builtin = (name: string) =>
      this.gates.set(name, { kind: 'std', std: STD_GATES[name]!, from: 'the language' });
    builtin('U');
    if (this.version === 2) builtin('CX');
    this.block(program.statements, false);
    if (this.physical) this.qubits = this.maxPhysical + 1;
    if (this.qubits === 0)
      throw err('the program declares no qubits: expected a qreg or qubit declaration', this.here);
    for (const [name, { coeff, pos }] of this.phaseSym) {
      if (Math.abs(coeff) > 1e-12) {
        throw err(
          `the global phase depends on input '${name}' (a phase gate such as p, u1, u2, u3 or cp with a symbolic angle); ` +
            'the circuit IR keeps only a constant global phase',
          pos,
        );
      }
    }
    let phase = this.phaseConst % TWO_PI;
    if (phase > Math.PI) phase -= TWO_PI;
    else if (phase <= -Math.PI) phase += TWO_PI;
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
      physicalQubits: this.physical ? Array.from({ length: this.qubits }, (_, i) => i) : null,
      dropped: [...this.dropped].map(([what, n]) => `${n} × ${what}`),
    };
  }

  // ---- names and scopes ----

  private lookupName(name: string): Binding | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const b = this.scopes[i]!.get(name);
      if (b) return b;
    }
    return undefined;
  }

  private declare(name: string, what: string, pos: Pos): void {
    const local = this.scopes.length > 1 ? this.scopes[this.scopes.length - 1]!.has(name) : false;
    const prev =
      (this.scopes.length === 1 ? this.names.get(name) : undefined) ??
      (local ? 'a local variable' : undefined) ??
      (this.gates.has(name) ? 'a gate' : undefined) ??
      (this.subs.has(name) ? 'a subroutine' : undefined);
    if (prev) throw err(`'${name}' is already declared as ${prev}: expected a new name for the ${what}`, pos);
    if (Object.hasOwn(CONSTANTS, name))
      throw err(`'${name}' is a built-in constant: expected another name for the ${what}`, pos);
    if (this.scopes.length === 1) this.names.set(name, `a ${what}`);
  }

  private requireV3(what: string, pos: Pos): void {
    if (this.version === 2) throw err(`${what} is OpenQASM 3: expected 'OPENQASM 3.0;' as the header`, pos);
  }

  // ---- statements ----

  /** Run statements in a new scope (unless `shared`). */
  private block(stmts: readonly SStmt[], scoped = true): Flow {
    if (scoped) this.scopes.push(new Map());
    try {
      for (const s of stmts) {
        const f = this.statement(s);
        if (f !== null) return f;
      }
      return null;
    } finally {
      if (scoped) this.scopes.pop();
    }
  }

  private statement(s: SStmt): Flow {
    this.here = s.pos;
    this.step(s.pos);
    switch (s.kind) {
      case 'version':
      case 'pragma':
        return null;
      case 'include':
        this.include(s.path, s.pos);
        return null;
      case 'qreg':
      case 'creg':
        this.register(s);
        return null;
      case 'input':
        this.input(s);
        return null;
      case 'classical':
        this.requireV3(`the '${s.type.name}' declaration`, s.pos);
        this.classical(s);
        return null;
      case 'assign':
        this.assign(s);
        return null;
      case 'gateDef':
        this.gateDef(s);
        return null;
      case 'opaque':
        this.declareGate(s.name, s.pos);
        this.gates.set(s.name, { kind: 'opaque', params: s.params.length, qubits: s.qubits.length });
        this.defs.push(s.name);
        return null;
      case 'def':
        this.requireV3("'def' subroutines", s.pos);
        if (this.scopes.length > 1) throw err('subroutines must be defined at the top level', s.pos);
        this.declare(s.name, 'subroutine', s.pos);
        this.subs.set(s.name, s);
        return null;
      case 'return':
        if (this.callDepth === 0) throw err("'return' outside a subroutine", s.pos);
        return { ret: s.value === null ? null : this.value(s.value) };
      case 'call':
        this.call(s, this.sink);
        return null;
      case 'expr':
        this.value(s.expr);
        return null;
      case 'measure':
        this.measure(s.qubit, s.target, s.pos);
        return null;
      case 'reset':
        this.reset(s.operand, s.pos);
        return null;
      case 'barrier':
        for (const o of s.operands) this.qubitsOf(o);
        this.barriers++;
        return null;
      case 'delay':
        this.requireV3("'delay'", s.pos);
        for (const o of s.operands) this.qubitsOf(o);
        this.drop('delay (timing only)');
        return null;
      case 'box': {
        this.requireV3("'box'", s.pos);
        this.drop('box (timing only; its body is kept)');
        return this.block(s.body);
      }
      case 'block':
        return this.block(s.body);
      case 'if': {
        // No version check first: an OpenQASM 2 'if' reads measured bits, and that is the reason to give.
        const saved = this.reading;
        this.reading = `the 'if' condition on line ${s.pos.line}`;
        const cond = this.truth(this.value(s.cond), s.cond.pos);
        this.reading = saved;
        this.requireV3("'if' on a compile-time condition", s.pos);
        if (cond) return this.block(s.then);
        return s.else ? this.block(s.else) : null;
      }
      case 'for':
        this.requireV3("'for' loops", s.pos);
        return this.forLoop(s);
      case 'while': {
        this.requireV3("'while' loops", s.pos);
        const saved = this.reading;
        for (;;) {
          this.reading = `the 'while' condition on line ${s.pos.line}`;
          const go = this.truth(this.value(s.cond), s.cond.pos);
          this.reading = saved;
          if (!go) return null;
          this.step(s.pos);
          const f = this.block(s.body);
          if (f === 'break') return null;
          if (f !== null && f !== 'continue') return f;
        }
      }
      case 'let': {
        this.requireV3("'let' aliases", s.pos);
        const wires: number[] = [];
        for (const part of s.parts) {
          const v = this.value(part);
          if (v.t !== 'qubits')
            throw err(
              "'let' aliases qubits here: expected a qubit register, slice or single qubit (aliases of bits or values are not supported)",
              part.pos,
            );
          wires.push(...v.wires);
        }
        const twice = wires.find((w, i) => wires.indexOf(w) !== i);
        if (twice !== undefined) throw err(`the alias '${s.name}' names ${this.label(twice)} twice`, s.pos);
        this.declare(s.name, 'alias', s.pos);
        this.scopes[this.scopes.length - 1]!.set(s.name, { kind: 'qubits', wires });
        return null;
      }
      case 'switch': {
        this.requireV3("'switch'", s.pos);
        const saved = this.reading;
        this.reading = `the 'switch' value on line ${s.pos.line}`;
        const v = this.value(s.control);
        this.reading = saved;
        // The specification: an integer controlling value, integer constant case values, no duplicates.
        if (v.t !== 'int')
          throw err(
            `the 'switch' value must be an integer, got ${v.t === 'bool' ? 'a bool' : `a ${v.t}`}`,
            s.control.pos,
          );
        const seen = new Map<number, number>();
        let chosen: readonly SStmt[] | null = null;
        for (const c of s.cases) {
          for (const l of c.labels) {
            const lv = this.value(l);
            if (lv.t !== 'int')
              throw err(
                `a case value must be an integer constant, got ${lv.t === 'bool' ? 'a bool' : `a ${lv.t}`}`,
                l.pos,
              );
            const first = seen.get(lv.v);
            if (first !== undefined)
              throw err(`case value ${lv.v} appears twice in the 'switch' (first on line ${first})`, l.pos);
            seen.set(lv.v, l.pos.line);
            if (chosen === null && lv.v === v.v) chosen = c.body;
          }
        }
        const body = chosen ?? s.default;
        // A case body is a scope; 'break'/'continue' inside it belong to an enclosing loop.
        return body ? this.block(body) : null;
      }
      case 'break':
      case 'continue':
        return s.kind;
    }
  }

  private forLoop(s: Extract<SStmt, { kind: 'for' }>): Flow {
    const it = s.iterable;
    let items: Val[];
    if (it.kind === 'range') {
      const num = (e: SExpr | null, what: string): number => {
        if (e === null) throw err(`the loop range needs a ${what}`, it.pos);
        return this.intOf(this.value(e), e.pos, `the loop range ${what}`);
      };
      const start = num(it.start, 'start');
      const step = it.step === null ? 1 : num(it.step, 'step');
      const end = num(it.end, 'end');
      if (step === 0) throw err('the loop range step is 0', it.pos);
      items = [];
      for (let i = start; step > 0 ? i <= end : i >= end; i += step) {
        this.step(s.pos);
        items.push({ t: 'int', v: i, bits: null, signed: true });
      }
    } else {
      const v = this.value(it);
      if (v.t !== 'list') throw err('expected a range [a:b], a set {…} or an array to loop over', it.pos);
      items = [...v.items];
    }
    const type: ResolvedType = s.varType ? this.resolveType(s.varType) : { name: 'int', bits: null };
    for (const item of items) {
      this.step(s.pos);
      this.scopes.push(
        new Map([[s.name, { kind: 'var', type, val: this.convert(item, type, s.pos), isConst: false }]]),
      );
      let f: Flow;
      try {
        f = this.block(s.body);
      } finally {
        this.scopes.pop();
      }
      if (f === 'break') break;
      if (f !== null && f !== 'continue') return f;
    }
    return null;
  }

  private register(s: Extract<SStmt, { kind: 'qreg' | 'creg' }>): void {
    const what = s.kind === 'qreg' ? 'qubit register' : 'bit register';
    if (this.scopes.length > 1 && s.kind === 'qreg')
      throw err('qubits must be declared at the top level (not in a block, loop or subroutine)', s.pos);
    this.declare(s.name, what, s.pos);
    let size = 1;
    if (s.size !== null) {
      size = this.intOf(this.value(s.size), s.size.pos, 'the register size');
      if (size < 1) throw err(`the ${what} '${s.name}' must have at least 1 element, got ${size}`, s.pos);
    }
    if (s.kind === 'qreg') {
      if (this.physical)
        throw err(
          `qubit register '${s.name}' declared in a program that uses physical qubits ($n): use one or the other`,
          s.pos,
        );
      if (this.qubits + size > this.limits.maxQubits) {
        throw err(
          `declaring '${s.name}' brings the program to ${this.qubits + size} qubits; the limit is ${this.limits.maxQubits} (option maxQubits)`,
          s.pos,
        );
      }
      this.qregs.set(s.name, { name: s.name, size, offset: this.qubits, single: s.size === null });
      this.qubits += size;
      return;
    }
    if (this.bits + size > 1 << 16)
      throw err(`the bit registers would hold ${this.bits + size} bits; the limit is ${1 << 16}`, s.pos);
    this.cregs.set(s.name, { name: s.name, size, offset: this.bits, single: s.size === null });
    this.bitState.set(s.name, { v: new Uint8Array(size), measured: new Uint8Array(size) });
    this.bits += size;
    if (s.init === null) return;
    const target: SExpr = { kind: 'id', name: s.name, pos: s.pos };
    if (s.init.kind === 'measure') this.measure(s.init.operand, target, s.pos);
    else this.writeBits(target, s.init, s.pos);
  }

  /**
   * `bit[n] c = value;` or `c[i] = value;` with a compile-time value: a bit string of exactly the selected
   * width ("0101", least significant bit on the right, as the specification writes), or an integer/bool,
   * of which the low bits are kept (the int → bit[n] cast). Bits that hold measurement results cannot be
   * overwritten: qpeft reports which bit each measurement lands in.
   */
  private writeBits(target: SExpr, value: SExpr, pos: Pos, op = '='): void {
    const bits = this.bitsOf(target);
    const name = bits[0]!.register;
    const st = this.bitState.get(name)!;
    if (bits.some((b) => st.measured[b.index]))
      throw err(
        `'${name}' holds measurement results: assigning a classical value to it on line ${pos.line} is not supported (qpeft keeps the measured bits as the program's output)`,
        pos,
      );
    let word: number;
    if (value.kind === 'str') {
      if (op !== '=') throw err(`'${op}' needs an integer, got a bit string`, value.pos);
      if (!/^[01]+$/.test(value.value) || value.value.length !== bits.length)
        throw err(
          `expected a bit string of ${plural(bits.length, 'binary digit')} (0/1) for '${name}', got "${value.value}"`,
          value.pos,
        );
      word = Number.parseInt(value.value, 2);
    } else {
      let v = this.value(value);
      if (op !== '=') v = this.binary(op.slice(0, -1), this.readBits(name, bits, pos), v, pos);
      if (v.t !== 'int' && v.t !== 'bool')
        throw err(
          `expected an integer, bool or bit string for the bits of '${name}', got a ${v.t}`,
          value.pos,
        );
      word = v.t === 'bool' ? (v.v ? 1 : 0) : v.v;
      if (!Number.isSafeInteger(word)) throw err(`integer value ${word} is not exact`, value.pos);
    }
    // Two's complement low bits, one at a time (register widths may exceed 32).
    let w = word < 0 ? 2 ** 53 + word : word;
    for (const b of bits) {
      st.v[b.index] = w % 2;
      w = Math.floor(w / 2);
    }
  }

  /** The compile-time value of selected bits (bit j of the result = the j-th selected bit). */
  private readBits(name: string, bits: { index: number }[], pos: Pos): Val {
    const st = this.bitState.get(name)!;
    if (bits.some((b) => st.measured[b.index])) this.feedback(name, pos);
    let v = 0;
    bits.forEach((b, j) => {
      v += st.v[b.index]! * 2 ** j;
    });
    return { t: 'int', v, bits: bits.length, signed: false };
  }

  private input(s: Extract<SStmt, { kind: 'input' }>): void {
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
    if (this.scopes.length > 1) throw err("'input' must be declared at the top level", s.pos);
    this.declare(s.name, 'input parameter', s.pos);
    this.inputs.set(s.name, { name: s.name, type: s.type, bits: s.bits });
  }

  private resolveType(t: TypeSpec): ResolvedType {
    let bits: number | null = null;
    if (t.size !== null) {
      bits = this.intOf(this.value(t.size), t.size.pos, `the width of '${t.name}'`);
      const max = t.name === 'float' ? 64 : t.name === 'angle' ? 64 : t.name === 'bit' ? 1 << 16 : 64;
      if (bits < 1 || bits > max)
        throw err(`the width of '${t.name}' must be in 1..${max}, got ${bits}`, t.pos);
      if (t.name === 'float' && ![16, 32, 64].includes(bits))
        throw err(`float width must be 16, 32 or 64, got ${bits}`, t.pos);
    }
    return { name: t.name, bits };
  }

  private classical(s: Extract<SStmt, { kind: 'classical' }>): void {
    const type = this.resolveType(s.type);
    if (type.name === 'qubit') throw err('qubit declarations take the form qubit[n] name;', s.pos);
    let val: Val;
    if (s.init === null) val = this.zero(type);
    else {
      val = this.convert(this.value(s.init), type, s.init.pos);
      if (s.isConst) {
        const p = this.symbolOf(val);
        if (p !== null)
          throw err(`const '${s.name}' uses input '${p}': a constant needs a compile-time value`, s.init.pos);
      }
    }
    this.declare(s.name, s.isConst ? 'constant' : 'variable', s.pos);
    this.scopes[this.scopes.length - 1]!.set(s.name, { kind: 'var', type, val, isConst: s.isConst });
  }

  private zero(type: ResolvedType): Val {
    switch (type.name) {
      case 'int':
      case 'uint':
        return { t: 'int', v: 0, bits: type.bits, signed: type.name === 'int' };
      case 'float':
        return { t: 'float', v: konst(0), bits: type.bits };
      case 'angle':
        return { t: 'angle', v: konst(0), bits: type.bits, k: 0 };
      case 'bool':
        return { t: 'bool', v: false };
      default:
        return { t: 'dur' };
    }
  }

  private symbolOf(v: Val): string | null {
    return (v.t === 'float' || v.t === 'angle') && v.v.p !== null ? v.v.p : null;
  }

  private assign(s: Extract<SStmt, { kind: 'assign' }>): void {
    if (s.value.kind === 'measure') {
      if (s.op !== '=') throw err(`'${s.op}' cannot take a measurement: expected '='`, s.pos);
      this.measure(s.value.operand, s.target, s.pos);
      return;
    }
    if (this.isBitTarget(s.target)) {
      this.requireV3('assigning to bits', s.pos);
      this.writeBits(s.target, s.value, s.pos, s.op);
      return;
    }
    this.requireV3('classical assignment', s.pos);
    if (s.target.kind !== 'id')
      throw err('expected a variable name on the left of the assignment', s.target.pos);
    const name = s.target.name;
    const b = this.lookupName(name);
    if (b?.kind !== 'var') {
      if (this.inputs.has(name)) throw err(`input '${name}' cannot be assigned`, s.pos);
      throw err(`unknown variable '${name}': declare it first`, s.target.pos);
    }
    if (b.isConst) throw err(`'${name}' is a constant and cannot be assigned`, s.pos);
    let v = this.value(s.value);
    if (s.op !== '=') v = this.binary(s.op.slice(0, -1), b.val, v, s.pos);
    b.val = this.convert(v, b.type, s.pos);
  }

  private isBitTarget(e: SExpr): boolean {
    const base = e.kind === 'index' ? e.base : e;
    return base.kind === 'id' && this.cregs.has(base.name) && !this.lookupName(base.name);
  }

  // ---- includes and definitions ----

  private include(file: string, pos: Pos): void {
    if (this.scopes.length > 1) throw err("'include' must be at the top level", pos);
    const std = file === 'qelib1.inc' ? 2 : file === 'stdgates.inc' ? 3 : 0;
    if (std !== 0) {
      if (std !== this.version) {
        const own = this.version === 2 ? 'qelib1.inc' : 'stdgates.inc';
        throw err(
          `include "${file}" is the OpenQASM ${std} standard library; an OpenQASM ${this.version} program includes "${own}"`,
          pos,
        );
      }
      if (this.includes.includes(file)) {
        this.includes.push(file);
        return;
      }
      for (const name of std === 2 ? QELIB1_GATES : STDGATES_GATES) {
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
        if (!prev)
          this.gates.set(name, {
            kind: 'std',
            std: (std === 3 ? STDGATES_OWN[name] : undefined) ?? STD_GATES[name]!,
            from: file,
          });
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
    if (++this.includeCount > this.limits.maxIncludes)
      throw err(
        `more than ${this.limits.maxIncludes} include statements in all (option maxIncludes) at "${file}"`,
        pos,
      );
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
      if (this.includeBytes + st.size > this.limits.maxIncludeBytes) {
        throw err(
          `included files would total ${this.includeBytes + st.size} bytes at "${file}"; the limit is ${this.limits.maxIncludeBytes} (option maxIncludeBytes)`,
          pos,
        );
      }
      this.includeBytes += st.size;
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
      for (const s of prog.statements) {
        if (s.kind === 'version') continue;
        this.statement(s);
      }
    } catch (e) {
      if (e instanceof QasmParseError && !e.detail.startsWith('in included file'))
        throw err(`in included file "${file}", line ${e.line}, column ${e.column}: ${e.detail}`, pos);
      if (e instanceof QasmParseError) throw err(e.detail, pos);
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
    if (this.scopes.length > 1) throw err('gates must be defined at the top level', pos);
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
    const level = this.checkGateBody(d, d.body, params, qubits, new Set());
    if (level > this.limits.maxGateDepth) {
      throw err(
        `gate '${d.name}' nests user gate definitions ${level} deep; the limit is ${this.limits.maxGateDepth} (option maxGateDepth)`,
        d.pos,
      );
    }
    this.gates.set(d.name, { kind: 'user', def: d, level });
    this.defs.push(d.name);
  }

  /** Check a gate body when it is defined (gate calls, gphase, barriers and loops only); returns its level. */
  private checkGateBody(
    d: GateDef,
    body: readonly SStmt[],
    params: ReadonlySet<string>,
    qubits: ReadonlySet<string>,
    loopVars: ReadonlySet<string>,
  ): number {
    let level = 1;
    for (const c of body) {
      if (c.kind === 'barrier' || c.kind === 'pragma') {
        for (const o of c.kind === 'barrier' ? c.operands : []) this.bodyOperand(o, qubits, d.name, loopVars);
        continue;
      }
      if (c.kind === 'for') {
        this.requireV3("'for' loops", c.pos);
        const inner = new Set(loopVars).add(c.name);
        level = Math.max(level, this.checkGateBody(d, c.body, params, qubits, inner));
        continue;
      }
      if (c.kind === 'block') {
        level = Math.max(level, this.checkGateBody(d, c.body, params, qubits, loopVars));
        continue;
      }
      if (c.kind !== 'call') {
        const word =
          c.kind === 'qreg'
            ? 'qubit'
            : c.kind === 'classical'
              ? c.type.name
              : c.kind === 'gateDef'
                ? 'gate'
                : c.kind;
        throw err(`'${word}' is not allowed in a gate body: expected gate calls only`, c.pos);
      }
      const known = new Set([...params, ...loopVars]);
      for (const a of c.args) this.checkBodyExpr(a, known, d.name);
      for (const m of c.modifiers) {
        if (m.kind === 'pow') this.checkBodyExpr(m.exponent, known, d.name);
        if ((m.kind === 'ctrl' || m.kind === 'negctrl') && m.count)
          this.checkBodyExpr(m.count, known, d.name);
      }
      if (c.modifiers.length) this.requireV3('gate modifiers', c.pos);
      for (const o of c.operands) this.bodyOperand(o, qubits, d.name, loopVars);
      if (c.name === 'gphase') {
        this.requireV3("'gphase'", c.pos);
        continue;
      }
      if (c.name === d.name)
        throw err(`gate '${d.name}' calls itself: recursive definitions are not allowed`, c.pos);
      const entry = this.lookup(c);
      if (c.modifiers.length === 0) {
        this.checkSignature(c, entry, 0);
        const seen = new Set<string>();
        for (const o of c.operands) {
          if (o.kind !== 'id') continue;
          if (seen.has(o.name)) throw err(`'${c.name}' is applied to qubit '${o.name}' twice`, o.pos);
          seen.add(o.name);
        }
      }
      if (entry.kind === 'user') level = Math.max(level, entry.level + 1);
    }
    return level;
  }

  private bodyOperand(
    o: SExpr,
    qubits: ReadonlySet<string>,
    gate: string,
    loopVars: ReadonlySet<string>,
  ): void {
    if (o.kind === 'index' && o.base.kind === 'id' && loopVars.size === 0) {
      const idx = o.index.kind === 'num' ? String(o.index.value) : '…';
      throw err(
        `inside gate '${gate}', qubit arguments take no index: expected '${o.base.name}', got '${o.base.name}[${idx}]'`,
        o.pos,
      );
    }
    if (o.kind === 'phys')
      throw err(`physical qubit $${o.index} inside gate '${gate}': use its qubit arguments`, o.pos);
    const name = o.kind === 'id' ? o.name : o.kind === 'index' && o.base.kind === 'id' ? o.base.name : null;
    if (name === null || !qubits.has(name)) {
      throw err(
        `unknown qubit '${name ?? '?'}' in the body of gate '${gate}': expected one of ${[...qubits].join(', ')}`,
        o.pos,
      );
    }
  }

  private checkBodyExpr(e: SExpr, known: ReadonlySet<string>, gate: string): void {
    switch (e.kind) {
      case 'id':
        if (known.has(e.name) || Object.hasOwn(CONSTANTS, e.name)) return;
        if (this.version === 3) {
          const b = this.scopes[0]!.get(e.name);
          if (b?.kind === 'var' && b.isConst) return;
        }
        throw err(
          `unknown name '${e.name}' in the body of gate '${gate}': expected one of its parameters (${[...known].join(', ') || 'none'}) or pi, tau, euler`,
          e.pos,
        );
      case 'unary':
        this.checkBodyExpr(e.arg, known, gate);
        return;
      case 'binary': {
        // Left-deep chains are walked with a loop, so a long sum costs no stack.
        let node: SExpr = e;
        while (node.kind === 'binary') {
          this.checkBodyExpr(node.right, known, gate);
          node = node.left;
        }
        this.checkBodyExpr(node, known, gate);
        return;
      }
      case 'call':
        this.checkFunction(e);
        for (const a of e.args) this.checkBodyExpr(a, known, gate);
        return;
      case 'cast':
        this.checkBodyExpr(e.arg, known, gate);
        return;
      default:
        return;
    }
  }

  private checkFunction(e: Extract<SExpr, { kind: 'call' }>): (x: number) => number {
    const f = FUNCS[e.fn];
    if (!f || !Object.hasOwn(FUNCS, e.fn)) {
      if (['mod', 'pow', 'popcount', 'rotl', 'rotr', 'sizeof', 'real', 'imag'].includes(e.fn))
        return Math.abs;
      throw err(`unknown function '${e.fn}': expected one of ${Object.keys(FUNCS).join(', ')}`, e.pos);
    }
    if (e.args.length !== 1) throw err(`'${e.fn}' takes 1 argument, got ${e.args.length}`, e.pos);
    return f;
  }

  private lookup(c: { name: string; pos: Pos }): GateEntry {
    const entry = this.gates.get(c.name);
    if (entry) return entry;
    const own = this.version === 2 ? QELIB1_GATES : STDGATES_GATES;
    const other = this.version === 2 ? STDGATES_GATES : QELIB1_GATES;
    const lib = this.version === 2 ? 'qelib1.inc' : 'stdgates.inc';
    if (own.includes(c.name)) {
      throw err(
        `unknown gate '${c.name}': it is a standard gate, so expected 'include "${lib}";' before its first use`,
        c.pos,
      );
    }
    if (other.includes(c.name) || c.name === 'CX') {
      throw err(
        `unknown gate '${c.name}': it is not in the OpenQASM ${this.version} standard library ("${lib}"); define it with 'gate ${c.name} …' first`,
        c.pos,
      );
    }
    const what = this.names.get(c.name);
    if (what) throw err(`'${c.name}' is ${what}, not a gate: expected a gate name`, c.pos);
    if (c.name === 'cbit') throw err(CBIT, c.pos);
    throw err(
      `unknown gate '${c.name}': expected a standard gate (with the library included) or a gate defined earlier`,
      c.pos,
    );
  }

  private signature(entry: GateEntry): [number, number] {
    return entry.kind === 'std'
      ? [entry.std.params, entry.std.qubits]
      : entry.kind === 'user'
        ? [entry.def.params.length, entry.def.qubits.length]
        : [entry.params, entry.qubits];
  }

  private checkSignature(
    c: { name: string; args: readonly unknown[]; operands: readonly unknown[]; pos: Pos },
    entry: GateEntry,
    controls: number,
  ): void {
    const [np, nq] = this.signature(entry);
    if (c.args.length !== np)
      throw err(`gate '${c.name}' takes ${plural(np, 'angle')}, got ${c.args.length}`, c.pos);
    if (c.operands.length !== nq + controls) {
      const extra = controls ? ` plus ${plural(controls, 'control')}` : '';
      throw err(`gate '${c.name}' acts on ${plural(nq, 'qubit')}${extra}, got ${c.operands.length}`, c.pos);
    }
  }

  // ---- gate calls, modifiers and subroutines ----

  private sink: Sink = this;
  /** Inside a gate body (wires may be local to a matrix): no measurement bookkeeping there. */
  private inGate = 0;

  private call(s: CallStmt, sink: Sink): void {
    if (s.name !== 'gphase' && !this.gates.has(s.name) && this.subs.has(s.name)) {
      if (s.modifiers.length) throw err(`modifiers apply to gates, and '${s.name}' is a subroutine`, s.pos);
      if (s.operands.length)
        throw err(`subroutine '${s.name}' takes its qubits as arguments: expected ${s.name}(…);`, s.pos);
      this.callSub(this.subs.get(s.name)!, s.args, s.pos);
      return;
    }
    const mods: Mod[] = [];
    let controls = 0;
    for (const m of s.modifiers) mods.push(this.modifier(m, s.name));
    for (const m of mods) if (m.kind === 'ctrl' || m.kind === 'negctrl') controls += m.n;
    let entry: GateEntry | null = null;
    if (s.name === 'gphase') {
      this.requireV3("'gphase'", s.pos);
      if (s.args.length !== 1 || s.operands.length !== controls) {
        throw err(
          `gphase takes 1 angle and no qubits${controls ? ` (plus ${plural(controls, 'control')})` : ''}, got ${plural(s.args.length, 'angle')} and ${plural(s.operands.length, 'qubit')}`,
          s.pos,
        );
      }
    } else {
      entry = this.lookup(s);
      if (entry.kind === 'opaque')
        throw err(`gate '${s.name}' is opaque: it has no definition to lower`, s.pos);
      this.checkSignature(s, entry, controls);
    }
    const args = s.args.map((a) => this.angleOf(this.value(a), a.pos));
    const lists = s.operands.map((o) => this.qubitsOf(o));
    let width = 1;
    s.operands.forEach((o, i) => {
      const n = lists[i]!.length;
      if (n === 1) return;
      if (width !== 1 && n !== width) {
        const name = o.kind === 'id' ? ` in '${o.name}'` : '';
        throw err(
          `registers in one gate call must have the same size: expected ${width} qubits${name}, got ${n}`,
          o.pos,
        );
      }
      width = n;
    });
    const run = (inner: Sink, wires: readonly number[]) => {
      try {
        this.applyMods(inner, s, mods, 0, entry, args, wires);
      } catch (x) {
        if (x instanceof AffineError) throw err(`in '${s.name}': ${x.message}`, s.pos);
        throw x;
      }
    };
    for (let k = 0; k < width; k++) {
      const wires = lists.map((l) => (l.length === 1 ? l[0]! : l[k]!));
      wires.forEach((w, i) => {
        if (wires.indexOf(w) !== i)
          throw err(`gate '${s.name}' is applied to the same qubit twice (wire ${w})`, s.operands[i]!.pos);
        if (this.inGate > 0) return;
        const line = this.measured.get(w);
        if (line !== undefined)
          throw err(
            `measurement on line ${line} is followed by gates on ${this.label(w)}: ${NON_UNITARY}`,
            s.pos,
          );
        this.touched.add(w);
      });
      this.step(s.pos);
      run(sink, wires);
    }
  }

  private modifier(m: Modifier, gate: string): Mod {
    this.requireV3('gate modifiers', m.pos);
    if (m.kind === 'inv') return { kind: 'inv' };
    if (m.kind === 'pow') {
      const v = this.value(m.exponent);
      if (this.symbolOf(v) !== null)
        throw err(
          `pow(…) @ ${gate}: the exponent uses input '${this.symbolOf(v)}'; it must be a compile-time number`,
          m.pos,
        );
      const k = this.numberOf(v, m.exponent.pos);
      if (!Number.isFinite(k)) throw err(`pow(…) @ ${gate}: the exponent is not a finite number`, m.pos);
      return { kind: 'pow', k };
    }
    const n =
      m.count === null
        ? 1
        : this.intOf(this.value(m.count), m.count.pos, `the number of controls of '${m.kind}'`);
    if (n < 1 || n > this.limits.maxQubits)
      throw err(`${m.kind}(${n}) @: expected 1..${this.limits.maxQubits} controls`, m.pos);
    return { kind: m.kind, n };
  }

  private applyMods(
    sink: Sink,
    s: CallStmt,
    mods: readonly Mod[],
    i: number,
    entry: GateEntry | null,
    args: readonly Aff[],
    wires: readonly number[],
  ): void {
    if (i === mods.length) {
      this.lowerGate(sink, entry, args, wires);
      return;
    }
    const m = mods[i]!;
    if (m.kind === 'ctrl' || m.kind === 'negctrl') {
      const cs = wires.slice(0, m.n);
      const rest = wires.slice(m.n);
      if (m.kind === 'negctrl') for (const c of cs) sink.fixed('x', c);
      multiControlled(sink, cs, (inner) => this.applyMods(inner, s, mods, i + 1, entry, args, rest));
      if (m.kind === 'negctrl') for (const c of cs) sink.fixed('x', c);
      return;
    }
    if (m.kind === 'inv') {
      const rec = new InverseSink(this.limits.maxGates);
      this.applyMods(rec, s, mods, i + 1, entry, args, wires);
      rec.replayInverse(sink);
      return;
    }
    const k = (m as Extract<Mod, { kind: 'pow' }>).k;
    if (Number.isInteger(k)) {
      if (Math.abs(k) > this.limits.maxGates)
        throw err(
          `pow(${k}) @ ${s.name}: the power is larger than the gate limit ${this.limits.maxGates}`,
          s.pos,
        );
      if (k >= 0) {
        for (let r = 0; r < k; r++) {
          this.step(s.pos);
          this.applyMods(sink, s, mods, i + 1, entry, args, wires);
        }
        return;
      }
      const rec = new InverseSink(this.limits.maxGates);
      this.applyMods(rec, s, mods, i + 1, entry, args, wires);
      for (let r = 0; r < -k; r++) {
        this.step(s.pos);
        rec.replayInverse(sink);
      }
      return;
    }
    const nextMod = mods[i + 1];
    if (nextMod && (nextMod.kind === 'ctrl' || nextMod.kind === 'negctrl')) {
      // (C-U)^k = C-(U^k) on the principal branch: the control's eigenvalue-1 block stays 1.
      const swapped = [...mods.slice(0, i), nextMod, m, ...mods.slice(i + 2)];
      this.applyMods(sink, s, swapped, i, entry, args, wires);
      return;
    }
    const n = wires.length;
    if (n > 8) throw err(`pow(${k}) @ ${s.name}: a non-integer power of a gate on more than 8 qubits`, s.pos);
    const ms = new MatrixSink(n);
    this.applyMods(
      ms,
      s,
      mods,
      i + 1,
      entry,
      args,
      wires.map((_, j) => j),
    );
    if (n === 0) {
      sink.phase(konst(k * Math.atan2(ms.im[0]!, ms.re[0]!)));
      return;
    }
    const found = controlledStructure(ms);
    if (found === null) {
      throw err(
        `pow(${k}) @ ${s.name}: a non-integer power is supported for gates that act as a (multi-)controlled one-qubit unitary; this one does not`,
        s.pos,
      );
    }
    const controls = found.controls.map((j) => wires[j]!);
    multiControlled(sink, controls, (inner) =>
      emitUnitary1(inner, principalPower(found.block, k), wires[found.target]!),
    );
  }

  private lowerGate(
    sink: Sink,
    entry: GateEntry | null,
    args: readonly Aff[],
    wires: readonly number[],
  ): void {
    if (entry === null) {
      sink.phase(args[0]!);
      return;
    }
    if (entry.kind === 'std') {
      entry.std.lower(sink, args, wires);
      return;
    }
    if (entry.kind === 'opaque') throw new AffineError('an opaque gate has no definition to lower');
    const def = entry.def;
    const scope = new Map<string, Binding>();
    for (const [i, p] of def.params.entries()) {
      scope.set(p, {
        kind: 'var',
        type: { name: 'float', bits: null },
        val: { t: 'float', v: args[i]!, bits: null },
        isConst: true,
      });
    }
    for (const [i, q] of def.qubits.entries()) scope.set(q, { kind: 'qubits', wires: [wires[i]!] });
    const saved = this.scopes.splice(1);
    const savedSink = this.sink;
    const savedHere = this.here;
    this.scopes.push(scope);
    this.sink = sink;
    this.inGate++;
    try {
      this.block(def.body, false);
    } finally {
      this.inGate--;
      this.sink = savedSink;
      this.scopes.splice(1);
      this.scopes.push(...saved);
      this.here = savedHere;
    }
  }

  private callSub(def: DefStmt, argExprs: readonly SExpr[], pos: Pos): Val | null {
    if (argExprs.length !== def.args.length)
      throw err(
        `subroutine '${def.name}' takes ${plural(def.args.length, 'argument')}, got ${argExprs.length}`,
        pos,
      );
    if (this.inGate > 0) throw err(`subroutine '${def.name}' called inside a gate body`, pos);
    const scope = new Map<string, Binding>();
    def.args.forEach((a, i) => {
      const e = argExprs[i]!;
      if (a.type.name === 'qubit') {
        const wires = this.qubitsOf(e);
        if (a.type.size !== null) {
          const n = this.intOf(this.value(a.type.size), a.type.size.pos, 'the qubit argument size');
          if (n !== wires.length)
            throw err(
              `subroutine '${def.name}' argument '${a.name}' expects ${plural(n, 'qubit')}, got ${wires.length}`,
              e.pos,
            );
        } else if (wires.length !== 1)
          throw err(
            `subroutine '${def.name}' argument '${a.name}' expects 1 qubit, got ${wires.length}`,
            e.pos,
          );
        scope.set(a.name, { kind: 'qubits', wires });
      } else if (a.type.name === 'bit') {
        throw err(
          `subroutine '${def.name}' takes bit argument '${a.name}': passing measured bits is classical feedback; ${NON_UNITARY}`,
          e.pos,
        );
      } else {
        const type = this.resolveType(a.type);
        scope.set(a.name, {
          kind: 'var',
          type,
          val: this.convert(this.value(e), type, e.pos),
          isConst: false,
        });
      }
    });
    if (++this.callDepth > this.limits.maxGateDepth) {
      this.callDepth--;
      throw err(
        `subroutine calls nested deeper than ${this.limits.maxGateDepth} (option maxGateDepth) at '${def.name}'`,
        pos,
      );
    }
    const saved = this.scopes.splice(1);
    this.scopes.push(scope);
    let flow: Flow;
    try {
      flow = this.block(def.body, false);
    } finally {
      this.callDepth--;
      this.scopes.splice(1);
      this.scopes.push(...saved);
    }
    const ret = flow !== null && typeof flow === 'object' ? flow.ret : null;
    if (def.returns === null) return null;
    if (ret === null) throw err(`subroutine '${def.name}' ended without returning a value`, pos);
    return this.convert(ret, this.resolveType(def.returns), pos);
  }

  // ---- operands ----

  private label(w: number): string {
    if (this.physical) return `$${w}`;
    for (const r of this.qregs.values())
      if (w >= r.offset && w < r.offset + r.size) return r.single ? r.name : `${r.name}[${w - r.offset}]`;
    return `wire ${w}`;
  }

  /** Wires of a qubit operand: one wire, a whole register (for broadcasting), or a slice. */
  private qubitsOf(o: SExpr): number[] {
    switch (o.kind) {
      case 'phys': {
        if (this.qregs.size)
          throw err(
            `physical qubit $${o.index} in a program that declares qubit registers: use one or the other`,
            o.pos,
          );
        if (o.index >= this.limits.maxQubits)
          throw err(
            `physical qubit $${o.index} needs ${o.index + 1} qubits; the limit is ${this.limits.maxQubits} (option maxQubits)`,
            o.pos,
          );
        this.physical = true;
        this.maxPhysical = Math.max(this.maxPhysical, o.index);
        return [o.index];
      }
      case 'id': {
        const b = this.lookupName(o.name);
        if (b?.kind === 'qubits') return [...b.wires];
        const r = this.qregs.get(o.name);
        if (r && !b) return Array.from({ length: r.size }, (_, i) => r.offset + i);
        const what = b ? 'a classical variable' : this.names.get(o.name);
        throw err(
          what
            ? `'${o.name}' is ${what}: expected a qubit or qubit register`
            : `unknown qubit register '${o.name}': declare it first (qreg/qubit)`,
          o.pos,
        );
      }
      case 'index': {
        const base = this.qubitsOf(o.base);
        const name = o.base.kind === 'id' ? o.base.name : 'the register';
        if (o.base.kind === 'id' && this.qregs.get(o.base.name)?.single && !this.lookupName(o.base.name))
          throw err(`'${name}' is a single qubit: expected '${name}' without an index`, o.pos);
        return this.select(base, o.index, name, o.pos);
      }
      default:
        throw err('expected a qubit operand (a register, q[i] or $n)', o.pos);
    }
  }

  /** Elements `index` of `items` (an index, a range or a set; negative indices count from the end). */
  private select<T>(items: readonly T[], index: SExpr, name: string, at: Pos): T[] {
    const n = items.length;
    const one = (i: number, _pos: Pos): T => {
      const pos = at;
      const j = i < 0 && this.version === 3 ? n + i : i;
      if (j < 0 || j >= n)
        throw err(`index ${i} is out of range for '${name}' (size ${n}): expected 0..${n - 1}`, pos);
      return items[j]!;
    };
    if (index.kind === 'set')
      return index.items.map((e) => one(this.intOf(this.value(e), e.pos, 'an index'), e.pos));
    if (index.kind === 'range') {
      const num = (e: SExpr | null, dflt: number) =>
        e === null ? dflt : this.intOf(this.value(e), e.pos, 'a range bound');
      const step = num(index.step, 1);
      const start = num(index.start, step > 0 ? 0 : n - 1);
      const end = num(index.end, step > 0 ? n - 1 : 0);
      if (step === 0) throw err('the range step is 0', index.pos);
      const out: T[] = [];
      for (let i = start; step > 0 ? i <= end : i >= end; i += step) out.push(one(i, index.pos));
      return out;
    }
    return [one(this.intOf(this.value(index), index.pos, 'an index'), index.pos)];
  }

  private bitsOf(o: SExpr): { register: string; index: number }[] {
    const base = o.kind === 'index' ? o.base : o;
    const r = base.kind === 'id' ? this.cregs.get(base.name) : undefined;
    if (!r || base.kind !== 'id') {
      const what = base.kind === 'id' ? this.names.get(base.name) : undefined;
      const name = base.kind === 'id' ? base.name : '?';
      const b = base.kind === 'id' ? this.lookupName(base.name) : undefined;
      if (b?.kind === 'var') {
        // e.g. the specification's ipe.qasm measures into the bits of an angle[n]: name the type.
        const ty = `${b.type.name}${b.type.bits === null ? '' : `[${b.type.bits}]`}`;
        throw err(
          `'${name}' is ${/^[aeiou]/.test(ty) ? 'an' : 'a'} ${ty} variable: measurements and bit values go into bit registers (bit[n] ${name};)`,
          o.pos,
        );
      }
      throw err(
        what
          ? `'${name}' is ${what}: expected a bit register`
          : `unknown bit register '${name}': declare it first (creg/bit)`,
        o.pos,
      );
    }
    const all = Array.from({ length: r.size }, (_, i) => ({ register: r.name, index: i }));
    if (o.kind !== 'index') return all;
    if (r.single) throw err(`'${r.name}' is a single bit: expected '${r.name}' without an index`, o.pos);
    return this.select(all, o.index, r.name, o.pos);
  }

  private measure(q: SExpr, target: SExpr | null, pos: Pos): void {
    const wires = this.qubitsOf(q);
    const bits = target ? this.bitsOf(target) : null;
    if (bits && bits.length !== wires.length) {
      throw err(
        `measure: expected as many bits as qubits, got ${plural(wires.length, 'qubit')} and ${plural(bits.length, 'bit')}`,
        pos,
      );
    }
    wires.forEach((w, i) => {
      const b = bits ? bits[i]! : null;
      if (b) this.bitState.get(b.register)!.measured[b.index] = 1;
      this.measurements.push({ qubit: w, bit: b });
      if (!this.measured.has(w)) this.measured.set(w, pos.line);
    });
  }

  private reset(o: SExpr, pos: Pos): void {
    for (const w of this.qubitsOf(o)) {
      const m = this.measured.get(w);
      if (m !== undefined)
        throw err(
          `reset of ${this.label(w)} on line ${pos.line} follows its measurement on line ${m}: ${NON_UNITARY}`,
          pos,
        );
      if (this.touched.has(w))
        throw err(
          `reset of ${this.label(w)} on line ${pos.line} comes after gates on it: ${NON_UNITARY}`,
          pos,
        );
      this.drop('reset before any gate (the qubit is |0⟩ there)');
    }
  }

  // ---- classical values ----

  private value(e: SExpr): Val {
    try {
      return this.valueOf(e);
    } catch (x) {
      if (x instanceof AffineError) throw err(x.message, e.pos);
      throw x;
    }
  }

  private valueOf(e: SExpr): Val {
    switch (e.kind) {
      case 'num':
        return e.integer && this.version === 3
          ? { t: 'int', v: e.value, bits: null, signed: true }
          : { t: 'float', v: konst(e.value), bits: null };
      case 'dur':
        return { t: 'dur' };
      case 'bool':
        return { t: 'bool', v: e.value };
      case 'str':
        throw err('bit-string literals are classical bit values: not supported in expressions', e.pos);
      case 'phys':
        return { t: 'qubits', wires: this.qubitsOf(e) };
      case 'id': {
        const b = this.lookupName(e.name);
        if (b?.kind === 'var') return b.val;
        if (b?.kind === 'qubits') return { t: 'qubits', wires: b.wires };
        if (Object.hasOwn(CONSTANTS, e.name)) return { t: 'float', v: konst(CONSTANTS[e.name]!), bits: null };
        const input = this.inputs.get(e.name);
        if (input && this.inGate === 0)
          return input.type === 'angle'
            ? { t: 'angle', v: sym(e.name), bits: null, k: 0 }
            : { t: 'float', v: sym(e.name), bits: null };
        if (this.cregs.has(e.name)) return this.readBits(e.name, this.bitsOf(e), e.pos);
        if (this.qregs.has(e.name)) return { t: 'qubits', wires: this.qubitsOf(e) };
        const what = this.names.get(e.name);
        if (what)
          throw err(`'${e.name}' is ${what}: expected a number, an input parameter or pi, tau, euler`, e.pos);
        throw err(
          `unknown name '${e.name}' in the expression: expected an input parameter declared earlier, or pi, tau, euler`,
          e.pos,
        );
      }
      case 'unary': {
        const a = this.valueOf(e.arg);
        if (e.op === '+') return a;
        if (e.op === '!') return { t: 'bool', v: !this.truth(a, e.pos) };
        if (e.op === '~') {
          if (a.t !== 'int') throw err(`'~' needs an integer, got ${a.t}`, e.pos);
          // ~x = −x − 1 in two's complement, exact for every safe integer (JS `~` keeps only 32 bits).
          return this.fitInt(-a.v - 1, a.bits, a.signed, e.pos);
        }
        switch (a.t) {
          case 'int':
            return this.fitInt(-a.v, a.bits, a.signed, e.pos);
          case 'float':
            return { t: 'float', v: neg(a.v), bits: a.bits };
          case 'angle':
            return a.bits === null
              ? { t: 'angle', v: neg(a.v), bits: null, k: 0 }
              : this.angleK(-a.k, a.bits);
          default:
            throw err(`'-' needs a number, got ${a.t === 'bool' ? 'a bool' : a.t}`, e.pos);
        }
      }
      case 'binary': {
        // A left-deep chain (`a + b + c + …`) is evaluated with a loop: no stack per term.
        const spine: Extract<SExpr, { kind: 'binary' }>[] = [];
        let node: SExpr = e;
        while (node.kind === 'binary') {
          spine.push(node);
          node = node.left;
        }
        let acc = this.valueOf(node);
        for (let i = spine.length - 1; i >= 0; i--) {
          const b = spine[i]!;
          if ((b.op === '&&' && !this.truth(acc, b.pos)) || (b.op === '||' && this.truth(acc, b.pos))) {
            acc = { t: 'bool', v: b.op === '||' };
            continue;
          }
          try {
            acc = this.binary(b.op, acc, this.valueOf(b.right), b.pos);
          } catch (x) {
            if (x instanceof AffineError) throw err(x.message, b.pos);
            throw x;
          }
        }
        return acc;
      }
      case 'call': {
        if (this.subs.has(e.fn) && !Object.hasOwn(FUNCS, e.fn)) {
          const r = this.callSub(this.subs.get(e.fn)!, e.args, e.pos);
          if (r === null) throw err(`subroutine '${e.fn}' returns no value`, e.pos);
          return r;
        }
        if (e.fn === 'mod' || e.fn === 'pow') {
          if (e.args.length !== 2) throw err(`'${e.fn}' takes 2 arguments, got ${e.args.length}`, e.pos);
          return this.binary(
            e.fn === 'mod' ? '%' : '**',
            this.valueOf(e.args[0]!),
            this.valueOf(e.args[1]!),
            e.pos,
          );
        }
        const f = this.checkFunction(e);
        if (f === Math.abs && e.fn !== 'abs')
          throw err(`function '${e.fn}' is not supported in angle expressions`, e.pos);
        const a = this.valueOf(e.args[0]!);
        const x = this.numberOf(a, e.pos, `the argument of '${e.fn}'`);
        const r = f(x);
        if ((e.fn === 'floor' || e.fn === 'ceiling') && a.t === 'int') return a;
        return e.fn === 'floor' || e.fn === 'ceiling'
          ? { t: 'int', v: r, bits: null, signed: true }
          : { t: 'float', v: konst(r), bits: null };
      }
      case 'cast':
        return this.convert(this.valueOf(e.arg), this.resolveType(e.type), e.pos);
      case 'index': {
        const base = e.base.kind === 'id' ? e.base.name : null;
        if (base !== null && this.cregs.has(base) && !this.lookupName(base))
          return this.readBits(base, this.bitsOf(e), e.pos);
        const v = this.valueOf(e.base);
        if (v.t === 'qubits')
          return { t: 'qubits', wires: this.select(v.wires, e.index, base ?? 'the register', e.pos) };
        if (v.t === 'int' && e.index.kind !== 'range' && e.index.kind !== 'set') {
          const i = this.intOf(this.valueOf(e.index), e.index.pos, 'a bit index');
          if (i < 0 || (v.bits !== null && i >= v.bits))
            throw err(
              `bit index ${i} is out of range for a ${v.bits}-bit ${v.signed ? 'int' : 'uint'}: expected 0..${(v.bits ?? 1) - 1}`,
              e.index.pos,
            );
          // Two's complement: floor division keeps the sign bits of a negative value set.
          return { t: 'bool', v: ((Math.floor(v.v / 2 ** i) % 2) + 2) % 2 === 1 };
        }
        throw err('indexing is supported on qubit registers and integers only', e.pos);
      }
      case 'set':
        return { t: 'list', items: e.items.map((x) => this.valueOf(x)) };
      case 'range':
        throw err('a range [a:b] is allowed only as a loop range or an index', e.pos);
      case 'measure':
        throw err("'measure' is allowed only as a statement or the right side of a bit assignment", e.pos);
    }
  }

  private feedback(name: string, pos: Pos): never {
    throw err(
      `'${name}' holds measurement results: reading it in ${this.reading} is classical feedback; ${NON_UNITARY}`,
      pos,
    );
  }

  private angleK(k: number, bits: number): Val {
    const kk = wrap(k, bits);
    return { t: 'angle', v: konst((TWO_PI * kk) / 2 ** bits), bits, k: kk };
  }

  private fitInt(v: number, bits: number | null, signed: boolean, pos: Pos): Val {
    if (!Number.isSafeInteger(v))
      throw err(`integer value ${v} exceeds the exactly representable range (±2^53)`, pos);
    if (bits === null || bits > 53) return { t: 'int', v, bits, signed };
    let w = wrap(v, bits);
    if (signed && w >= 2 ** (bits - 1)) w -= 2 ** bits;
    return { t: 'int', v: w, bits, signed };
  }

  private binary(op: string, l: Val, r: Val, pos: Pos): Val {
    if (op === '&&' || op === '||') {
      const a = this.truth(l, pos);
      const b = this.truth(r, pos);
      return { t: 'bool', v: op === '&&' ? a && b : a || b };
    }
    if (l.t === 'dur' || r.t === 'dur') {
      if (['+', '-', '*', '/'].includes(op)) return { t: 'dur' };
      throw err(`durations support + - * / only, got '${op}'`, pos);
    }
    if (l.t === 'qubits' || r.t === 'qubits' || l.t === 'list' || r.t === 'list')
      throw err(`'${op}' needs classical values, got a qubit or set operand`, pos);
    if (['==', '!=', '<', '<=', '>', '>='].includes(op)) {
      if (l.t === 'bool' && r.t === 'bool' && (op === '==' || op === '!='))
        return { t: 'bool', v: (l.v === r.v) === (op === '==') };
      const a = this.numberOf(l, pos, `the left side of '${op}'`);
      const b = this.numberOf(r, pos, `the right side of '${op}'`);
      const v =
        op === '=='
          ? a === b
          : op === '!='
            ? a !== b
            : op === '<'
              ? a < b
              : op === '<='
                ? a <= b
                : op === '>'
                  ? a > b
                  : a >= b;
      return { t: 'bool', v };
    }
    if (l.t === 'bool' || r.t === 'bool') {
      if (['&', '|', '^'].includes(op)) {
        const a = this.truth(l, pos);
        const b = this.truth(r, pos);
        return { t: 'bool', v: op === '&' ? a && b : op === '|' ? a || b : a !== b };
      }
      throw err(`'${op}' needs numbers, got a bool`, pos);
    }
    // Sized angles: unsigned arithmetic modulo 2^n (the specification's wrap-around).
    const la = l.t === 'angle' && l.bits !== null ? l : null;
    const ra = r.t === 'angle' && r.bits !== null ? r : null;
    if (la || ra) {
      const bits = Math.max(la?.bits ?? 0, ra?.bits ?? 0);
      const kOf = (v: Val): number =>
        v.t === 'angle' && v.bits === bits
          ? v.k
          : (this.convert(v, { name: 'angle', bits }, pos) as { k: number }).k;
      if (op === '+' || op === '-') {
        if (l.t === 'int' || r.t === 'int')
          throw err(`'${op}' between an angle and an integer: cast one of them`, pos);
        return this.angleK(op === '+' ? kOf(l) + kOf(r) : kOf(l) - kOf(r), bits);
      }
      if (op === '*') {
        if (la && ra) throw err('the product of two angles is not defined', pos);
        const other = la ? r : l;
        const ang = (la ?? ra)!;
        if (other.t === 'int') return this.angleK(ang.k * other.v, bits);
        return this.convert(
          { t: 'float', v: konst(ang.v.b * this.numberOf(other, pos, "'*'")), bits: null },
          { name: 'angle', bits },
          pos,
        );
      }
      if (op === '/') {
        if (la && ra) {
          if (ra.k === 0) throw new AffineError('division by zero');
          return { t: 'int', v: Math.trunc(la.k / kOf(r)), bits, signed: false };
        }
        if (!la) throw err('dividing by an angle is defined only for an angle numerator', pos);
        if (r.t === 'int') {
          if (r.v === 0) throw new AffineError('division by zero');
          return this.angleK(Math.trunc(la.k / r.v), bits);
        }
        const d = this.numberOf(r, pos, "'/'");
        if (d === 0) throw new AffineError('division by zero');
        return this.convert({ t: 'float', v: konst(la.v.b / d), bits: null }, { name: 'angle', bits }, pos);
      }
      if (['&', '|', '^', '<<', '>>'].includes(op) && la) {
        const a = BigInt(la.k);
        const b = BigInt(r.t === 'int' ? r.v : kOf(r));
        const v =
          op === '&' ? a & b : op === '|' ? a | b : op === '^' ? a ^ b : op === '<<' ? a << b : a >> b;
        return this.angleK(Number(v % 2n ** BigInt(bits)), bits);
      }
      throw err(`'${op}' is not defined on angles`, pos);
    }
    if (l.t === 'int' && r.t === 'int') {
      const bits = l.bits === null ? r.bits : r.bits === null ? l.bits : Math.max(l.bits, r.bits);
      const signed = l.signed && r.signed;
      // A sized result wraps modulo 2^bits: compute + − * ** exactly in BigInt so that an intermediate beyond
      // 2^53 (int[32] · int[32]) still gives the specification's wrapped value.
      if (bits !== null && (op === '+' || op === '-' || op === '*' || (op === '**' && r.v >= 0))) {
        const a = BigInt(l.v);
        const b = BigInt(r.v);
        const m = 1n << BigInt(bits);
        let res: bigint;
        if (op === '**') {
          // Square-and-multiply modulo 2^bits: the exponent may be large, the result never is.
          res = 1n;
          let base = ((a % m) + m) % m;
          for (let e = b; e > 0n; e >>= 1n) {
            if (e & 1n) res = (res * base) % m;
            base = (base * base) % m;
          }
        } else res = op === '+' ? a + b : op === '-' ? a - b : a * b;
        let w = ((res % m) + m) % m;
        if (signed && w >= m >> 1n) w -= m;
        return this.fitInt(Number(w), bits, signed, pos);
      }
      let v: number;
      switch (op) {
        case '+':
          v = l.v + r.v;
          break;
        case '-':
          v = l.v - r.v;
          break;
        case '*':
          v = l.v * r.v;
          break;
        case '/':
          if (r.v === 0) throw new AffineError('division by zero');
          v = Math.trunc(l.v / r.v);
          break;
        case '%':
          if (r.v === 0) throw new AffineError('division by zero');
          v = l.v % r.v;
          break;
        case '**':
          if (r.v < 0) return { t: 'float', v: konst(l.v ** r.v), bits: null };
          v = l.v ** r.v;
          break;
        default: {
          const a = BigInt(l.v);
          const b = BigInt(r.v);
          if ((op === '<<' || op === '>>') && (r.v < 0 || r.v > 64))
            throw err(`shift by ${r.v} is out of range 0..64`, pos);
          const res =
            op === '&' ? a & b : op === '|' ? a | b : op === '^' ? a ^ b : op === '<<' ? a << b : a >> b;
          v = Number(res);
        }
      }
      return this.fitInt(v, bits, signed, pos);
    }
    // Floats, unsized angles and inputs: real arithmetic, affine in at most one input.
    const a = this.affOf(l, pos);
    const b = this.affOf(r, pos);
    const bits =
      l.t === 'float' && r.t === 'float'
        ? l.bits === null
          ? r.bits
          : r.bits === null
            ? l.bits
            : Math.max(l.bits, r.bits)
        : null;
    let v: Aff;
    switch (op) {
      case '+':
        v = add(a, b);
        break;
      case '-':
        v = sub(a, b);
        break;
      case '*':
        v = mul(a, b);
        break;
      case '/':
        v = div(a, b);
        break;
      case '%':
        v = konst(constant(a, "the left side of '%'") % constant(b, "the right side of '%'"));
        break;
      case '**':
        v = konst(constant(a, "the base of '**'") ** constant(b, "the exponent of '**'"));
        break;
      default:
        throw err(
          op === '^'
            ? "'^' is bitwise XOR in OpenQASM 3 and needs integers, got a real number: write ** for a power"
            : `'${op}' needs integers, got a real number`,
          pos,
        );
    }
    return l.t === 'angle' || r.t === 'angle' ? { t: 'angle', v, bits: null, k: 0 } : { t: 'float', v, bits };
  }

  private affOf(v: Val, pos: Pos): Aff {
    switch (v.t) {
      case 'int':
        return konst(v.v);
      case 'float':
      case 'angle':
        return v.v;
      default:
        throw err(
          `expected a number, got ${v.t === 'bool' ? 'a bool' : v.t === 'dur' ? 'a duration' : 'qubits'}`,
          pos,
        );
    }
  }

  private angleOf(v: Val, pos: Pos): Aff {
    const a = this.affOf(v, pos);
    if (!Number.isFinite(a.a) || !Number.isFinite(a.b)) throw err('the angle is not a finite number', pos);
    return a;
  }

  private numberOf(v: Val, pos: Pos, what = 'the value'): number {
    if (v.t === 'bool') return v.v ? 1 : 0;
    try {
      return constant(this.affOf(v, pos), what);
    } catch (x) {
      if (x instanceof AffineError) throw err(`${what} must be a compile-time value: ${x.message}`, pos);
      throw x;
    }
  }

  private intOf(v: Val, pos: Pos, what: string): number {
    const n = this.numberOf(v, pos, what);
    if (!Number.isSafeInteger(n)) throw err(`${what} must be an integer, got ${n}`, pos);
    return n;
  }

  private truth(v: Val, pos: Pos): boolean {
    if (v.t === 'bool') return v.v;
    return this.numberOf(v, pos, 'the condition') !== 0;
  }

  private convert(v: Val, type: ResolvedType, pos: Pos): Val {
    switch (type.name) {
      case 'int':
      case 'uint': {
        if (v.t === 'angle' && v.bits !== null) return this.fitInt(v.k, type.bits, type.name === 'int', pos);
        const sym = this.symbolOf(v);
        if (sym !== null)
          throw err(`input '${sym}' cannot become an integer (it is a circuit parameter)`, pos);
        return this.fitInt(Math.trunc(this.numberOf(v, pos)), type.bits, type.name === 'int', pos);
      }
      case 'float': {
        const a = v.t === 'bool' ? konst(v.v ? 1 : 0) : this.affOf(v, pos);
        return {
          t: 'float',
          v: type.bits === 32 && a.p === null ? konst(Math.fround(a.b)) : a,
          bits: type.bits,
        };
      }
      case 'angle': {
        if (v.t === 'bool') throw err('a bool cannot become an angle', pos);
        if (v.t === 'angle' && v.bits === type.bits && v.bits !== null) return v;
        const a = this.affOf(v, pos);
        if (a.p !== null) {
          if (type.bits !== null)
            throw err(
              `input '${a.p}' assigned to angle[${type.bits}]: the wrap-around to ${type.bits} bits needs a compile-time value`,
              pos,
            );
          return { t: 'angle', v: a, bits: null, k: 0 };
        }
        const x = ((a.b % TWO_PI) + TWO_PI) % TWO_PI;
        if (type.bits === null) return { t: 'angle', v: konst(x), bits: null, k: 0 };
        return this.angleK(roundEven((x / TWO_PI) * 2 ** type.bits), type.bits);
      }
      case 'bool':
        return { t: 'bool', v: this.truth(v, pos) };
      case 'duration':
      case 'stretch':
        return { t: 'dur' };
      default:
        throw err(`values of type '${type.name}' are not supported here`, pos);
    }
  }

  // ---- Sink: where the standard library's lowering lands ----

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

/**
 * Whether a dense matrix acts as a (multi-)controlled one-qubit unitary: identity unless every other
 * qubit is |1⟩, and a 2×2 block on one target there. Returns the target, the controls and the block.
 */
function controlledStructure(m: MatrixSink): { target: number; controls: number[]; block: Mat2 } | null {
  const { n, dim, re, im } = m;
  const tol = 1e-9;
  for (let t = 0; t < n; t++) {
    const controls = Array.from({ length: n }, (_, j) => j).filter((j) => j !== t);
    const mask = controls.reduce((acc, j) => acc | (1 << j), 0);
    let ok = true;
    for (let r = 0; r < dim && ok; r++) {
      for (let c = 0; c < dim && ok; c++) {
        const active = (r & mask) === mask && (c & mask) === mask;
        if (active) continue;
        const want = r === c ? 1 : 0;
        if (Math.abs(re[r * dim + c]! - want) > tol || Math.abs(im[r * dim + c]!) > tol) ok = false;
      }
    }
    if (!ok) continue;
    const i0 = mask;
    const i1 = mask | (1 << t);
    const e = (r: number, c: number): [number, number] => [re[r * dim + c]!, im[r * dim + c]!];
    return { target: t, controls, block: [e(i0, i0), e(i0, i1), e(i1, i0), e(i1, i1)] };
  }
  return null;
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
 * outside the IR set are lowered exactly, with their global phase in `globalPhase`. OpenQASM 3's classical
 * part (constants, typed variables, loops, subroutines, gate modifiers) is executed at compile time.
 * Measurements and barriers are checked and dropped (see `parseQasmDetailed` to keep them). Throws
 * `QasmParseError` (with line and column) for anything it cannot read, and for non-unitary programs.
 */
export function parseQasm(text: string, options: ParseOptions = {}): Circuit {
  return parseQasmDetailed(text, options).circuit;
}
