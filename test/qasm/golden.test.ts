import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { exportQasm, parseQasm } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { columns } from '../../src/sim/simulate.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { maxDiff, qcMatrixOf } from './helpers.ts';

const root = new URL('../../circuits/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');
const circuit = simplifiedTwoDesign(4, 2);
const theta = uniformAngles(circuit.params.length, 0);

describe('golden files (circuits/)', () => {
  it('two-design n=4, L=2, seed 0 angles: OpenQASM 2 byte for byte', () => {
    expect(exportQasm(circuit, { version: 2, bindings: theta })).toBe(read('two-design-n4-l2.qasm2'));
  });
  it('two-design n=4, L=2, seed 0 angles: OpenQASM 3 byte for byte', () => {
    expect(exportQasm(circuit, { version: 3, bindings: theta })).toBe(read('two-design-n4-l2.qasm3'));
  });
  it('the adapter circuit (inputs) byte for byte, and it parses to the template with theta0..15 in order', () => {
    const text = read('adapters/two-design-4q-2l.qasm');
    const comment =
      'Quantum-PEFT adapter circuit: simplified two-design on 4 qubits, 2 layers (a 16-dim factor).\n' +
      'The inputs theta0..theta15 are the trainable angles, in PennyLane SimplifiedTwoDesign order.';
    expect(exportQasm(circuit, { unbound: true, comment })).toBe(text);
    const back = parseQasm(text);
    expect(back.params).toEqual(circuit.params);
    expect(back.gates).toEqual(circuit.gates);
  });
  it('the golden OpenQASM 2 file simulates (quantum-circuit) to the matrix we train with', () => {
    const ours = columns(circuit, theta);
    const qc = qcMatrixOf(read('two-design-n4-l2.qasm2'));
    const asComplex = { rows: 16, cols: 16, re: Float64Array.from(ours.data), im: new Float64Array(256) };
    expect(maxDiff(asComplex, qc)).toBeLessThan(1e-12);
  });
  it('the golden OpenQASM 3 file parses back to the same matrix', () => {
    const ref = simulateComplex(circuit, theta);
    expect(maxDiff(ref, simulateComplex(parseQasm(read('two-design-n4-l2.qasm3'))))).toBeLessThan(1e-12);
  });
  it('hand-checked header and first gates of the OpenQASM 2 file', () => {
    const lines = read('two-design-n4-l2.qasm2').split('\n');
    expect(lines.slice(0, 3)).toEqual(['OPENQASM 2.0;', 'include "qelib1.inc";', 'qreg q[4];']);
    expect(lines[3]).toBe(`ry(${theta[0]}) q[0];`);
    expect(lines[7]).toBe('cz q[0], q[1];');
  });
});
