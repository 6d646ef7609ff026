/**
 * Target-module patterns matched in linear time. A `targetModules` string comes from untrusted places (an
 * adapter folder's config, `qpeft finetune --targets`), and JavaScript's backtracking `RegExp` takes
 * exponential time on patterns such as `(.?){40}.{40}`. This compiles the regular-expression subset that
 * target patterns use to a Thompson NFA and simulates it, so matching a name of length m against a pattern
 * of s states costs O(m·s) whatever the pattern.
 *
 * Supported: literals, `.`, classes `[a-z_]` / `[^.]`, escapes `\d \w \s \D \W \S` and escaped punctuation,
 * groups `(…)` `(?:…)` `(?<name>…)`, alternation `|`, quantifiers `* + ? {m} {m,} {m,n}` (lazy forms match
 * the same names), anchors `^ $`. Backreferences and lookaround (which no linear-time engine can run) are
 * refused with an `InputError`. Semantics are Python's `re.fullmatch`, which is what PEFT applies to
 * `target_modules`: the whole name must match.
 */
import { describe, InputError } from '../errors.ts';

/** Most NFA states a pattern may compile to (counted repetitions are expanded). */
export const MAX_PATTERN_STATES = 20_000;
const MAX_NESTING = 64;

type CharTest = (c: number) => boolean;
type Node =
  | { k: 'char'; test: CharTest }
  | { k: 'cat'; items: Node[] }
  | { k: 'alt'; options: Node[] }
  | { k: 'rep'; node: Node; min: number; max: number }
  | { k: 'bol' }
  | { k: 'eol' };

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace: CharTest = (c) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly fold: boolean,
  ) {}

  private fail(msg: string): never {
    throw new InputError(
      `targetModules pattern ${describe(this.src)}: ${msg} at offset ${this.i} (supported: literals, ., [classes], \\d \\w \\s, groups, |, * + ? {m,n}, ^ $)`,
    );
  }

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) this.fail(`unbalanced ')'`);
    return n;
  }

  private alt(): Node {
    const options = [this.cat()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.cat());
    }
    return options.length === 1 ? options[0]! : { k: 'alt', options };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      items.push(this.quantified());
    }
    return { k: 'cat', items };
  }

  private quantified(): Node {
    let node = this.atom();
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
      else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(this.src.slice(this.i));
        if (!m) {
          // a '{' that is not a quantifier is a literal, as JavaScript reads it
          return node;
        }
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
        if (max < min) this.fail(`quantifier {${min},${max}} has max < min`);
        this.i += m[0].length - 1;
      } else return node;
      this.i++;
      if (node.k === 'bol' || node.k === 'eol') this.fail('a quantifier after an anchor');
      if (this.src[this.i] === '?') this.i++; // lazy: the same set of full matches
      node = { k: 'rep', node, min, max };
    }
  }

  private atom(): Node {
    const c = this.src[this.i]!;
    this.i++;
    if (c === '(') {
      if (++this.depth > MAX_NESTING) this.fail(`groups nested more than ${MAX_NESTING} deep`);
      if (this.src[this.i] === '?') {
        const rest = this.src.slice(this.i);
        if (rest.startsWith('?:')) this.i += 2;
        else if (/^\?<[A-Za-z_$][\w$]*>/.test(rest)) this.i = this.src.indexOf('>', this.i) + 1;
        else this.fail('lookaround and other (?…) groups are not supported');
      }
      const inner = this.alt();
      if (this.src[this.i] !== ')') this.fail(`missing ')'`);
      this.i++;
      this.depth--;
      return inner;
    }
    if (c === ')') this.fail(`unbalanced ')'`);
    if (c === '*' || c === '+' || c === '?') this.fail(`nothing to repeat before '${c}'`);
    if (c === '^') return { k: 'bol' };
    if (c === '$') return { k: 'eol' };
    if (c === '.') return { k: 'char', test: (x) => x !== 10 && x !== 13 && x !== 0x2028 && x !== 0x2029 };
    if (c === '[') return { k: 'char', test: this.charClass() };
    if (c === '\\') return { k: 'char', test: this.escape(false) };
    return { k: 'char', test: this.literal(c.charCodeAt(0)) };
  }

  private literal(code: number): CharTest {
    if (!this.fold) return (x) => x === code;
    const lo = String.fromCharCode(code).toLowerCase().charCodeAt(0);
    return (x) => String.fromCharCode(x).toLowerCase().charCodeAt(0) === lo;
  }

  /** After a backslash: a class escape, or one escaped character. */
  private escape(inClass: boolean): CharTest {
    const c = this.src[this.i];
    if (c === undefined) this.fail('a trailing backslash');
    this.i++;
    switch (c) {
      case 'd':
        return isDigit;
      case 'D':
        return (x) => !isDigit(x);
      case 'w':
        return isWord;
      case 'W':
        return (x) => !isWord(x);
      case 's':
        return isSpace;
      case 'S':
        return (x) => !isSpace(x);
      case 't':
        return this.literal(9);
      case 'n':
        return this.literal(10);
      case 'r':
        return this.literal(13);
      case 'f':
        return this.literal(12);
      case 'v':
        return this.literal(11);
      case 'x':
      case 'u': {
        const len = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) this.fail(`a bad \\${c} escape`);
        this.i += len;
        return this.literal(Number.parseInt(hex, 16));
      }
      case 'b':
        if (inClass) return this.literal(8);
        this.fail('word boundaries (\\b) are not supported');
        break;
      default:
        break;
    }
    if (/[0-9]/.test(c!)) this.fail('backreferences are not supported');
    if (/[A-Za-z]/.test(c!)) this.fail(`unknown escape \\${c}`);
    return this.literal(c!.charCodeAt(0));
  }

  private charClass(): CharTest {
    const negate = this.src[this.i] === '^';
    if (negate) this.i++;
    const parts: CharTest[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail(`missing ']'`);
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      let lo: CharTest;
      let loCode: number | null;
      if (c === '\\') {
        this.i++;
        const before = this.i;
        lo = this.escape(true);
        const esc = this.src.slice(before, this.i);
        loCode = /^[dDwWsS]$/.test(esc) ? null : singleCode(esc);
      } else {
        this.i++;
        loCode = c!.charCodeAt(0);
        lo = this.literal(loCode);
      }
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        let hiCode: number | null;
        if (this.src[this.i] === '\\') {
          this.i++;
          const before = this.i;
          this.escape(true);
          const esc = this.src.slice(before, this.i);
          hiCode = /^[dDwWsS]$/.test(esc) ? null : singleCode(esc);
        } else {
          hiCode = this.src.charCodeAt(this.i);
          this.i++;
        }
        if (loCode === null || hiCode === null) this.fail('a range with a class escape');
        if (hiCode < loCode) this.fail('a range out of order');
        const [a, b] = [loCode, hiCode];
        parts.push(
          this.fold
            ? (x) => {
                const l = String.fromCharCode(x).toLowerCase().charCodeAt(0);
                const u = String.fromCharCode(x).toUpperCase().charCodeAt(0);
                return (x >= a && x <= b) || (l >= a && l <= b) || (u >= a && u <= b);
              }
            : (x) => x >= a && x <= b,
        );
      } else parts.push(lo);
    }
    return negate ? (x) => !parts.some((p) => p(x)) : (x) => parts.some((p) => p(x));
  }
}

