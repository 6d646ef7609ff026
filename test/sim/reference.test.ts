import { describe, expect, it } from 'vitest';
import { cx, h, makeCircuit, param, rx, ry, rz, x, z } from '../../src/circuit/ir.ts';
import { alternatingRyCz, simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { columns } from '../../src/sim/simulate.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { maxDiff, randomRealCircuit, referenceMatrix } from '../helpers/reference.ts';

describe('agreement with quantum-circuit (circuitMatrix("little")), float64', () => {
  for (let n = 1; n <= 6; n++) {
    it(`random circuits over every real gate, n = ${n}`, () => {
      for (let trial = 0; trial < 2; trial++) {
        const { circuit, theta } = randomRealCircuit(n, 6 + 3 * n, 1000 * n + trial);
        const ref = referenceMatrix(circuit, theta);
        const ours = columns(circuit, theta);
        expect(maxDiff(ours.data, ref.re)).toBeLessThanOrEqual(1e-12);
        expect(Math.max(...ref.im.map(Math.abs))).toBeLessThanOrEqual(1e-12);
      }
    });
  }
  it('templates: two-design and alternating RY/CZ at n = 5', () => {
    for (const c of [simplifiedTwoDesign(5, 2), alternatingRyCz(5, 1)]) {
      const theta = uniformAngles(c.params.length, 7);
      expect(maxDiff(columns(c, theta).data, referenceMatrix(c, theta).re)).toBeLessThanOrEqual(1e-12);
    }
  });
  it('first K columns are the leading columns of the full matrix', () => {
    const c = simplifiedTwoDesign(4, 2);
    const theta = uniformAngles(c.params.length, 3);
    const full = referenceMatrix(c, theta);
    const k = 3;
    const part = columns(c, theta, k);
    const expected = Array.from({ length: 16 * k }, (_, i) => full.re[Math.floor(i / k) * 16 + (i % k)]!);
    expect(maxDiff(part.data, expected)).toBeLessThanOrEqual(1e-12);
  });
  it('complex reference simulator (rx, rz) against quantum-circuit', () => {
    const c = makeCircuit({
      qubits: 3,
      gates: [h(0), rx(1, param('a')), cx(0, 2), rz(2, param('b')), ry(0, 0.4), x(1), z(0), rz(0, -0.7)],
    });
    const theta = [0.9, -1.3];
    const ref = referenceMatrix(c, theta);
    const ours = simulateComplex(c, theta);
    expect(maxDiff(ours.re, ref.re)).toBeLessThanOrEqual(1e-12);
    expect(maxDiff(ours.im, ref.im)).toBeLessThanOrEqual(1e-12);
  });
});

describe('bit order is Qiskit little-endian', () => {
  it('X on wire w maps |0⟩ to basis index 2^w', () => {
    for (const w of [0, 1, 2]) {
      const col = columns(makeCircuit({ qubits: 3, gates: [x(w)] }), undefined, 1).data;
      expect(Array.from(col).indexOf(1)).toBe(2 ** w);
    }
  });
  it('CX(control 0, target 1) maps |01⟩ (index 1) to |11⟩ (index 3)', () => {
    const u = columns(makeCircuit({ qubits: 2, gates: [cx(0, 1)] })).data;
    expect(u[3 * 4 + 1]).toBe(1); // column 1 has its 1 in row 3
    expect(u[2 * 4 + 2]).toBe(1); // |10⟩ (control 0 unset) is unchanged
  });
  it('RY on wire 0 alone is I ⊗ RY (wire 0 varies fastest)', () => {
    const t = 0.8;
    const u = columns(makeCircuit({ qubits: 2, gates: [ry(0, t)] })).data;
    const c = Math.cos(t / 2);
    const s = Math.sin(t / 2);
    // rows/cols 0,1 form the RY block, 2,3 a second copy
    expect(maxDiff(u, [c, -s, 0, 0, s, c, 0, 0, 0, 0, c, -s, 0, 0, s, c])).toBeLessThanOrEqual(1e-15);
  });
});
