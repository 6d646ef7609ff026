import { describe, InputError } from '../../errors.ts';
import { MAX_QUBITS } from '../ir.ts';

/** Name of the i-th template parameter. */
export const thetaName = (i: number): string => `theta${i}`;

/** Validate (qubits, layers) for a template, with the template's name in the message. */
export function checkShape(template: string, qubits: number, layers: number): void {
  if (!Number.isInteger(qubits) || qubits < 1 || qubits > MAX_QUBITS) {
    throw new InputError(
      `${template}: qubits must be an integer in 1..${MAX_QUBITS}, got ${describe(qubits)}`,
    );
  }
  if (!Number.isInteger(layers) || layers < 0) {
    throw new InputError(`${template}: layers must be a non-negative integer, got ${describe(layers)}`);
  }
}

/** Wire pairs (w, w+1) starting at `first` (0: even pairs, 1: odd pairs). */
export function pairs(qubits: number, first: 0 | 1): [number, number][] {
  const out: [number, number][] = [];
  for (let w = first; w + 1 < qubits; w += 2) out.push([w, w + 1]);
  return out;
}