function singleCode(esc: string): number {
  const table: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, v: 11, b: 8 };
  if (esc in table) return table[esc]!;
  if (esc[0] === 'x' || esc[0] === 'u') return Number.parseInt(esc.slice(1), 16);
  return esc.charCodeAt(0);
}

// NFA: CHAR (test, out), SPLIT (out, out2), BOL/EOL (out), MATCH
const CHAR = 0;
const SPLIT = 1;
const BOL = 2;
const EOL = 3;
const MATCH = 4;

interface State {
  kind: number;
  test?: CharTest;
  out: number;
  out2: number;
}

class Compiler {
  readonly states: State[] = [];
  constructor(private readonly src: string) {}

  add(s: State): number {
    if (this.states.length >= MAX_PATTERN_STATES)
      throw new InputError(
        `targetModules pattern ${describe(this.src)} is too large: it expands to more than ${MAX_PATTERN_STATES} states (large counted repetitions {m,n})`,
      );
    this.states.push(s);
    return this.states.length - 1;
  }

  /** The start state of `node`, continuing to `next` once it matched. */
  compile(node: Node, next: number): number {
    switch (node.k) {
      case 'char':
        return this.add({ kind: CHAR, test: node.test, out: next, out2: -1 });
      case 'bol':
        return this.add({ kind: BOL, out: next, out2: -1 });
      case 'eol':
        return this.add({ kind: EOL, out: next, out2: -1 });
      case 'cat': {
        let at = next;
        for (let i = node.items.length - 1; i >= 0; i--) at = this.compile(node.items[i]!, at);
        return at;
      }
      case 'alt': {
        const starts = node.options.map((o) => this.compile(o, next));
        let at = starts.at(-1)!;
        for (let i = starts.length - 2; i >= 0; i--)
          at = this.add({ kind: SPLIT, out: starts[i]!, out2: at });
        return at;
      }
      case 'rep': {
        let at = next;
        if (node.max === Number.POSITIVE_INFINITY) {
          const loop = this.add({ kind: SPLIT, out: -1, out2: next });
          this.states[loop]!.out = this.compile(node.node, loop);
          at = loop;
        } else {
          for (let i = node.min; i < node.max; i++) {
            const body = this.compile(node.node, at);
            at = this.add({ kind: SPLIT, out: body, out2: next });
          }
        }
        for (let i = 0; i < node.min; i++) at = this.compile(node.node, at);
        return at;
      }
    }
  }
}

