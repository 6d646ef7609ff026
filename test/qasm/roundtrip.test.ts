/** IR → QASM → IR: same gates, same angles (bit for bit), same parameters; matrices agree. */
import { describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  bindParameters,
  cx,
  cz,
  h,
  makeCircuit,
  param,
  rx,
  ry,
  rz,
  simplifiedTwoDesign,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { exportQasm, parseQasm, parseQasmDetailed } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { maxDiff } from './helpers.ts';

const circuits = [
  ['two-design n=4 L=2', simplifiedTwoDesign(4, 2)],
  ['two-design n=1 L=3', simplifiedTwoDesign(1, 3)],
  ['alternating n=5 L=2', alternatingRyCz(5, 2)],
  [
    'every IR gate with a global phase',
    makeCircuit({
      qubits: 3,
      gates: [
        ry(0, param('a', 2, 0.3)),
        rx(1, Math.PI),
        rz(2, -1.1e-9),
        h(0),
        x(1),
        z(2),
        cx(0, 1),
        cz(1, 2),
        swap(0, 2),
        rz(1, param('b', -0.5, -Math.PI / 2)),
      ],
      params: ['a', 'b'],
      globalPhase: 0.75,
    }),
  ],
] as const;

describe('round trip', () => {
  for (const [label, c] of circuits) {
    const theta = uniformAngles(c.params.length, 9);
    for (const version of [2, 3] as const) {
      it(`${label}, bound, OpenQASM ${version}`, () => {
        const bound = bindParameters(c, theta);
        const back = parseQasm(exportQasm(c, { version, bindings: theta }));
        expect(back.gates).toEqual(bound.gates);
        expect(back.params).toEqual([]);
        const want = simulateComplex(bound);
        const got = simulateComplex(version === 2 ? { ...back, globalPhase: bound.globalPhase ?? 0 } : back);
        expect(maxDiff(want, got)).toBeLessThan(1e-12);
      });
    }
    it(`${label}, unbound inputs (OpenQASM 3)`, () => {
      const back = parseQasm(exportQasm(c, { unbound: true }));
      expect(back.gates).toEqual(c.gates);
      expect(back.params).toEqual(c.params);
      expect(back.globalPhase ?? 0).toBe(c.globalPhase ?? 0);
      expect(maxDiff(simulateComplex(c, theta), simulateComplex(back, theta))).toBeLessThan(1e-12);
    });
  }
  it('a partial map binds some parameters and leaves the rest as inputs', () => {
    const c = circuits[3][1];
    const back = parseQasm(exportQasm(c, { unbound: true, bindings: { a: 0.25 } }));
    expect(back.params).toEqual(['b']);
    expect(back.gates[0]).toMatchObject({ angle: 2 * 0.25 + 0.3 });
  });
  it('measure: every qubit into c, in both versions', () => {
    const c = simplifiedTwoDesign(3, 1);
    const theta = uniformAngles(c.params.length, 1);
    for (const version of [2, 3] as const) {
      const r = parseQasmDetailed(exportQasm(c, { version, bindings: theta, measure: true }));
      expect(r.measurements).toEqual([0, 1, 2].map((q) => ({ qubit: q, bit: { register: 'c', index: q } })));
      expect(r.barriers).toBe(1);
    }
  });
  it('exact multiples of π print as pi forms and read back to the same double', () => {
    const c = makeCircuit({
      qubits: 1,
      gates: [ry(0, Math.PI / 2), ry(0, (-3 * Math.PI) / 4), ry(0, Math.PI), ry(0, 0.1)],
    });
    const text = exportQasm(c);
    expect(text).toContain('ry(pi/2) q[0];');
    expect(text).toContain('ry(-3*pi/4) q[0];');
    expect(text).toContain('ry(pi) q[0];');
    expect(parseQasm(text).gates).toEqual(c.gates);
  });
});
