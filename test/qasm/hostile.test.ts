/**
 * Hostile OpenQASM (issue 15, items 3 and 12): long operator chains and include fan-out. Each case asserts
 * the typed error or the right value. The failures these guard against were stack overflows and hours-long
 * runs: a hang is caught by the test timeout, not by a wall-clock assertion (no timed unit tests here).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QasmParseError } from '../../src/errors.ts';
import { parseQasm, parseQasmDetailed } from '../../src/qasm/index.ts';

const V3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit q;\n';
const V2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n';

function typedError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(QasmParseError);
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as Error).message).not.toMatch(/\n/);
}

describe('long expression chains (no stack per term)', () => {
  for (const [label, head] of [
    ['OpenQASM 3', V3],
    ['OpenQASM 2', V2],
  ] as const) {
    it(`${label}: ry(0+0+…) and ry(1*1*…) with 10,000 and 50,000 terms evaluate exactly`, () => {
      for (const n of [10_000, 50_000]) {
        const sum = Array.from({ length: n }, () => '0.001').join('+');
        const c = parseQasm(`${head}ry(${sum}) q[0];\n`.replace('q[0]', head === V3 ? 'q' : 'q[0]'));
        const g = c.gates[0] as { angle: number };
        expect(g.angle).toBeCloseTo(n * 0.001, 6);
        const prod = Array.from({ length: n }, () => '1').join('*');
        const p = parseQasm(`${head}ry(0.5*${prod}) ${head === V3 ? 'q' : 'q[0]'};\n`);
        expect((p.gates[0] as { angle: number }).angle).toBe(0.5);
        const mixed = Array.from({ length: n }, (_, i) => (i % 2 ? '-' : '+')).join('1') + '1';
        // 0 + 1 − 1 + 1 − … over an even number of terms
        const m = parseQasm(`${head}ry(0${mixed}) ${head === V3 ? 'q' : 'q[0]'};\n`);
        expect((m.gates[0] as { angle: number }).angle).toBe(0);
      }
    });
  }
  it('a chain inside a gate body is checked and expanded without recursion', () => {
    const sum = Array.from({ length: 20_000 }, () => 't').join('+');
    const c = parseQasm(`${V3}gate g(t) a { ry(${sum}) a; }\ng(0.0001) q;\n`);
    expect((c.gates[0] as { angle: number }).angle).toBeCloseTo(2, 9);
  });
  it('unary chains, ** chains and nested parentheses stop at the nesting limit with a typed error', () => {
    typedError(() => parseQasm(`${V3}ry(${'-'.repeat(10_000)}1) q;`), /nesting deeper than 64 levels/);
    typedError(
      () => parseQasm(`${V3}ry(${Array(10_000).fill('1').join('**')}) q;`),
      /nesting deeper than 64 levels/,
    );
    typedError(() => parseQasm(`${V3}ry(${'('.repeat(10_000)}1${')'.repeat(10_000)}) q;`), /nesting deeper/);
    typedError(() => parseQasm(`${V3}${'{'.repeat(10_000)}${'}'.repeat(10_000)}`), /nesting deeper/);
  });
  it('loops and powers that would run forever stop at the step limit', () => {
    typedError(() => parseQasm(`${V3}while (true) { }`, { maxSteps: 1_000_000 }), /more than 1000000 steps/);
    typedError(
      () => parseQasm(`${V3}pow(100000000) @ id q;`),
      /larger than the gate limit|more than .* steps/,
    );
    typedError(
      () => parseQasm(`${V3}for int i in [0:1000000000] { }`, { maxSteps: 100_000 }),
      /more than 100000 steps/,
    );
  });
});

describe('include fan-out (20 includes per file, 8 deep)', () => {
  function fanOut(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-fanout-'));
    for (let level = 0; level < 8; level++) {
      const body = Array.from({ length: 20 }, () => `include "l${level + 1}.inc";`).join('\n');
      writeFileSync(path.join(dir, `l${level}.inc`), level === 7 ? '// leaf\n' : `${body}\n`);
    }
    writeFileSync(path.join(dir, 'l8.inc'), '// leaf\n');
    return dir;
  }
  it('stops at the include count limit with a typed error naming the option', () => {
    const dir = fanOut();
    typedError(
      () => parseQasmDetailed(`${V2}include "l0.inc";\n`, { includeDir: dir }),
      /more than 64 include statements in all \(option maxIncludes\)/,
    );
  });
  it('stops at the total included bytes with a typed error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-incbytes-'));
    writeFileSync(path.join(dir, 'big.inc'), `// ${'x'.repeat(50_000)}\n`);
    const text = `${V2}${Array.from({ length: 30 }, () => 'include "big.inc";').join('\n')}\n`;
    typedError(
      () => parseQasmDetailed(text, { includeDir: dir, maxIncludeBytes: 1_000_000 }),
      /included files would total \d+ bytes at "big.inc"; the limit is 1000000 \(option maxIncludeBytes\)/,
    );
  });
});
