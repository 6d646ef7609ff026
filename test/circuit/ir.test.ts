import { describe, expect, it } from 'vitest';
import { basisIndex, wireBit } from '../../src/circuit/bit-order.ts';
import {
  bindParameters,
  type Circuit,
  cx,
  cz,
  gateStats,
  makeCircuit,
  param,
  paramVector,
  ry,
  rz,
  validateCircuit,
} from '../../src/circuit/ir.ts';
import { CircuitError, ParameterError } from '../../src/errors.ts';

describe('validation gives typed errors that say what was expected and given', () => {
  it('wire out of range', () => {
    expect(() => makeCircuit({ qubits: 2, gates: [ry(2, 0.1)] })).toThrow(CircuitError);
    expect(() => makeCircuit({ qubits: 2, gates: [ry(2, 0.1)] })).toThrow(
      /gate 0 \("ry"\): wire 2 is out of range 0\.\.1/,
    );
    expect(() => makeCircuit({ qubits: 2, gates: [cz(0, -1)] })).toThrow(/wire -1 is out of range/);
    expect(() => makeCircuit({ qubits: 2, gates: [ry(0.5, 0.1)] })).toThrow(/wire 0\.5 is out of range/);
  });
  it('two-qubit gate on one wire', () => {
    expect(() => makeCircuit({ qubits: 3, gates: [cx(1, 1)] })).toThrow(
      /two-qubit gate needs two different wires, got 1 twice/,
    );
  });
  it('non-finite angles', () => {
    expect(() => makeCircuit({ qubits: 1, gates: [ry(0, Number.NaN)] })).toThrow(
      /angle must be finite, got NaN/,
    );
    expect(() => makeCircuit({ qubits: 1, gates: [ry(0, Number.POSITIVE_INFINITY)] })).toThrow(CircuitError);
    expect(() => makeCircuit({ qubits: 1, gates: [ry(0, param('a', Number.NaN))] })).toThrow(
      /scale and offset must be finite/,
    );
  });
  it('unknown parameter names and duplicates', () => {
    expect(() => makeCircuit({ qubits: 1, gates: [ry(0, param('a'))], params: ['b'] })).toThrow(
      ParameterError,
    );
    expect(() => makeCircuit({ qubits: 1, gates: [ry(0, param('a'))], params: ['b'] })).toThrow(
      /unknown parameter "a"; declared: b/,
    );
    expect(() => makeCircuit({ qubits: 1, gates: [], params: ['a', 'a'] })).toThrow(/declared twice/);
    expect(() => makeCircuit({ qubits: 1, gates: [], params: ['1x'] })).toThrow(/must be identifiers/);
  });
  it('qubit counts', () => {
    expect(() => makeCircuit({ qubits: 0, gates: [] })).toThrow(
      /qubits must be an integer in 1\.\.30, got 0/,
    );
    expect(() => makeCircuit({ qubits: 31, gates: [] })).toThrow(CircuitError);
  });
  it('unknown gates and malformed gates from untyped input', () => {
    const bad = { qubits: 1, gates: [{ name: 'foo', wires: [0] }], params: [] } as unknown as Circuit;
    expect(() => validateCircuit(bad)).toThrow(/unknown gate; expected one of ry, rx, rz/);
    const noAngle = {
      qubits: 1,
      gates: [{ name: 'x', wires: [0], angle: 1 }],
      params: [],
    } as unknown as Circuit;
    expect(() => validateCircuit(noAngle)).toThrow(/takes no angle/);
    const arity = { qubits: 2, gates: [{ name: 'cz', wires: [0] }], params: [] } as unknown as Circuit;
    expect(() => validateCircuit(arity)).toThrow(/expected 2 wire\(s\)/);
  });
});

describe('parameters and binding', () => {
  const c = makeCircuit({
    qubits: 2,
    gates: [ry(0, param('a', 2, 0.5)), cz(0, 1), ry(1, param('b')), rz(1, param('a'))],
  });
  it('order of first use when params are not given', () => {
    expect(c.params).toEqual(['a', 'b']);
  });
  it('binds vectors and maps to scale·θ + offset', () => {
    const b = bindParameters(c, [1, 3]);
    expect(b.params).toEqual([]);
    expect(b.gates.map((g) => ('angle' in g ? g.angle : null))).toEqual([2.5, null, 3, 1]);
    expect(bindParameters(c, { b: 3, a: 1 }).gates).toEqual(b.gates);
  });
  it('partial binding keeps the rest symbolic in order', () => {
    const p = bindParameters(c, { b: 3 }, { partial: true });
    expect(p.params).toEqual(['a']);
    expect(p.gates[2]).toEqual(ry(1, 3));
  });
  it('missing bindings, wrong counts, unknown names, non-finite values', () => {
    expect(() => bindParameters(c, { a: 1 })).toThrow(/missing binding for parameter "b"/);
    expect(() => paramVector(c, [1])).toThrow(/expected 2 parameter values \(in order a, b\), got 1/);
    expect(() => paramVector(c, { a: 1, b: 2, c: 3 })).toThrow(/unknown parameter "c"/);
    expect(() => paramVector(c, [1, Number.NaN])).toThrow(/parameter "b" must be finite, got NaN/);
  });
  it('gate statistics', () => {
    const s = gateStats(c);
    expect(s.counts).toEqual({ ry: 2, cz: 1, rz: 1 });
    expect(s.twoQubit).toBe(1);
    expect(s.depth).toBe(4); // ry(0) | cz(0,1) | ry(1) | rz(1) on wire 1: 1 + 1 + 1 + 1
  });
});

describe('bit order helpers (Qiskit: wire 0 is the least significant bit)', () => {
  it('index ↔ bits', () => {
    expect(basisIndex([1, 0, 0])).toBe(1);
    expect(basisIndex([0, 0, 1])).toBe(4);
    expect(wireBit(6, 0)).toBe(0);
    expect(wireBit(6, 2)).toBe(1);
  });
});
