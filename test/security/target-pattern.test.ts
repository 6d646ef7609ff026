/**
 * The linear-time target matcher (issue 15, item 2) against JavaScript's own RegExp as the independent
 * reference: on random patterns of the supported subset (kept small, so the backtracking reference is
 * fast), `compileTargetPattern(p).test(s)` equals `new RegExp('^(?:' + p + ')$').test(s)`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { compileTargetPattern } from '../../src/peft/target-pattern.ts';
import { expectRefusal } from './helpers.ts';

const ALPHABET = ['a', 'b', '.', '_', '0', 'q'];

/** Random patterns of the subset (no nested unbounded repetition of long bodies: the reference backtracks). */
const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'q', '0', '_', '\\.', '.', '\\d', '\\w', '[ab]', '[^a]', '[0-9_]', '[a-q]'),
    tie('p').map((p) => `(${p})`),
    tie('p').map((p) => `(?:${p})`),
  ),
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('atom'),
    fc
      .tuple(tie('atom'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,}', '*?'))
      .map(([a, q]) => `${a}${q}`),
    fc.tuple(tie('p'), tie('p')).map(([a, b]) => `${a}${b}`),
    fc.tuple(tie('p'), tie('p')).map(([a, b]) => `${a}|${b}`),
  ),
})).p;

const name = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 10 }).map((cs) => cs.join(''));

describe('compileTargetPattern', () => {
  it('agrees with RegExp full matching on random patterns and names', () => {
    fc.assert(
      fc.property(pattern, fc.array(name, { minLength: 1, maxLength: 8 }), (p, names) => {
        const ref = new RegExp(`^(?:${p})$`);
        const ours = compileTargetPattern(p);
        for (const s of names) expect(ours.test(s), `${p} on ${JSON.stringify(s)}`).toBe(ref.test(s));
      }),
      { numRuns: 500, seed: 15 },
    );
  });

  it('fixed cases: suffix patterns, anchors, case folding, full-match alternation', () => {
    const cases: [string, string, boolean][] = [
      ['.*\\.(query|value)', 'blocks.0.attn.query', true],
      ['.*\\.(query|value)', 'blocks.0.attn.key', false],
      ['^layers\\.\\d+\\.q$', 'layers.12.q', true],
      ['a|ab', 'ab', true], // RegExp.exec finds "a" first; full-match semantics (PEFT's re.fullmatch) accepts
      ['x{2,3}', 'xxxx', false],
      ['[\\w.]+', 'a.b_c', true],
    ];
    for (const [p, s, want] of cases) expect(compileTargetPattern(p).test(s), `${p} ${s}`).toBe(want);
    expect(compileTargetPattern('QUERY', true).test('query')).toBe(true);
  });

  it('the ReDoS shapes run in linear time: (.?){40}.{40}, (a+)+b, (a|a)*b on 10,000 characters', () => {
    const long = 'a'.repeat(10_000);
    for (const p of ['(.?){40}.{40}', '(a+)+b', '(a|a)*b', '(a*)*$b']) {
      const m = compileTargetPattern(p);
      expect(m.size).toBeLessThan(1000);
      expect(m.test(long)).toBe(false);
    }
  });

  it('refuses what it cannot run in linear time, and malformed patterns, with the offset', () => {
    for (const [p, re] of [
      ['(a)\\1', /backreferences are not supported at offset 5/],
      ['(?=a)', /lookaround/],
      ['(?<!a)b', /lookaround/],
      ['\\bq', /word boundaries/],
      ['(a', /missing '\)'/],
      ['a)', /unbalanced '\)'/],
      ['*a', /nothing to repeat/],
      ['[a', /missing '\]'/],
      ['x{5,2}', /max < min/],
      ['(x{999}){999}', /too large/],
      [`${'('.repeat(100)}a${')'.repeat(100)}`, /nested more than 64 deep/],
    ] as const) {
      expectRefusal(() => compileTargetPattern(p), InputError, re);
    }
  });
});
