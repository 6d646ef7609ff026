/**
 * A recursive-descent parser for OpenQASM 2 and 3: tokens → `SourceProgram`. It checks syntax only; names,
 * types, sizes and gate signatures are checked when the program is lowered (executed at compile time).
 *
 * Expression precedence, lowest first. OpenQASM 3: `||`, `&&`, `|`, `^`, `&`, `== !=`, `< <= > >=`,
 * `<< >>`, `+ -`, `* / %`, unary `- + ! ~`, `**` (right-associative), postfix `[…]`. OpenQASM 2 has only
 * `+ -`, `* /`, unary `-` and `^` for exponentiation. Chains of one level are parsed by a loop, so a
 * 10,000-term sum costs no stack; only parentheses, unary operators and `**` recurse, and each counts
 * against `maxNesting`.
 */
import { QasmParseError } from '../errors.ts';
import type { DefArg, Modifier, Pos, SExpr, SourceProgram, SStmt, TypeSpec } from './ast.ts';
import { describeToken, type Token, tokenize } from './lexer.ts';

/** Features of OpenQASM 3 outside what qpeft simulates, named in the error. */
const REFUSED: Readonly<Record<string, string>> = Object.freeze({
  defcal: "'defcal' (pulse-level calibrations)",
  cal: "'cal' blocks (pulse-level calibrations)",
  defcalgrammar: "'defcalgrammar' (pulse-level calibrations)",
  extern: "'extern' functions (run-time classical code)",
  output: "'output' variables",
  end: "'end' (program termination)",
  readonly: 'array arguments',
  mutable: 'array arguments',
});

/** Said for `cbit`, the classical bit type of pre-release OpenQASM 3 drafts (qe-compiler still writes it). */
export const CBIT = "'cbit' is the bit type of pre-release OpenQASM 3 drafts: expected 'bit' (bit[4] c;)";

const CLASSICAL_TYPES = new Set([
  'int',
  'uint',
  'float',
  'angle',
  'bool',
  'duration',
  'stretch',
  'complex',
  'array',
]);
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '**=']);

const LEVELS3: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
];
const LEVELS2: readonly (readonly string[])[] = [['=='], ['+', '-'], ['*', '/']];

/** Parse options that bound the work done on untrusted text. */
export interface ParseLimits {
  /** Maximum expression / block nesting (default 64). */
  maxNesting?: number;
}

