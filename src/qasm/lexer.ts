/**
 * The OpenQASM lexer: a single pass over the characters that yields identifiers, numbers, strings and
 * punctuation with their line and column, skipping whitespace and `//` / `/* *\/` comments.
 */
import { QasmParseError } from '../errors.ts';

/**
 * Token kinds. `phys` is a physical qubit (`$3`, value 3); `dur` a duration literal (`100ns`, value in the
 * unit, unit in `unit`); `pragma` a `#pragma` line or an `@annotation` line (text: the rest of the line).
 */
export type TokenKind = 'id' | 'num' | 'str' | 'punct' | 'phys' | 'dur' | 'pragma' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for `str`, the contents without quotes). */
  readonly text: string;
  /** For `num`: the value. */
  readonly value: number;
  /** For `num`: written without a fraction or exponent. */
  readonly integer: boolean;
  /** For `dur`: the unit (`ns`, `us`, `µs`, `ms`, `s`, `dt`). */
  readonly unit?: string;
  readonly line: number;
  readonly column: number;
}

const DURATION_UNITS = new Set(['ns', 'us', 'µs', 'ms', 's', 'dt']);
const PUNCT2 = new Set([
  '->',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '<<',
  '>>',
  '++',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
]);
const PUNCT1 = new Set([...';,()[]{}+-*/^=@:<>!%&|~.#']);
const PUNCT_SECOND = new Set([...PUNCT2].map((p) => p.charCodeAt(1)));

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const LETTER = /\p{L}/u;

/** Whether a code point may start an identifier (ASCII letters, `_`, and any Unicode letter such as π or θ). */
function identStart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return isAsciiLetter(c) || (c > 127 && LETTER.test(ch));
}

