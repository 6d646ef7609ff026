/**
 * The OpenQASM lexer: a single pass over the characters that yields identifiers, numbers, strings and
 * punctuation with their line and column, skipping whitespace and `//` / `/* *\/` comments.
 */
import { QasmParseError } from '../errors.ts';

export type TokenKind = 'id' | 'num' | 'str' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for `str`, the contents without quotes). */
  readonly text: string;
  /** For `num`: the value. */
  readonly value: number;
  /** For `num`: written without a fraction or exponent. */
  readonly integer: boolean;
  readonly line: number;
  readonly column: number;
}

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
]);
const PUNCT1 = new Set([...';,()[]{}+-*/^=@:<>!%&|~.']);
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
