/** Property tests (fast-check): random circuits round trip exactly; random edits only ever throw QasmParseError. */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Circuit,
  cx,
  cz,
  type Gate,
  h,
  makeCircuit,
  param,
  rx,
  ry,
  rz,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { QasmParseError } from '../../src/errors.ts';
import { exportQasm, parseQasm } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { maxDiff } from './helpers.ts';

const PARAMS = ['p0', 'p1', 'p2'];
const finite = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 })
  .map((v) => (v === 0 ? 0 : v));
const nonzero = finite.filter((v) => v !== 0);
const angle = fc.oneof(
  finite,
  fc.constantFrom(Math.PI, -Math.PI / 2, (3 * Math.PI) / 4, 0),
  fc.record({ p: fc.constantFrom(...PARAMS), a: nonzero, b: finite }).map(({ p, a, b }) => param(p, a, b)),
);

const circuitArb = fc.integer({ min: 2, max: 4 }).chain((n) => {
  const wire = fc.integer({ min: 0, max: n - 1 });
  const pair = fc.tuple(wire, wire).filter(([a, b]) => a !== b);
  const gate: fc.Arbitrary<Gate> = fc.oneof(
    fc.tuple(fc.constantFrom(ry, rx, rz), wire, angle).map(([f, w, a]) => f(w, a)),
    fc.tuple(fc.constantFrom(x, z, h), wire).map(([f, w]) => f(w)),
    fc.tuple(fc.constantFrom(cz, cx, swap), pair).map(([f, [a, b]]) => f(a, b)),
  );
  return fc
    .record({
      gates: fc.array(gate, { maxLength: 25 }),
      phase: fc.option(
        fc.double({ min: -3, max: 3, noNaN: true }).filter((v) => v !== 0),
        { nil: undefined },
      ),
    })
    .map(({ gates, phase }) =>
      makeCircuit({
        qubits: n,
        gates,
        params: PARAMS,
        ...(phase !== undefined ? { globalPhase: phase } : {}),
      }),
    );
});

describe('random circuits round trip', () => {
  it('OpenQASM 3 with inputs: same gates, angles (bit for bit), parameters and global phase', () => {
    fc.assert(
      fc.property(circuitArb, (c: Circuit) => {
        const back = parseQasm(exportQasm(c, { unbound: true }));
        expect(back.gates).toEqual(c.gates);
        expect(back.params).toEqual(c.params);
        expect(back.globalPhase).toBe(c.globalPhase);
      }),
      { numRuns: 150 },
    );
  });
  it('a negated subnormal scale keeps a +0 offset (found by the property above: -5e-324·p0)', () => {
    const c = makeCircuit({ qubits: 2, gates: [ry(0, param('p0', -5e-324, 0))], params: PARAMS });
    const back = parseQasm(exportQasm(c, { unbound: true }));
    const g = back.gates[0]!;
    if (g.name !== 'ry') throw new Error(`expected ry, got ${g.name}`);
    const a = g.angle as { scale: number; offset: number };
    expect(a.scale).toBe(-5e-324);
    expect(Object.is(a.offset, 0)).toBe(true);
  });
  it('bound, OpenQASM 2 and 3: same matrices to 1e-12', () => {
    fc.assert(
      fc.property(
        circuitArb,
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (c, theta) => {
          // Keep the matrices well conditioned: only modest angles here.
          const small = makeCircuit({
            ...c,
            gates: c.gates.map((g) =>
              'angle' in g && typeof g.angle === 'number' && Math.abs(g.angle) > 100
                ? { ...g, angle: 0.5 }
                : g,
            ),
            params: PARAMS,
          });
          const ok = small.gates.every(
            (g) => !('angle' in g) || typeof g.angle === 'number' || Math.abs(g.angle.scale) < 100,
          );
          fc.pre(ok);
          const want = simulateComplex(small, theta);
          for (const version of [2, 3] as const) {
            const back = parseQasm(exportQasm(small, { version, bindings: theta }));
            const got = simulateComplex(
              version === 2 ? makeCircuit({ ...back, globalPhase: small.globalPhase ?? 0 }) : back,
            );
            expect(maxDiff(want, got)).toBeLessThan(1e-12);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('random edits of valid programs throw nothing but QasmParseError', () => {
  const root = new URL('../../circuits/', import.meta.url);
  const seeds = [
    readFileSync(new URL('two-design-n4-l2.qasm2', root), 'utf8'),
    readFileSync(new URL('adapters/two-design-4q-2l.qasm', root), 'utf8'),
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput angle[32] a;\nqubit[3] q;\nbit[3] c;\ngate blk(t) x, y { cz x, y; u3(t/2, 0, pi) x; }\n' +
      'blk(2*a + pi/4) q[0], q[1];\nccx q[0], q[1], q[2];\ncry(a) q[2], q[0];\nbarrier q;\nc = measure q;\n',
  ];
  const pool = [
    ';',
    ',',
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    '-',
    '+',
    '*',
    '/',
    '^',
    ' ',
    '\n',
    '"',
    '0',
    '9',
    '1e',
    '.',
    'q',
    'pi',
    'π',
    'input float b;',
    'gate',
    'measure',
    'qubit[2] r;',
    '//',
    '/*',
    '->',
    '=',
    'x q[0];',
    'U(0,0,0) q;',
    'include "x.inc";',
    'ry',
    'OPENQASM 2.0;',
    '$',
    '@',
  ];
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...pool) }),
    fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ kind: fc.constant('char' as const), at: fc.nat(), text: fc.string({ maxLength: 3 }) }),
  );
  it('parse either succeeds or throws QasmParseError (with a line and column inside the text)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (seed, edits) => {
          let text = seed;
          for (const e of edits) {
            const at = e.at % (text.length + 1);
            if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + e.len);
            else if (e.kind === 'dup') text = text.slice(0, at) + text.slice(at, at + e.len) + text.slice(at);
            else text = text.slice(0, at) + e.text + text.slice(at);
          }
          try {
            parseQasm(text);
          } catch (err) {
            if (!(err instanceof QasmParseError)) throw err;
            expect(err.line).toBeGreaterThanOrEqual(1);
            expect(err.line).toBeLessThanOrEqual(text.split('\n').length);
            expect(err.column).toBeGreaterThanOrEqual(1);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
