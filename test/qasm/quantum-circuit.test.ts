/**
 * Independent reader: quantum-circuit (its own QASM 2 importer and gate matrices) against our parser's
 * exact lowering (global phase included) and against our exporter's output.
 */
import { describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  cx,
  cz,
  h,
  makeCircuit,
  rx,
  ry,
  rz,
  simplifiedTwoDesign,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { exportQasm, parseQasm } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';
import { maxDiff, qcMatrixOf } from './helpers.ts';

const rng = createRng(7);
const ang = () => (-Math.PI + 2 * Math.PI * rng.next()).toString();

/** Gates that quantum-circuit defines, with their parameter and qubit counts. */
const GATES: [string, number, number][] = [
  ['id', 0, 1],
  ['x', 0, 1],
  ['y', 0, 1],
  ['z', 0, 1],
  ['h', 0, 1],
  ['s', 0, 1],
  ['sdg', 0, 1],
  ['t', 0, 1],
  ['tdg', 0, 1],
  ['sx', 0, 1],
  ['rx', 1, 1],
  ['ry', 1, 1],
  ['rz', 1, 1],
  ['u1', 1, 1],
  ['u2', 2, 1],
  ['u3', 3, 1],
  ['cx', 0, 2],
  ['cy', 0, 2],
  ['cz', 0, 2],
  ['ch', 0, 2],
  ['swap', 0, 2],
  ['crx', 1, 2],
  ['cry', 1, 2],
  ['crz', 1, 2],
  ['cu1', 1, 2],
  ['cu3', 3, 2],
  ['ccx', 0, 3],
  ['cswap', 0, 3],
];

describe("our lowering of each standard gate equals quantum-circuit's matrix exactly (global phase included)", () => {
  for (const [name, np, nq] of GATES) {
    it(name, () => {
      const args = np ? `(${Array.from({ length: np }, ang).join(', ')})` : '';
      // Wires in a non-trivial order (2, 0, 1) to pin control/target roles; h on every qubit first so that
      // quantum-circuit keeps all three.
      const wires = [2, 0, 1]
        .slice(0, nq)
        .map((w) => `q[${w}]`)
        .join(', ');
      const text = `OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nh q[0];\nh q[1];\nh q[2];\n${name}${args} ${wires};\n`;
      expect(maxDiff(simulateComplex(parseQasm(text)), qcMatrixOf(text))).toBeLessThan(1e-12);
    });
  }
});

describe('our OpenQASM 2 output, imported by quantum-circuit, equals our matrix', () => {
  const cases = [
    ['two-design n=4 L=2', simplifiedTwoDesign(4, 2)],
    ['alternating n=3 L=2', alternatingRyCz(3, 2)],
  ] as const;
  for (const [label, c] of cases) {
    for (const basis of ['native', 'u-cx'] as const) {
      it(`${label}, basis ${basis}`, () => {
        const theta = uniformAngles(c.params.length, 11);
        const text = exportQasm(c, { version: 2, basis, bindings: theta });
        const ours = simulateComplex(c, theta);
        const theirs = qcMatrixOf(text);
        expect(maxDiff(ours, theirs)).toBeLessThan(1e-12);
      });
    }
  }
  it('every IR gate (rx, rz, h, x, z, cx, swap) in the native and u-cx bases (u-cx up to the rz phases)', () => {
    const c = makeCircuit({
      qubits: 3,
      gates: [
        ry(0, 0.3),
        rx(1, -1.2),
        rz(2, 2.2),
        h(0),
        x(1),
        z(2),
        cx(2, 0),
        cz(0, 1),
        swap(1, 2),
        rz(0, 0.4),
      ],
    });
    const ours = simulateComplex(c);
    expect(maxDiff(ours, qcMatrixOf(exportQasm(c, { version: 2 })))).toBeLessThan(1e-12);
    // u3(0, 0, λ) = e^{iλ/2}·rz(λ): the u-cx program carries e^{i(2.2 + 0.4)/2} more than the IR.
    const phase = (2.2 + 0.4) / 2;
    const uc = qcMatrixOf(exportQasm(c, { version: 2, basis: 'u-cx' }));
    const rotated = {
      ...ours,
      re: ours.re.map((r, i) => Math.cos(phase) * r - Math.sin(phase) * ours.im[i]!),
      im: ours.im.map((m, i) => Math.sin(phase) * ours.re[i]! + Math.cos(phase) * m),
    };
    expect(maxDiff(rotated, uc)).toBeLessThan(1e-12);
  });
});
