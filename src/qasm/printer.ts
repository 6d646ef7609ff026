/**
 * The OpenQASM printer: `Program` AST → text, in OpenQASM 2 or 3 syntax (`qreg`/`qubit[n]`,
 * `measure q -> c`/`c = measure q`). Numbers print in the shortest form that parses back to the same
 * double; exact small multiples of π print as `pi/2`, `3*pi/4`, ….
 */
import type { Expr, Operand, Program, Statement } from './ast.ts';

const PI_DENOMINATORS = [1, 2, 3, 4, 6, 8, 12, 16];

/**
 * A number as OpenQASM text that reads back as the same double: `k*pi/d` when `x` is exactly that
 * (|k| ≤ 16, d ∈ {1,2,3,4,6,8,12,16}, evaluated left to right as the parser does), otherwise the shortest
 * round-trip decimal, with a `.0` before any exponent (OpenQASM 2 reals need a decimal point) and no `+`
 * in it (some readers split `1.0e+21` at the `+`).
 */
export function formatNumber(x: number): string {
  if (Object.is(x, -0)) return '0';
  if (x !== 0 && Number.isFinite(x)) {
    for (const d of PI_DENOMINATORS) {
      const k = Math.round((x * d) / Math.PI);
      if (k === 0 || Math.abs(k) > 16) continue;
      if (gcd(Math.abs(k), d) !== 1) continue;
      const kpi = k === 1 ? Math.PI : k === -1 ? -Math.PI : k * Math.PI;
      if ((d === 1 ? kpi : kpi / d) !== x) continue;
      const num = k === 1 ? 'pi' : k === -1 ? '-pi' : `${k}*pi`;
      return d === 1 ? num : `${num}/${d}`;
    }
  }
  const s = String(x).replace('e+', 'e');
  const e = s.indexOf('e');
  if (e >= 0 && !s.slice(0, e).includes('.')) return `${s.slice(0, e)}.0${s.slice(e)}`;
  return s;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Precedence of printed forms: 1 additive, 2 multiplicative, 3 unary, 4 power, 5 primary. */
function numberPrec(text: string): number {
  if (text.includes('*') || text.includes('/')) return 2;
  return text.startsWith('-') ? 3 : 5;
}
const BINARY_PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '^': 4, '**': 4 };

function printExprPrec(e: Expr): [string, number] {
  switch (e.kind) {
    case 'num': {
      const t = formatNumber(e.value);
      return [t, numberPrec(t)];
    }
    case 'id':
      return [e.name, 5];
    case 'call':
      return [`${e.fn}(${e.args.map(printExpr).join(', ')})`, 5];
    case 'unary': {
      const [a, p] = printExprPrec(e.arg);
      return [`${e.op}${p < 3 || a.startsWith('-') || a.startsWith('+') ? `(${a})` : a}`, 3];
    }
    case 'binary': {
      const prec = BINARY_PREC[e.op]!;
      const [l, lp] = printExprPrec(e.left);
      const [r, rp] = printExprPrec(e.right);
      const power = prec === 4;
      // A π-fraction operand (`pi/2`) is always parenthesised: some readers (qasm-ts 2.1) parse
      // `-b - pi/2` as `(-b - pi)/2`.
      const piForm = (x: Expr, text: string) =>
        x.kind === 'num' && (text.includes('*') || text.includes('/'));
      const lwrap = power ? lp <= 4 : lp < prec || piForm(e.left, l);
      const rwrap = power ? rp < 3 : rp <= prec || piForm(e.right, r);
      const sep = prec === 1 ? ` ${e.op} ` : e.op;
      return [`${lwrap ? `(${l})` : l}${sep}${rwrap ? `(${r})` : r}`, prec];
    }
  }
}

/** An expression as text with the fewest parentheses that keep its tree. */
export function printExpr(e: Expr): string {
  return printExprPrec(e)[0];
}

const operand = (o: Operand) => (o.index === undefined ? o.name : `${o.name}[${o.index}]`);

function statement(s: Statement, version: 2 | 3, indent = ''): string {
  switch (s.kind) {
    case 'version':
      return `OPENQASM ${s.text};`;
    case 'include':
      return `include "${s.path}";`;
    case 'qreg':
    case 'creg': {
      if (version === 2) return `${s.kind} ${s.name}[${s.size ?? 1}];`;
      const ty = s.kind === 'qreg' ? 'qubit' : 'bit';
      return s.size === null ? `${ty} ${s.name};` : `${ty}[${s.size}] ${s.name};`;
    }
    case 'input':
      return `input ${s.type}${s.bits === null ? '' : `[${s.bits}]`} ${s.name};`;
    case 'gate': {
      const args = s.args.length ? `(${s.args.map(printExpr).join(', ')})` : '';
      const ops = s.operands.length ? ` ${s.operands.map(operand).join(', ')}` : '';
      return `${indent}${s.name}${args}${ops};`;
    }
    case 'barrier':
      return `${indent}barrier${s.operands.length ? ` ${s.operands.map(operand).join(', ')}` : ''};`;
    case 'measure':
      if (version === 2 || s.target === null) {
        return `measure ${operand(s.qubit)}${s.target ? ` -> ${operand(s.target)}` : ''};`;
      }
      return `${operand(s.target)} = measure ${operand(s.qubit)};`;
    case 'gateDef': {
      const params = s.params.length ? `(${s.params.join(', ')})` : '';
      const body = s.body.map((b) => statement(b, version, '  ')).join('\n');
      return `gate ${s.name}${params} ${s.qubits.join(', ')} {\n${body}${body ? '\n' : ''}}`;
    }
    case 'opaque':
      return `opaque ${s.name}${s.params.length ? `(${s.params.join(', ')})` : ''} ${s.qubits.join(', ')};`;
    case 'comment':
      return s.text
        .split('\n')
        .map((l) => `// ${l}`.trimEnd())
        .join('\n');
  }
}

/** Print a program; one statement per line, ending with a newline. */
export function printProgram(program: Program): string {
  return `${program.statements.map((s) => statement(s, program.version)).join('\n')}\n`;
}
