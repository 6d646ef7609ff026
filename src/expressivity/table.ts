/**
 * Sweep rows as a table: the columns people read (text, Markdown: rounded, one line per row) or every field
 * at full precision (CSV, for spreadsheets and plots made elsewhere).
 */
import { type Cell, formatTable, type TableFormat } from '../util/table.ts';
import type { ExpressivityRow } from './row.ts';

/** Compact human number: fixed for moderate magnitudes, exponent otherwise. */
function num(x: number, digits: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? x.toFixed(digits).replace(/\.?0+$/, '') : x.toExponential(2);
}

const f = (x: number | null, digits = 4) => (x === null ? '-' : num(x, digits));
const sci = (x: number) => (x === 0 ? '0' : x.toExponential(2));

const COLUMNS: readonly [string, (r: ExpressivityRow) => Cell][] = [
  ['n', (r) => r.qubits],
  ['L', (r) => (r.layers === null ? '-' : r.layers)],
  ['#θ', (r) => r.params],
  ['expressibility', (r) => f(r.expressibility)],
  ['±', (r) => f(r.expressibilityError)],
  ['KL Haar', (r) => f(r.expressibilityHaar)],
  ['floor', (r) => f(r.expressibilityFloor)],
  ['Q', (r) => f(r.entanglement)],
  ['Q ref', (r) => f(r.entanglementReference)],
  ['rank', (r) => r.effectiveDimension],
  ['manifold', (r) => r.manifoldDimension],
  ['redundancy', (r) => r.redundancy],
  ['var global', (r) => sci(r.gradVariance)],
  ['var local', (r) => sci(r.gradVarianceLocal)],
  ['reach', (r) => f(r.reachability)],
];

const CSV_FIELDS: readonly (keyof ExpressivityRow)[] = [
  'circuit',
  'qubits',
  'layers',
  'columns',
  'params',
  'samples',
  'expressibility',
  'expressibilityError',
  'expressibilityHaar',
  'expressibilityFloor',
  'entanglement',
  'entanglementReference',
  'effectiveDimension',
  'manifoldDimension',
  'redundancy',
  'gradVariance',
  'gradVarianceLocal',
  'reachability',
];

/**
 * The rows of an expressivity sweep as `format`: text and Markdown show the rounded columns of the
 * README's table (every column right-aligned); CSV has one column per `ExpressivityRow` field, unrounded.
 */
export function expressivityTable(rows: readonly ExpressivityRow[], format: TableFormat = 'text'): string {
  if (format === 'csv')
    return formatTable([CSV_FIELDS, ...rows.map((r) => CSV_FIELDS.map((k) => r[k]))], 'csv');
  return formatTable([COLUMNS.map((c) => c[0]), ...rows.map((r) => COLUMNS.map((c) => c[1](r)))], format, {
    align: format === 'markdown' ? COLUMNS.map(() => 'right') : undefined,
  });
}
