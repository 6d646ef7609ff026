/**
 * Bridge to the `quantum-circuit` package (the independent second simulator and the source of the hardware
 * SDK exporters). It is loaded lazily: loading prints an antlr4 warning and takes time.
 */
import { createRequire } from 'node:module';
import type QuantumCircuitType from 'quantum-circuit';
import { type Bindings, bindParameters, type Circuit, isRotation } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';

let ctor: typeof QuantumCircuitType | undefined;

/** quantum-circuit's name for each rotation's angle parameter. */
const ANGLE_NAME = { ry: 'theta', rx: 'theta', rz: 'phi' } as const;

/** The quantum-circuit constructor (loaded on first use; its antlr4 INVALID_ALT_NUMBER warning is silenced). */
export function quantumCircuitClass(): typeof QuantumCircuitType {
  if (!ctor) {
    const require = createRequire(import.meta.url);
    const emit = process.emitWarning;
    process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
      if (!String(w).includes('INVALID_ALT_NUMBER'))
        (emit as (...a: unknown[]) => void).call(process, w, ...rest);
    }) as typeof process.emitWarning;
    try {
      ctor = require('quantum-circuit') as typeof QuantumCircuitType;
    } finally {
      process.emitWarning = emit;
    }
  }
  return ctor;
}

/**
 * The circuit as a quantum-circuit object, gate for gate, with all angles bound (quantum-circuit loses
 * symbolic angles on export). One gate per column keeps the order exact.
 */
export function toQuantumCircuit(circuit: Circuit, theta?: Bindings): QuantumCircuitType {
  const bound = circuit.params.length ? bindParameters(circuit, theta ?? []) : circuit;
  if (bound.params.length)
    throw new InputError('every parameter must be bound before converting to quantum-circuit');
  const QC = quantumCircuitClass();
  const qc = new QC(circuit.qubits);
  bound.gates.forEach((g, col) => {
    if (isRotation(g))
      qc.addGate(g.name, col, g.wires[0], { params: { [ANGLE_NAME[g.name]]: g.angle as number } });
    else if (g.wires.length === 1) qc.addGate(g.name, col, g.wires[0]);
    else qc.addGate(g.name, col, [...g.wires]);
  });
  return qc;
}

/** Real and imaginary parts of quantum-circuit's matrix in little-endian (Qiskit) order. */
export function quantumCircuitMatrix(qc: QuantumCircuitType): {
  re: Float64Array;
  im: Float64Array;
  dim: number;
} {
  const m = qc.circuitMatrix('little');
  const dim = m.length;
  const re = new Float64Array(dim * dim);
  const im = new Float64Array(dim * dim);
  m.forEach((row, i) => {
    row.forEach((v, j) => {
      re[i * dim + j] = typeof v === 'number' ? v : v.re;
      im[i * dim + j] = typeof v === 'number' ? 0 : v.im;
    });
  });
  return { re, im, dim };
}
