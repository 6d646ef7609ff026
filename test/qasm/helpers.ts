/** Shared helpers for the QASM tests: matrix comparison, CLI capture, quantum-circuit matrices. */

import type QuantumCircuit from 'quantum-circuit';
import { main } from '../../src/cli/main.ts';
import { quantumCircuitClass, quantumCircuitMatrix } from '../../src/interop/quantum-circuit.ts';
import type { ComplexMatrix } from '../../src/sim/complex.ts';

/** Largest entry-wise |A − B| of two complex matrices (no phase freedom). */
export function maxDiff(a: ComplexMatrix, b: { re: ArrayLike<number>; im: ArrayLike<number> }): number {
  let m = 0;
  for (let i = 0; i < a.re.length; i++) m = Math.max(m, Math.hypot(a.re[i]! - b.re[i]!, a.im[i]! - b.im[i]!));
  return m;
}

/** A quantum-circuit instance holding an OpenQASM 2 program; its import errors are thrown, not dropped. */
export function qcImport(qasm2: string): QuantumCircuit {
  const QC = quantumCircuitClass();
  const qc = new QC();
  let errors: unknown[] = [];
  qc.importQASM(qasm2, (e) => {
    errors = e;
  });
  if (errors.length) throw new Error(`quantum-circuit could not import: ${JSON.stringify(errors)}`);
  return qc;
}

/** quantum-circuit's matrix (little-endian) of an OpenQASM 2 program it imports. */
export function qcMatrixOf(qasm2: string): ComplexMatrix {
  const m = quantumCircuitMatrix(qcImport(qasm2));
  return { rows: m.dim, cols: m.dim, re: m.re, im: m.im };
}

/** Run the CLI in-process and capture its output. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += t.endsWith('\n') ? t : `${t}\n`;
    },
    err: (t) => {
      err += t.endsWith('\n') ? t : `${t}\n`;
    },
  });
  return { code, out, err };
}
