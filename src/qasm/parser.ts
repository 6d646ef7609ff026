/**
 * A recursive-descent parser for the gate-level subset of OpenQASM 2 and 3: tokens → `Program` AST. It
 * checks syntax only; names, sizes and gate signatures are checked when the program is lowered.
 *
 * Expression precedence (lowest first): `+ -`, `* /`, unary `- +`, `^ **` (right-associative), primary.
 */
import { QasmParseError } from '../errors.ts';
import type { Barrier, BinaryOp, Expr, GateCall, Operand, Pos, Program, Statement } from './ast.ts';
import { describeToken, type Token, tokenize } from './lexer.ts';

/** Statements and keywords of OpenQASM 3 that this subset does not read (a clear error instead of a guess). */
const UNSUPPORTED = new Set([
  'reset',
  'if',
  'else',
  'for',
  'while',
  'def',
  'defcal',
  'defcalgrammar',
  'cal',
  'const',
  'let',
  'ctrl',
  'negctrl',
  'inv',
  'pow',
  'delay',
  'box',
  'extern',
  'output',
  'return',
  'break',
  'continue',
  'end',
  'switch',
  'int',
  'uint',
  'float',
  'angle',
  'bool',
  'duration',
  'stretch',
  'complex',
  'array',
  'pragma',
]);

/** Parse options that bound the work done on untrusted text. */
export interface ParseLimits {
  /** Maximum expression / block nesting (default 64). */
  maxNesting?: number;
}

