/**
 * A factor of any width as a standalone object for the CLI and notebooks: its plan, its one circuit on
 * ⌈log₂d⌉ qubits, the row map, and the d×K matrix with its orthogonality error (`qpeft unitary --width`,
 * `qpeft qasm --width`).
 */
import type { Circuit } from '../circuit/ir.ts';
import type { TemplateName } from '../circuit/templates/index.ts';
import { describe, InputError } from '../errors.ts';
import { type Matrix, orthogonalityError, toRows } from '../util/matrix.ts';
import {
  type FactorForm,
  type FactorPlan,
  factorCircuit,
  factorMatrix,
  planFactor,
  resolveFactorForm,
} from './factor.ts';

/** A template factor of width d: its plan, θ length, resolved form, and its one circuit with the row map. */
export interface WidthFactor {
  readonly width: number;
  readonly layers: number;
  readonly template: TemplateName;
  readonly form: 'power-of-two' | 'mixed-radix' | 'direct-sum';
  readonly plan: FactorPlan;
  readonly count: number;
  readonly circuit: Circuit;
  readonly rowBasis: Int32Array;
}

/** Build the factor of width `width` (≥ 2) with `layers` layers in the requested form (default `auto`). */
export function widthFactor(
  width: number,
  layers: number,
  options: { template?: TemplateName; form?: FactorForm } = {},
): WidthFactor {
  if (!Number.isInteger(width) || width < 2) {
    throw new InputError(
      `width must be an integer ≥ 2 (a 1-wide factor has no circuit), got ${describe(width)}`,
    );
  }
  const template = options.template ?? 'simplified-two-design';
  const form = options.form ?? 'auto';
  const resolved = resolveFactorForm(width, template, layers, form);
  const { plan, count } = planFactor(width, { template, layers, form });
  const { circuit, rowBasis } = factorCircuit(plan);
  return { width, layers, template, form: resolved, plan, count, circuit, rowBasis };
}

/** What `qpeft unitary --width D --json` prints. */
export interface WidthFactorReport {
  readonly width: number;
  readonly layers: number;
  readonly template: TemplateName;
  readonly form: WidthFactor['form'];
  readonly qubits: number;
  readonly columns: number;
  readonly parameters: number;
  readonly bitOrder: 'little';
  readonly angles: number[];
  /** The register basis state (little-endian index) of each of the D rows. */
  readonly rowBasis: number[];
  readonly orthogonalityError: number;
  /** D×K, row-major rows. */
  readonly matrix: number[][];
}

/** The factor's first K columns (float64) for angles θ, with everything needed to reproduce them. */
export function widthFactorReport(f: WidthFactor, theta: Float64Array, k: number): WidthFactorReport {
  if (theta.length !== f.count) {
    throw new InputError(`the ${f.width}-wide factor has ${f.count} angles, got ${theta.length}`);
  }
  const p: Matrix = factorMatrix(f.plan, theta, k);
  return {
    width: f.width,
    layers: f.layers,
    template: f.template,
    form: f.form,
    qubits: f.circuit.qubits,
    columns: k,
    parameters: f.count,
    bitOrder: 'little',
    angles: Array.from(theta),
    rowBasis: Array.from(f.rowBasis),
    orthogonalityError: orthogonalityError(p),
    matrix: toRows(p),
  };
}

/** The report as text: a header, then the rows (the first and last 32 when D > 64). */
export function widthFactorText(r: WidthFactorReport, source: string): string {
  const head = `${r.width}-wide factor (${r.form}, ${r.template}, L=${r.layers}, ${r.parameters} angles, ${source}) on ${r.qubits} qubits; first ${r.columns} of ${r.width} columns; max|PᵀP − I| = ${r.orthogonalityError.toExponential(2)}`;
  const cell = (v: number) => (v >= 0 ? ' ' : '') + v.toFixed(6);
  const line = (i: number) =>
    `[${String(r.rowBasis[i]).padStart(String(2 ** r.qubits).length)}] ${r.matrix[i]!.map(cell).join(' ')}`;
  const n = r.matrix.length;
  const shown =
    n > 64
      ? [...Array(32).keys(), -1, ...Array.from({ length: 32 }, (_, i) => n - 32 + i)]
      : [...Array(n).keys()];
  return [head, 'row [register basis state] values', ...shown.map((i) => (i < 0 ? '  …' : line(i)))].join(
    '\n',
  );
}

/** One comment line for an exported factor: which rows of the register hold P (the documented subspace). */
export function widthFactorComment(f: WidthFactor): string {
  const where =
    f.form === 'mixed-radix'
      ? (() => {
          const a = Math.log2(f.width & -f.width);
          return `row l*2^${a} + j of P is basis state gray(l)*2^${a} + j, gray(l) = l xor (l >> 1) (qudit of dimension ${f.width >> a} on the top wires)`;
        })()
      : `row r of P is basis state r (the first ${f.width} basis states)`;
  return `qpeft ${f.width}-wide factor (${f.form}, ${f.template}, L=${f.layers}, ${f.count} angles) on ${f.circuit.qubits} qubits; P = the circuit's matrix on the rows below, first K of them as columns; ${where}; bit order little (wire 0 = LSB)`;
}

/**
 * The factor as an expressivity task (`expressivity` SweepTask of kind `circuit`): its one circuit, measured on
 * its d-dimensional subspace, for K up to the number of leading rows that are the register's first basis
 * states (all d for direct sums; at least 2^a for mixed radix).
 */
export function widthSweepTask(
  width: number,
  layers: number,
  form: FactorForm = 'auto',
): {
  kind: 'circuit';
  label: string;
  circuit: Circuit;
  layers: number;
  dimension: number;
  maxColumns: number;
} {
  // widthFactor's resolveFactorForm refuses an unknown form (an InputError naming the forms)
  const f = widthFactor(width, layers, { form });
  let lead = 0;
  while (lead < f.rowBasis.length && f.rowBasis[lead] === lead) lead++;
  return {
    kind: 'circuit',
    label: `${f.form} d=${width}`,
    circuit: f.circuit,
    layers,
    dimension: width,
    maxColumns: lead,
  };
}
