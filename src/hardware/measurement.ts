/**
 * The measured circuits that determine the real columns of a circuit's matrix from counts.
 *
 * Column k of a real circuit U is U|k⟩. Two kinds of setting (n + 1 per column):
 * - `z`: prepare |k⟩ (X gates), apply U, measure every qubit: p(j) = U_jk², the magnitudes;
 * - wire `w`: the same, then RY(−π/2) on wire w before measuring. RY(−π/2) maps the amplitude pair
 *   (a, b) = (U_jk, U_{j⊕2^w,k}) (bit w of j clear) to ((a + b)/√2, (b − a)/√2), so
 *   p(j) − p(j ⊕ 2^w) = 2ab: the sign of every pair of amplitudes that differ in wire w.
 * A state's global sign is unobservable, so the plan carries one reference entry and its sign per column.
 */
import { type Circuit, type Gate, makeCircuit, ry, x } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';

/** A measurement setting: `z` (computational basis) or the wire that gets RY(−π/2) before measurement. */
export type Setting = 'z' | number;

/** The settings of one column, in plan order: `z`, then wires 0 … n−1. */
export function columnSettings(qubits: number): Setting[] {
  return ['z', ...Array.from({ length: qubits }, (_, w) => w)];
}

/** The rotation angle of the basis change before measuring a wire setting. */
export const BASIS_CHANGE_ANGLE = -Math.PI / 2;

/**
 * The measured program of a bound circuit (no free parameters) for column `column` and `setting`:
 * X gates preparing |column⟩, the circuit, and for a wire setting RY(−π/2) on that wire. Measurement of every
 * qubit into classical bit of the same index is implied (the exporter adds it).
 */
export function measurementCircuit(bound: Circuit, column: number, setting: Setting): Circuit {
  const n = bound.qubits;
  if (bound.params.length) {
    throw new InputError(
      `measurementCircuit needs a bound circuit; ${bound.params.length} parameter(s) are free (${bound.params.slice(0, 3).join(', ')})`,
    );
  }
  if (!Number.isInteger(column) || column < 0 || column >= 2 ** n) {
    throw new InputError(`column must be an integer in 0..${2 ** n - 1}, got ${describe(column)}`);
  }
  if (setting !== 'z' && !(Number.isInteger(setting) && setting >= 0 && setting < n)) {
    throw new InputError(`setting must be "z" or a wire in 0..${n - 1}, got ${describe(setting)}`);
  }
  const gates: Gate[] = [];
  for (let w = 0; w < n; w++) if ((column >> w) & 1) gates.push(x(w));
  gates.push(...bound.gates);
  if (setting !== 'z') gates.push(ry(setting, BASIS_CHANGE_ANGLE));
  return makeCircuit({ qubits: n, gates, params: [] });
}

/** The setting as it appears in circuit ids and file names: `z` or `w3`. */
export function settingLabel(setting: Setting): string {
  return setting === 'z' ? 'z' : `w${setting}`;
}
