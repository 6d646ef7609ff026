/** SDK code through quantum-circuit: each output carries the bound angles, gate for gate. */
import { describe, expect, it } from 'vitest';
import { cz, makeCircuit, param, rx, ry, rz } from '../../src/circuit/index.ts';
import { ParameterError } from '../../src/errors.ts';
import { exportSdk, SDK_TARGETS } from '../../src/qasm/index.ts';

const c = makeCircuit({
  qubits: 2,
  gates: [ry(0, param('a')), cz(0, 1), rx(1, param('b', 2, 0)), rz(0, param('a', -1, 0.5))],
  params: ['a', 'b'],
});
const theta = [0.123456789012345, -1.0987654321];
const angles = [theta[0]!, 2 * theta[1]!, -theta[0]! + 0.5];

describe('exportSdk', () => {
  for (const target of SDK_TARGETS) {
    it(`${target}: every bound angle appears, in gate order`, () => {
      const text = exportSdk(c, target, theta);
      let from = 0;
      for (const a of angles) {
        const at = text.indexOf(String(a), from);
        expect(at, `${target} should contain ${a} after offset ${from}`).toBeGreaterThanOrEqual(0);
        from = at + 1;
      }
    });
  }
  it('Qiskit and Quil name the gates as expected', () => {
    expect(exportSdk(c, 'qiskit', theta)).toContain(`qc.rz(${angles[2]}, q[0])`);
    expect(exportSdk(c, 'quil', theta)).toContain(`RX (${angles[1]}) 1`);
  });
  it('refuses unbound parameters', () => {
    expect(() => exportSdk(c, 'qiskit')).toThrow(ParameterError);
  });
});