/** A compiled target pattern: `test(name)` is a full match, in time linear in the name's length. */
export interface TargetPattern {
  readonly source: string;
  /** Number of NFA states (the per-character cost). */
  readonly size: number;
  test(name: string): boolean;
}

/**
 * Compile a target pattern (see the file comment for the subset). `ignoreCase` follows a RegExp's `i` flag.
 * Throws `InputError` naming the construct and its offset for anything outside the subset.
 */
export function compileTargetPattern(source: string, ignoreCase = false): TargetPattern {
  const ast = new Parser(source, ignoreCase).parse();
  const c = new Compiler(source);
  const match = c.add({ kind: MATCH, out: -1, out2: -1 });
  const start = c.compile(ast, match);
  const states = c.states;
  const n = states.length;
  const mark = new Int32Array(n).fill(-1);
  return {
    source,
    size: n,
    test(name: string): boolean {
      let gen = 0;
      mark.fill(-1);
      let cur: number[] = [];
      const stack: number[] = [];
      // epsilon closure of `s` at position `pos` into `list`
      const closure = (s: number, pos: number, list: number[]) => {
        stack.push(s);
        while (stack.length) {
          const t = stack.pop()!;
          if (t < 0 || mark[t] === gen) continue;
          mark[t] = gen;
          const st = states[t]!;
          if (st.kind === SPLIT) {
            stack.push(st.out2, st.out);
          } else if (st.kind === BOL) {
            if (pos === 0) stack.push(st.out);
          } else if (st.kind === EOL) {
            if (pos === name.length) stack.push(st.out);
          } else list.push(t);
        }
      };
      closure(start, 0, cur);
      for (let pos = 0; pos < name.length && cur.length; pos++) {
        const code = name.charCodeAt(pos);
        gen++;
        const next: number[] = [];
        for (const t of cur) {
          const st = states[t]!;
          if (st.kind === CHAR && st.test!(code)) closure(st.out, pos + 1, next);
        }
        cur = next;
      }
      return cur.some((t) => states[t]!.kind === MATCH);
    },
  };
}