class Parser {
  private p = 0;
  private depth = 0;
  private version: 2 | 3 = 3;
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
  private isId(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'id' && t.text === text;
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
  private refuse(t: Token, what: string): never {
    throw new QasmParseError(
      `unsupported statement '${t.text}': ${what} are not supported; qpeft reads the unitary part of OpenQASM`,
      t.line,
      t.column,
    );
  }

  program(): SourceProgram {
    const statements: SStmt[] = [];
    const first = this.peek();
    if (first.kind === 'id' && first.text === 'OPENQASM') {
      this.next();
      const v = this.peek();
      if (v.kind !== 'num') this.fail(v, "a version number after 'OPENQASM' (2.0 or 3.0)");
      this.next();
      const major = Math.floor(v.value);
      const known = major === 2 ? ['2', '2.0'] : ['3', '3.0', '3.1', '3.2'];
      if ((major !== 2 && major !== 3) || !known.includes(v.text)) {
        throw new QasmParseError(
          `unsupported OpenQASM version ${v.text}: expected 2.0 or 3 (3.0, 3.1, 3.2)`,
          v.line,
          v.column,
        );
      }
      this.version = major;
      this.expect(';', 'after the version header');
      statements.push({ kind: 'version', major, text: v.text, pos: this.pos(first) });
    }
    while (this.peek().kind !== 'eof') statements.push(this.statement());
    return { version: this.version, statements };
  }

  private block(what: string): SStmt[] {
    const open = this.expect('{', `to start ${what}`);
    this.nest(open);
    const body: SStmt[] = [];
    while (!this.isPunct('}')) {
      if (this.peek().kind === 'eof') this.fail(this.peek(), `'}' to close ${what}`);
      body.push(this.statement());
    }
    this.next();
    this.depth--;
    return body;
  }
  /** A braced block, or a single statement (the bodies of `if`, `for` and `while`). */
  private body(what: string): SStmt[] {
    if (this.isPunct('{')) return this.block(what);
    const t = this.peek();
    this.nest(t);
    const s = this.statement();
    this.depth--;
    return [s];
  }

  private typeSpec(): TypeSpec {
    const t = this.next();
    const name = t.text as TypeSpec['name'];
    let size: SExpr | null = null;
    if (name === 'array' || name === 'complex')
      this.refuse(t, name === 'array' ? 'arrays' : 'complex numbers');
    if (this.accept('[')) {
      size = this.expr();
      this.expect(']', 'after the type width');
    }
    return { name, size, pos: this.pos(t) };
  }

  /**
   * After a leading name: an optional `[…]`, a name, then `=` — a declaration with a value, which no gate call
   * can be (used to name `cbit`, the bit type of pre-release drafts, instead of a parse symptom).
   */
  private looksLikeDeclaration(): boolean {
    let k = 1;
    if (this.isPunct('[', k)) {
      let open = 0;
      for (; ; k++) {
        const u = this.peek(k);
        if (u.kind === 'eof') return false;
        if (u.kind === 'punct' && u.text === '[') open++;
        if (u.kind === 'punct' && u.text === ']' && --open === 0) break;
      }
      k++;
    }
    return this.peek(k).kind === 'id' && this.isPunct('=', k + 1);
  }

  private statement(): SStmt {
    const t = this.peek();
    const pos = this.pos(t);
    if (t.kind === 'pragma') {
      this.next();
      return { kind: 'pragma', text: t.text, pos };
    }
    if (t.kind === 'punct' && t.text === '{') return { kind: 'block', body: this.block('the block'), pos };
    if (t.kind !== 'id') {
      return this.fail(
        t,
        'a statement (a declaration, a gate call, barrier, measure, include or gate definition)',
      );
    }
    if (Object.hasOwn(REFUSED, t.text)) this.refuse(t, REFUSED[t.text]!);
    if (t.text === 'cbit' && this.looksLikeDeclaration()) throw new QasmParseError(CBIT, t.line, t.column);
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
        const nameTok = this.ident(`a register name after '${t.text}'`);
        this.expect('[', `after the register name (${t.text} ${nameTok.text}[size];)`);
        const sizeTok = this.peek();
        const size = this.nonNegInt('for the register size');
        this.expect(']', 'after the register size');
        this.expect(';', 'after the register declaration');
        return {
          kind: t.text,
          name: nameTok.text,
          size: { kind: 'num', value: size, integer: true, pos: this.pos(sizeTok) },
          init: null,
          pos,
        };
      }
      case 'qubit':
      case 'bit': {
        this.next();
        if (t.text === 'qubit' && this.peek().kind === 'phys') {
          // `qubit $3;` (older OpenQASM 3): physical qubits need no declaration; it only names one.
          const q = this.next();
          this.expect(';', 'after the declaration');
          return { kind: 'expr', expr: { kind: 'phys', index: q.value, pos: this.pos(q) }, pos };
        }
        let size: SExpr | null = null;
        if (this.accept('[')) {
          size = this.expr();
          this.expect(']', 'after the register size');
        }
        const name = this.ident(`a register name in the '${t.text}' declaration`).text;
        let init: SExpr | null = null;
        if (t.text === 'bit' && this.accept('=')) init = this.expr();
        this.expect(';', 'after the declaration');
        return { kind: t.text === 'qubit' ? 'qreg' : 'creg', name, size, init, pos };
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
        // A default value (`input angle theta = 3.14;`) is what a run without bindings would use; the
        // circuit keeps the parameter symbolic, so the default is read and not used.
        if (this.accept('=')) this.expr();
        this.expect(';', 'after the input declaration');
        return { kind: 'input', type: ty.text as 'float' | 'angle', bits, name, pos };
      }
      case 'const': {
        this.next();
        const ty = this.peek();
        if (ty.kind !== 'id' || !CLASSICAL_TYPES.has(ty.text))
          this.fail(ty, "a classical type after 'const' (int, uint, float, angle, bool, duration)");
        return this.declaration(true, pos);
      }
      case 'gate':
      case 'opaque':
        return this.gateDef(t.text);
      case 'def':
        return this.def();
      case 'return': {
        this.next();
        const value = this.isPunct(';') ? null : this.expr();
        this.expect(';', 'after the return statement');
        return { kind: 'return', value, pos };
      }
      case 'barrier': {
        this.next();
        const operands = this.isPunct(';') ? [] : this.operands('a qubit or register in the barrier');
        this.expect(';', 'after the barrier');
        return { kind: 'barrier', operands, pos };
      }
      case 'measure': {
        this.next();
        const qubit = this.operand('a qubit after measure');
        let target: SExpr | null = null;
        if (this.accept('->')) target = this.operand("a bit after '->'");
        this.expect(';', 'after the measurement');
        return { kind: 'measure', qubit, target, pos };
      }
      case 'reset': {
        this.next();
        const operand = this.operand("a qubit or register after 'reset'");
        this.expect(';', 'after the reset');
        return { kind: 'reset', operand, pos };
      }
      case 'delay': {
        this.next();
        this.expect('[', "after 'delay' (delay[duration] qubits;)");
        const duration = this.expr();
        this.expect(']', 'after the delay duration');
        const operands = this.isPunct(';') ? [] : this.operands('a qubit in the delay');
        this.expect(';', 'after the delay');
        return { kind: 'delay', duration, operands, pos };
      }
      case 'box': {
        this.next();
        let duration: SExpr | null = null;
        if (this.accept('[')) {
          duration = this.expr();
          this.expect(']', 'after the box duration');
        }
        return { kind: 'box', duration, body: this.block("the 'box' body"), pos };
      }
      case 'for': {
        this.next();
        let varType: TypeSpec | null = null;
        if (this.peek(1).kind === 'id' && !this.isId('in', 1)) varType = this.typeSpec();
        const name = this.ident("a loop variable after 'for'").text;
        const kw = this.peek();
        if (!this.isId('in')) this.fail(kw, "'in' after the loop variable");
        this.next();
        let iterable: SExpr;
        if (this.isPunct('[')) {
          const open = this.next();
          iterable = this.rangeOrExpr(open);
          this.expect(']', 'to close the loop range');
        } else iterable = this.primary();
        return { kind: 'for', varType, name, iterable, body: this.body("the 'for' body"), pos };
      }
      case 'let': {
        this.next();
        const name = this.ident("an alias name after 'let'").text;
        this.expect('=', "after the alias name ('let a = q[0:1] ++ r;')");
        const parts = [this.expr()];
        while (this.accept('++')) parts.push(this.expr());
        this.expect(';', 'after the alias');
        return { kind: 'let', name, parts, pos };
      }
      case 'switch': {
        this.next();
        this.expect('(', "after 'switch'");
        const control = this.expr();
        this.expect(')', "after the 'switch' value");
        const open = this.expect('{', "to start the 'switch' body");
        this.nest(open);
        const cases: { labels: SExpr[]; body: SStmt[]; pos: Pos }[] = [];
        while (this.isId('case')) {
          const c = this.next();
          const labels = [this.expr()];
          while (this.accept(',')) labels.push(this.expr());
          if (this.isPunct(':'))
            throw new QasmParseError(
              "expected '{' after the case values, got ':' ('case 1: { … } break;' is a pre-release syntax; OpenQASM 3.1 writes 'case 1 { … }' and does not fall through)",
              this.peek().line,
              this.peek().column,
            );
          cases.push({ labels, body: this.block('the case'), pos: this.pos(c) });
        }
        let dflt: SStmt[] | null = null;
        if (this.isId('default')) {
          this.next();
          dflt = this.block("the 'default' case");
        }
        if (cases.length === 0) this.fail(this.peek(), "at least one 'case' in the 'switch' body");
        this.expect('}', "to close the 'switch' body (after the cases and an optional 'default')");
        this.depth--;
        return { kind: 'switch', control, cases, default: dflt, pos };
      }
      case 'while': {
        this.next();
        this.expect('(', "after 'while'");
        const cond = this.expr();
        this.expect(')', 'after the loop condition');
        return { kind: 'while', cond, body: this.body("the 'while' body"), pos };
      }
      case 'if': {
        this.next();
        this.expect('(', "after 'if'");
        const cond = this.expr();
        this.expect(')', 'after the condition');
        const then = this.body("the 'if' body");
        let otherwise: SStmt[] | null = null;
        if (this.isId('else')) {
          this.next();
          otherwise = this.body("the 'else' body");
        }
        return { kind: 'if', cond, then, else: otherwise, pos };
      }
      case 'break':
      case 'continue':
        this.next();
        this.expect(';', `after '${t.text}'`);
        return { kind: t.text, pos };
      default:
        break;
    }
    if (CLASSICAL_TYPES.has(t.text) && !this.isPunct('(', 1)) return this.declaration(false, pos);
    if (
      ['ctrl', 'negctrl', 'inv', 'pow'].includes(t.text) &&
      (this.isPunct('@', 1) || this.isPunct('(', 1))
    ) {
      return this.gateCall();
    }
    // An assignment: `x = …;`, `x += …;`, `c[0] = measure q[0];`.
    let k = 1;
    if (this.isPunct('[', 1)) {
      let level = 0;
      for (k = 1; ; k++) {
        const u = this.peek(k);
        if (u.kind === 'eof' || (u.kind === 'punct' && u.text === ';')) break;
        if (u.kind === 'punct' && u.text === '[') level++;
        if (u.kind === 'punct' && u.text === ']' && --level === 0) {
          k++;
          break;
        }
      }
    }
    const op = this.peek(k);
    if (op.kind === 'punct' && ASSIGN_OPS.has(op.text)) {
      const target = this.operand('an assignment target');
      this.next();
      const value = this.expr();
      this.expect(';', 'after the assignment');
      return { kind: 'assign', target, op: op.text, value, pos };
    }
    return this.gateCall();
  }

  private declaration(isConst: boolean, pos: Pos): SStmt {
    const type = this.typeSpec();
    const name = this.ident(`a variable name after the type '${type.name}'`).text;
    let init: SExpr | null = null;
    if (this.accept('=')) init = this.expr();
    else if (isConst) this.fail(this.peek(), `'=' and a value for the constant '${name}'`);
    this.expect(';', 'after the declaration');
    return { kind: 'classical', type, name, init, isConst, pos };
  }

  private gateDef(keyword: string): SStmt {
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
    return { kind: 'gateDef', name, params, qubits, body: this.block(`the body of gate '${name}'`), pos };
  }

  private def(): SStmt {
    const kw = this.next();
    const name = this.ident("a subroutine name after 'def'").text;
    this.expect('(', `after the subroutine name '${name}'`);
    const args: DefArg[] = [];
    if (!this.isPunct(')')) {
      do {
        const t = this.peek();
        if (t.kind !== 'id') this.fail(t, 'an argument type (qubit, float, angle, int, uint, bool, bit)');
        if (Object.hasOwn(REFUSED, t.text)) this.refuse(t, REFUSED[t.text]!);
        if (t.text === 'qreg' || t.text === 'creg') {
          // OpenQASM 2 style `qreg q[2]`.
          this.next();
          const n = this.ident('an argument name').text;
          let size: SExpr | null = null;
          if (this.accept('[')) {
            size = this.expr();
            this.expect(']', 'after the argument size');
          }
          args.push({ type: { name: t.text === 'qreg' ? 'qubit' : 'bit', size, pos: this.pos(t) }, name: n });
          continue;
        }
        if (!CLASSICAL_TYPES.has(t.text) && t.text !== 'qubit' && t.text !== 'bit')
          this.fail(t, 'an argument type (qubit, float, angle, int, uint, bool, bit)');
        const type = this.typeSpec();
        args.push({ type, name: this.ident('an argument name').text });
      } while (this.accept(','));
    }
    this.expect(')', 'after the subroutine arguments');
    let returns: TypeSpec | null = null;
    if (this.accept('->')) {
      const t = this.peek();
      if (t.kind !== 'id' || (!CLASSICAL_TYPES.has(t.text) && t.text !== 'bit'))
        this.fail(t, "a classical return type after '->'");
      returns = this.typeSpec();
    }
    return {
      kind: 'def',
      name,
      args,
      returns,
      body: this.block(`the body of subroutine '${name}'`),
      pos: this.pos(kw),
    };
  }

  private gateCall(): SStmt {
    const first = this.peek();
    const modifiers: Modifier[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'id') break;
      const mpos = this.pos(t);
      if ((t.text === 'ctrl' || t.text === 'negctrl') && (this.isPunct('@', 1) || this.isPunct('(', 1))) {
        this.next();
        let count: SExpr | null = null;
        if (this.accept('(')) {
          count = this.expr();
          this.expect(')', `after the number of controls of '${t.text}'`);
        }
        this.expect('@', `after the '${t.text}' modifier`);
        modifiers.push({ kind: t.text, count, pos: mpos });
      } else if (t.text === 'inv' && this.isPunct('@', 1)) {
        this.next();
        this.next();
        modifiers.push({ kind: 'inv', pos: mpos });
      } else if (t.text === 'pow' && this.isPunct('(', 1)) {
        this.next();
        this.next();
        const exponent = this.expr();
        this.expect(')', "after the exponent of 'pow'");
        this.expect('@', "after the 'pow' modifier");
        modifiers.push({ kind: 'pow', exponent, pos: mpos });
      } else break;
    }
    const t = this.ident(modifiers.length ? 'a gate name after the modifiers' : 'a statement');
    const args: SExpr[] = [];
    if (this.accept('(')) {
      if (!this.isPunct(')')) {
        do args.push(this.expr());
        while (this.accept(','));
      }
      this.expect(')', `after the arguments of '${t.text}'`);
    }
    if (this.accept('[')) {
      // A gate duration (`x[100ns] q;`): timing only.
      this.expr();
      this.expect(']', `after the duration of '${t.text}'`);
    }
    const operands = this.isPunct(';') ? [] : this.operands(`a qubit operand for '${t.text}'`);
    this.expect(';', `after the '${t.text}' gate call`);
    return {
      kind: 'call',
      modifiers,
      name: t.text,
      args,
      operands,
      pos: this.pos(modifiers.length ? first : t),
    };
  }

  private operands(what: string): SExpr[] {
    const out: SExpr[] = [];
    do out.push(this.operand(what));
    while (this.accept(','));
    return out;
  }

  /** A qubit or bit operand: `q`, `q[3]`, `q[i+1]`, `q[0:2]`, `q[{0, 2}]`, `$4`. */
  private operand(what: string): SExpr {
    const t = this.peek();
    if (t.kind === 'phys') {
      this.next();
      return { kind: 'phys', index: t.value, pos: this.pos(t) };
    }
    if (t.kind !== 'id') this.fail(t, what);
    this.next();
    let e: SExpr = { kind: 'id', name: t.text, pos: this.pos(t) };
    while (this.isPunct('[')) {
      const open = this.next();
      const index = this.rangeOrExpr(open);
      this.expect(']', 'after the index');
      e = { kind: 'index', base: e, index, pos: this.pos(t) };
    }
    return e;
  }

  /** Inside `[...]`: an index, a range `a:b` / `a:s:b`, or a set `{a, b}`. */
  private rangeOrExpr(open: Token): SExpr {
    if (this.isPunct('{')) return this.setLiteral();
    const start = this.isPunct(':') ? null : this.expr();
    if (!this.accept(':')) return start!;
    const second = this.isPunct(']') ? null : this.expr();
    if (this.accept(':')) {
      const end = this.isPunct(']') ? null : this.expr();
      return { kind: 'range', start, step: second, end, pos: this.pos(open) };
    }
    return { kind: 'range', start, step: null, end: second, pos: this.pos(open) };
  }

  private setLiteral(): SExpr {
    const open = this.expect('{', 'to start a set');
    const items: SExpr[] = [];
    if (!this.isPunct('}')) {
      do items.push(this.expr());
      while (this.accept(','));
    }
    this.expect('}', 'to close the set');
    return { kind: 'set', items, pos: this.pos(open) };
  }

  /** expr := the lowest precedence level. */
  expr(): SExpr {
    const start = this.peek();
    this.nest(start);
    const e = this.binary(0);
    this.depth--;
    return e;
  }

  private binary(level: number): SExpr {
    const levels = this.version === 2 ? LEVELS2 : LEVELS3;
    if (level >= levels.length) return this.unary();
    const ops = levels[level]!;
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct' || !ops.includes(t.text)) return left;
      this.next();
      left = { kind: 'binary', op: t.text, left, right: this.binary(level + 1), pos: this.pos(t) };
    }
  }

  private unary(): SExpr {
    const t = this.peek();
    const ops = this.version === 2 ? ['-', '+'] : ['-', '+', '!', '~'];
    if (t.kind === 'punct' && ops.includes(t.text)) {
      this.next();
      this.nest(t);
      const arg = this.unary();
      this.depth--;
      return { kind: 'unary', op: t.text, arg, pos: this.pos(t) };
    }
    return this.power();
  }

  private power(): SExpr {
    const base = this.postfix();
    const powOp = this.version === 2 ? this.isPunct('^') || this.isPunct('**') : this.isPunct('**');
    if (powOp) {
      const op = this.next();
      this.nest(op);
      const right = this.unary();
      this.depth--;
      return { kind: 'binary', op: '**', left: base, right, pos: this.pos(op) };
    }
    return base;
  }

  private postfix(): SExpr {
    let e = this.primary();
    while (this.isPunct('[')) {
      const open = this.next();
      const index = this.rangeOrExpr(open);
      this.expect(']', 'after the index');
      e = { kind: 'index', base: e, index, pos: e.pos };
    }
    return e;
  }

  primary(): SExpr {
    const t = this.peek();
    const pos = this.pos(t);
    switch (t.kind) {
      case 'num':
        this.next();
        return { kind: 'num', value: t.value, integer: t.integer, pos };
      case 'dur':
        this.next();
        return { kind: 'dur', value: t.value, unit: t.unit!, pos };
      case 'str':
        this.next();
        return { kind: 'str', value: t.text, pos };
      case 'phys':
        this.next();
        return { kind: 'phys', index: t.value, pos };
      case 'id': {
        if (t.text === 'true' || t.text === 'false') {
          this.next();
          return { kind: 'bool', value: t.text === 'true', pos };
        }
        if (t.text === 'durationof' && this.isPunct('(', 1) && this.isPunct('{', 2)) {
          this.next();
          this.next();
          this.block("the 'durationof' block");
          this.expect(')', "to close 'durationof'");
          return { kind: 'dur', value: 0, unit: 'dt', pos };
        }
        if (t.text === 'measure' && this.version === 3) {
          this.next();
          return { kind: 'measure', operand: this.operand('a qubit after measure'), pos };
        }
        if (
          (CLASSICAL_TYPES.has(t.text) || t.text === 'bit') &&
          (this.isPunct('(', 1) || this.isPunct('[', 1))
        ) {
          const type = this.typeSpec();
          this.expect('(', `after the type of the cast to '${type.name}'`);
          const arg = this.expr();
          this.expect(')', 'to close the cast');
          return { kind: 'cast', type, arg, pos };
        }
        this.next();
        if (this.accept('(')) {
          const args: SExpr[] = [];
          if (!this.isPunct(')')) {
            do args.push(this.expr());
            while (this.accept(','));
          }
          this.expect(')', `after the arguments of '${t.text}'`);
          return { kind: 'call', fn: t.text, args, pos };
        }
        return { kind: 'id', name: t.text, pos };
      }
      case 'punct':
        if (t.text === '(') {
          this.next();
          const e = this.expr();
          this.expect(')', 'to close the parenthesis');
          return e;
        }
        if (t.text === '{' && this.version === 3) return this.setLiteral();
        break;
      default:
        break;
    }
    return this.fail(t, 'a number, a name, a function call or ( in the expression');
  }
}

/** Parse OpenQASM 2 or 3 text into a source syntax tree (no name resolution; see `parseQasmDetailed`). */
export function parseProgram(text: string, limits: ParseLimits = {}): SourceProgram {
  return new Parser(tokenize(text), limits).program();
}