class Parser {
  private p = 0;
  private depth = 0;
  private readonly maxNesting: number;
  constructor(
    private readonly toks: Token[],
    limits: ParseLimits,
  ) {
    this.maxNesting = limits.maxNesting ?? 64;
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.p + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.p++;
    return t;
  }
  private fail(t: Token, expected: string): never {
    throw new QasmParseError(`expected ${expected}, got ${describeToken(t)}`, t.line, t.column);
  }
  private isPunct(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === text;
  }
  private accept(text: string): boolean {
    if (this.isPunct(text)) {
      this.p++;
      return true;
    }
    return false;
  }
  private expect(text: string, context: string): Token {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === text) return this.next();
    return this.fail(t, `'${text}' ${context}`);
  }
  private ident(context: string): Token {
    const t = this.peek();
    if (t.kind === 'id') return this.next();
    return this.fail(t, `${context}`);
  }
  private nonNegInt(context: string): number {
    const t = this.peek();
    if (t.kind === 'num' && t.integer) {
      this.p++;
      if (!Number.isSafeInteger(t.value))
        throw new QasmParseError(`${context}: ${t.text} is too large`, t.line, t.column);
      return t.value;
    }
    return this.fail(t, `a non-negative integer ${context}`);
  }
  private pos(t: Token): Pos {
    return { line: t.line, column: t.column };
  }
  private nest(t: Token): void {
    if (++this.depth > this.maxNesting) {
      throw new QasmParseError(
        `nesting deeper than ${this.maxNesting} levels (limit maxNesting)`,
        t.line,
        t.column,
      );
    }
  }

  program(): Program {
    const statements: Statement[] = [];
    let version: 2 | 3 = 3;
    const first = this.peek();
    if (first.kind === 'id' && first.text === 'OPENQASM') {
      this.next();
      const v = this.peek();
      if (v.kind !== 'num') this.fail(v, "a version number after 'OPENQASM' (2.0 or 3.0)");
      this.next();
      const major = Math.floor(v.value);
      if (major !== 2 && major !== 3) {
        throw new QasmParseError(
          `unsupported OpenQASM version ${v.text}: expected 2.0 or 3 (3.0, 3.1)`,
          v.line,
          v.column,
        );
      }
      version = major;
      this.expect(';', 'after the version header');
      statements.push({ kind: 'version', major, text: v.text, pos: this.pos(first) });
    }
    while (this.peek().kind !== 'eof') statements.push(this.statement());
    return { version, statements };
  }

  private statement(): Statement {
    const t = this.peek();
    if (t.kind !== 'id') {
      return this.fail(
        t,
        'a statement (a declaration, a gate call, barrier, measure, include or gate definition)',
      );
    }
    const pos = this.pos(t);
    switch (t.text) {
      case 'OPENQASM':
        throw new QasmParseError(
          "the 'OPENQASM' version header must be the first statement",
          t.line,
          t.column,
        );
      case 'include': {
        this.next();
        const s = this.peek();
        if (s.kind !== 'str') this.fail(s, "a quoted file name after 'include'");
        this.next();
        this.expect(';', 'after the include file name');
        return { kind: 'include', path: s.text, pos };
      }
      case 'qreg':
      case 'creg': {
        this.next();
        const name = this.ident(`a register name after '${t.text}'`).text;
        this.expect('[', `after the register name (${t.text} ${name}[size];)`);
        const size = this.nonNegInt('for the register size');
        this.expect(']', 'after the register size');
        this.expect(';', 'after the register declaration');
        return { kind: t.text, name, size, pos };
      }
      case 'qubit':
      case 'bit': {
        this.next();
        let size: number | null = null;
        if (this.accept('[')) {
          size = this.nonNegInt(`for the ${t.text} register size`);
          this.expect(']', 'after the register size');
        }
        const name = this.ident(`a register name in the '${t.text}' declaration`).text;
        if (t.text === 'bit' && this.isPunct('=')) {
          const eq = this.peek();
          throw new QasmParseError(
            "initialised bit declarations are not supported: declare the bit, then assign 'c = measure q;'",
            eq.line,
            eq.column,
          );
        }
        this.expect(';', 'after the declaration');
        return { kind: t.text === 'qubit' ? 'qreg' : 'creg', name, size, pos };
      }
      case 'input': {
        this.next();
        const ty = this.peek();
        if (ty.kind !== 'id' || (ty.text !== 'float' && ty.text !== 'angle')) {
          this.fail(ty, "'float' or 'angle' after 'input' (only angle parameters are supported)");
        }
        this.next();
        let bits: number | null = null;
        if (this.accept('[')) {
          bits = this.nonNegInt('for the type width');
          this.expect(']', 'after the type width');
        }
        const name = this.ident('a parameter name in the input declaration').text;
        this.expect(';', 'after the input declaration');
        return { kind: 'input', type: ty.text as 'float' | 'angle', bits, name, pos };
      }
      case 'gate':
      case 'opaque':
        return this.gateDef(t.text);
      case 'barrier':
        return this.barrier();
      case 'measure': {
        this.next();
        const qubit = this.operand('a qubit after measure');
        let target: Operand | null = null;
        if (this.accept('->')) target = this.operand("a bit after '->'");
        this.expect(';', 'after the measurement');
        return { kind: 'measure', qubit, target, pos };
      }
      default:
        break;
    }
    // `c = measure q;` or `c[0] = measure q[0];`
    if (this.isPunct('=', 1) || (this.isPunct('[', 1) && this.isPunct('=', 4))) {
      const target = this.operand('a bit');
      this.expect('=', 'in the measurement assignment');
      const m = this.peek();
      if (m.kind !== 'id' || m.text !== 'measure')
        this.fail(m, "'measure' (only measurement results can be assigned)");
      this.next();
      const qubit = this.operand('a qubit after measure');
      this.expect(';', 'after the measurement');
      return { kind: 'measure', qubit, target, pos };
    }
    if (UNSUPPORTED.has(t.text)) {
      throw new QasmParseError(
        `unsupported statement '${t.text}': this reader accepts declarations, gate calls and definitions, input angles, barrier and measure`,
        t.line,
        t.column,
      );
    }
    return this.gateCall();
  }

  private gateDef(keyword: string): Statement {
    const kw = this.next();
    const pos = this.pos(kw);
    const name = this.ident(`a gate name after '${keyword}'`).text;
    const params: string[] = [];
    if (this.accept('(')) {
      if (!this.isPunct(')')) {
        do params.push(this.ident('a parameter name').text);
        while (this.accept(','));
      }
      this.expect(')', 'after the gate parameters');
    }
    const qubits: string[] = [];
    do qubits.push(this.ident('a qubit argument name').text);
    while (this.accept(','));
    if (keyword === 'opaque') {
      this.expect(';', 'after the opaque gate declaration');
      return { kind: 'opaque', name, params, qubits, pos };
    }
    const open = this.expect('{', 'to start the gate body');
    this.nest(open);
    const body: (GateCall | Barrier)[] = [];
    while (!this.isPunct('}')) {
      const s = this.peek();
      if (s.kind === 'eof') this.fail(s, `'}' to close the body of gate '${name}'`);
      if (s.kind !== 'id') this.fail(s, `a gate call or '}' in the body of gate '${name}'`);
      if (s.text === 'barrier') body.push(this.barrier());
      else if (
        UNSUPPORTED.has(s.text) ||
        s.text === 'measure' ||
        s.text === 'gate' ||
        s.text === 'qubit' ||
        s.text === 'qreg'
      ) {
        throw new QasmParseError(
          `'${s.text}' is not allowed in a gate body: expected gate calls only`,
          s.line,
          s.column,
        );
      } else body.push(this.gateCall());
    }
    this.next();
    this.depth--;
    return { kind: 'gateDef', name, params, qubits, body, pos };
  }

  private barrier(): Barrier {
    const t = this.next();
    const operands: Operand[] = [];
    if (!this.isPunct(';')) {
      do operands.push(this.operand('a qubit or register in the barrier'));
      while (this.accept(','));
    }
    this.expect(';', 'after the barrier');
    return { kind: 'barrier', operands, pos: this.pos(t) };
  }

  private gateCall(): GateCall {
    const t = this.next();
    const pos = this.pos(t);
    const args: Expr[] = [];
    if (this.accept('(')) {
      if (!this.isPunct(')')) {
        do args.push(this.expr());
        while (this.accept(','));
      }
      this.expect(')', `after the arguments of '${t.text}'`);
    }
    const operands: Operand[] = [];
    if (!this.isPunct(';')) {
      do operands.push(this.operand(`a qubit operand for '${t.text}'`));
      while (this.accept(','));
    }
    this.expect(';', `after the '${t.text}' gate call`);
    return { kind: 'gate', name: t.text, args, operands, pos };
  }

  private operand(what: string): Operand {
    const t = this.peek();
    if (t.kind !== 'id') this.fail(t, what);
    this.next();
    if (this.accept('[')) {
      const index = this.nonNegInt('as the index');
      this.expect(']', 'after the index');
      return { name: t.text, index, pos: this.pos(t) };
    }
    return { name: t.text, pos: this.pos(t) };
  }

  /** expr := term (('+' | '-') term)* */
  expr(): Expr {
    const start = this.peek();
    this.nest(start);
    let left = this.term();
    while (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next();
      left = { kind: 'binary', op: op.text as BinaryOp, left, right: this.term(), pos: this.pos(op) };
    }
    this.depth--;
    return left;
  }
  private term(): Expr {
    let left = this.unary();
    while (this.isPunct('*') || this.isPunct('/')) {
      const op = this.next();
      left = { kind: 'binary', op: op.text as BinaryOp, left, right: this.unary(), pos: this.pos(op) };
    }
    return left;
  }
  private unary(): Expr {
    if (this.isPunct('-') || this.isPunct('+')) {
      const op = this.next();
      this.nest(op);
      const arg = this.unary();
      this.depth--;
      return { kind: 'unary', op: op.text as '-' | '+', arg, pos: this.pos(op) };
    }
    return this.power();
  }
  private power(): Expr {
    const base = this.primary();
    if (this.isPunct('^') || this.isPunct('**')) {
      const op = this.next();
      this.nest(op);
      const right = this.unary();
      this.depth--;
      return { kind: 'binary', op: op.text as BinaryOp, left: base, right, pos: this.pos(op) };
    }
    return base;
  }
  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'num') {
      this.next();
      return { kind: 'num', value: t.value, pos: this.pos(t) };
    }
    if (t.kind === 'id') {
      this.next();
      if (this.accept('(')) {
        const args: Expr[] = [];
        if (!this.isPunct(')')) {
          do args.push(this.expr());
          while (this.accept(','));
        }
        this.expect(')', `after the arguments of '${t.text}'`);
        return { kind: 'call', fn: t.text, args, pos: this.pos(t) };
      }
      return { kind: 'id', name: t.text, pos: this.pos(t) };
    }
    if (this.accept('(')) {
      const e = this.expr();
      this.expect(')', 'to close the parenthesis');
      return e;
    }
    return this.fail(t, 'a number, a name, a function call or ( in the expression');
  }
}

/** Parse OpenQASM 2 or 3 text into a syntax tree (no name resolution; see `lowerProgram`). */
export function parseProgram(text: string, limits: ParseLimits = {}): Program {
  return new Parser(tokenize(text), limits).program();
}