/** Describe a token for error messages: `'ry'`, `number 3`, `end of file`. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'num':
      return `number ${t.text}`;
    case 'str':
      return `string "${t.text}"`;
    case 'phys':
      return `physical qubit ${t.text}`;
    case 'dur':
      return `duration ${t.text}`;
    case 'pragma':
      return `'${t.text.split(/\s/, 1)[0]}'`;
    default:
      return `'${t.text}'`;
  }
}

/** Split OpenQASM source text into tokens (the last is `eof`). Throws `QasmParseError` on a bad character. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;
  const tok = (kind: TokenKind, text: string, start: number, value = 0, integer = false): void => {
    out.push({ kind, text, value, integer, line, column: start - lineStart + 1 });
  };
  // Only whitespace so far on this line: `@` then starts an annotation, not a modifier's `@`.
  const lineBlank = (at: number): boolean => {
    for (let j = lineStart; j < at; j++) {
      const b = src.charCodeAt(j);
      if (b !== 32 && b !== 9 && b !== 13) return false;
    }
    return true;
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xfeff) {
      i++;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 47) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const startLine = line;
      const startCol = i - lineStart + 1;
      i += 2;
      for (;;) {
        if (i >= n)
          throw new QasmParseError(
            "unterminated block comment: expected '*/' before the end of file",
            startLine,
            startCol,
          );
        const d = src.charCodeAt(i);
        if (d === 42 && src.charCodeAt(i + 1) === 47) {
          i += 2;
          break;
        }
        if (d === 10) {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      continue;
    }
    const start = i;
    if (c === 48 && /[xXbBoO]/.test(src[i + 1] ?? '')) {
      const radix = { x: 16, b: 2, o: 8 }[src[i + 1]!.toLowerCase() as 'x' | 'b' | 'o'];
      i += 2;
      const from = i;
      while (i < n && (/[0-9a-fA-F_]/.test(src[i]!) || false)) i++;
      const digits = src.slice(from, i).replaceAll('_', '');
      const value = digits === '' ? Number.NaN : Number.parseInt(digits, radix);
      if (!Number.isFinite(value) || [...digits].some((d) => Number.parseInt(d, 16) >= radix)) {
        throw new QasmParseError(
          `malformed base-${radix} integer '${src.slice(start, i)}'`,
          line,
          start - lineStart + 1,
        );
      }
      tok('num', src.slice(start, i), start, value, true);
      continue;
    }
    if (c === 36 && isDigit(src.charCodeAt(i + 1))) {
      i++;
      while (i < n && isDigit(src.charCodeAt(i))) i++;
      const text = src.slice(start, i);
      tok('phys', text, start, Number(text.slice(1)), true);
      continue;
    }
    if (c === 35 && src.startsWith('#pragma', i)) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      tok('pragma', src.slice(start, i), start);
      continue;
    }
    if (c === 64 && identStart(src[i + 1] ?? ' ') && lineBlank(i)) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      tok('pragma', src.slice(start, i), start);
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      let integer = true;
      const digits = () => {
        while (
          i < n &&
          (isDigit(src.charCodeAt(i)) || (src.charCodeAt(i) === 95 && isDigit(src.charCodeAt(i + 1))))
        )
          i++;
      };
      digits();
      if (src.charCodeAt(i) === 46) {
        integer = false;
        i++;
        digits();
      }
      const e = src.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = src.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (isDigit(src.charCodeAt(j))) {
          integer = false;
          i = j;
          digits();
        } else {
          throw new QasmParseError(
            `malformed number '${src.slice(start, j + 1)}': expected digits after the exponent`,
            line,
            start - lineStart + 1,
          );
        }
      }
      if (i < n && identStart(src[i]!)) {
        let j = i;
        while (j < n && (identStart(src[j]!) || isDigit(src.charCodeAt(j)))) j++;
        const unit = src.slice(i, j);
        if (DURATION_UNITS.has(unit) || unit === 'im') {
          const text = src.slice(start, i);
          const value = Number(text.includes('_') ? text.replaceAll('_', '') : text);
          if (unit === 'im') {
            throw new QasmParseError(
              `imaginary literal '${text}im': complex numbers are not supported (gate angles are real)`,
              line,
              start - lineStart + 1,
            );
          }
          out.push({
            kind: 'dur',
            text: src.slice(start, j),
            value,
            integer,
            unit,
            line,
            column: start - lineStart + 1,
          });
          i = j;
          continue;
        }
        throw new QasmParseError(
          `malformed number: expected an operator or delimiter after ${src.slice(start, i)}, got '${src[i]}'`,
          line,
          i - lineStart + 1,
        );
      }
      const text = src.slice(start, i);
      tok('num', text, start, Number(text.includes('_') ? text.replaceAll('_', '') : text), integer);
      continue;
    }
    const ascii = c < 128;
    const ch = ascii ? '' : String.fromCodePoint(src.codePointAt(i)!);
    if (ascii ? isAsciiLetter(c) : identStart(ch)) {
      i += ascii ? 1 : ch.length;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (isAsciiLetter(d) || isDigit(d)) {
          i++;
          continue;
        }
        if (d > 127) {
          const dch = String.fromCodePoint(src.codePointAt(i)!);
          if (LETTER.test(dch)) {
            i += dch.length;
            continue;
          }
        }
        break;
      }
      tok('id', src.slice(start, i), start);
      continue;
    }
    if (c === 34 || c === 39) {
      i++;
      while (i < n && src.charCodeAt(i) !== c && src.charCodeAt(i) !== 10) i++;
      if (src.charCodeAt(i) !== c) {
        throw new QasmParseError(
          `unterminated string: expected a closing ${src[start]} on the same line`,
          line,
          start - lineStart + 1,
        );
      }
      i++;
      tok('str', src.slice(start + 1, i - 1), start);
      continue;
    }
    const three = src.slice(i, i + 3);
    if (three === '<<=' || three === '>>=' || three === '**=') {
      i += 3;
      tok('punct', three, start);
      continue;
    }
    const d = src.charCodeAt(i + 1);
    if (d < 128 && PUNCT_SECOND.has(d)) {
      const two = src.slice(i, i + 2);
      if (PUNCT2.has(two)) {
        i += 2;
        tok('punct', two, start);
        continue;
      }
    }
    if (ascii && PUNCT1.has(src[i]!)) {
      i++;
      tok('punct', src[start]!, start);
      continue;
    }
    const cp = src.codePointAt(i)!;
    throw new QasmParseError(
      `unexpected character ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`,
      line,
      start - lineStart + 1,
    );
  }
  out.push({ kind: 'eof', text: '', value: 0, integer: false, line, column: i - lineStart + 1 });
  return out;
}
