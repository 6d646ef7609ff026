/**
 * The adapters' link to the QASM module: circuits defined by OpenQASM 3 programs (their `input` angles are
 * the trainable θ, docs/method.md §6) and trained circuits written back as OpenQASM 3 with the angles bound.
 */
import type { Circuit } from '../circuit/ir.ts';
import { exportQasm, parseQasm } from '../qasm/index.ts';

/** Parse an adapter circuit from OpenQASM 2/3 text (`QasmParseError` with line and column on bad input). */
export function parseAdapterQasm(text: string, _label: string): Circuit {
  return parseQasm(text);
}

/** The circuit with `theta` bound, as OpenQASM 3 text (no measurements: it is a unitary, not a program run). */
export function exportAdapterQasm(circuit: Circuit, theta: Float64Array): string | null {
  return exportQasm(circuit, { version: 3, bindings: theta });
}
