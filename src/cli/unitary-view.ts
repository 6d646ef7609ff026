/**
 * How `qpeft unitary` and `qpeft qasm import --json` show a circuit's matrix (text or JSON); the numbers come
 * from the library's `circuitMatrix`.
 */
import type { Circuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import { circuitMatrix } from '../sim/circuit-matrix.ts';
import type { Matrix } from '../util/matrix.ts';
import { intFlag } from './args.ts';
import type { Io } from './command.ts';

/** What `unitary` prints for a circuit: a template's or an OpenQASM file's. */
export interface UnitarySource {
  template: string | null;
  layers: number | null;
  /** The OpenQASM file, when the circuit came from one. */
  qasm?: string;
  /** For a program on physical qubits: wire i is physical qubit `physicalQubits[i]`. */
  physicalQubits?: readonly number[] | null;
  /** Where the angles came from (for the text header). */
  source: string;
  /** Human name of the circuit for the text header. */
  label: string;
}

/** Simulate and print (text or JSON) the first K columns; shared by `unitary` and `qasm import`. */
export function printUnitary(
  io: Io,
  circuit: Circuit,
  angles: Float64Array,
  meta: UnitarySource,
  flags: { columns?: unknown; dtype?: unknown; json?: boolean },
): number {
  const dim = 2 ** circuit.qubits;
  const k = intFlag('columns', flags.columns, dim, 1, dim);
  const dtype = flags.dtype ?? 'float64';
  if (dtype !== 'float64' && dtype !== 'float32') {
    throw new InputError(`--dtype must be float64 or float32, got "${dtype}"`);
  }
  const m = circuitMatrix(circuit, angles, k, dtype);
  const orthErr = m.orthogonalityError;
  const complex = m.im !== null;
  // rows are converted a chunk at a time: 2^26 rows as number[][] would not fit in the V8 heap, and the
  // JSON text of a large matrix is written as it is made instead of as one string
  const row = (mat: Matrix, i: number) => Array.from(mat.data.subarray(i * k, (i + 1) * k));
  if (flags.json) {
    const head = JSON.stringify({
      template: meta.template,
      qubits: circuit.qubits,
      layers: meta.layers,
      columns: k,
      dtype,
      bitOrder: 'little',
      angles: Array.from(angles),
      orthogonalityError: orthErr,
      ...(meta.qasm !== undefined ? { qasm: meta.qasm, params: [...circuit.params] } : {}),
      ...(meta.physicalQubits ? { physicalQubits: [...meta.physicalQubits] } : {}),
      ...(m.im ? { globalPhase: m.globalPhase } : {}),
    });
    const matrices: [string, Matrix][] = [
      ['matrix', m.re],
      ...(m.im ? [['imag', m.im] as [string, Matrix]] : []),
    ];
    let text = `${head.slice(0, -1)}`;
    const CHUNK = 1 << 16; // characters per write
    for (const [name, mat] of matrices) {
      text += `,${JSON.stringify(name)}:[`;
      for (let i = 0; i < dim; i++) {
        text += `${i ? ',' : ''}${JSON.stringify(row(mat, i))}`;
        if (text.length >= CHUNK) {
          io.out(text);
          text = '';
        }
      }
      text += ']';
    }
    io.out(`${text}}`);
    return 0;
  }
  io.out(
    `${meta.label} (${meta.source}); first ${k} of ${dim} columns, bit order little (wire 0 = LSB); ` +
      `max|U${complex ? '†' : 'ᵀ'}U − I| = ${orthErr.toExponential(2)}${complex ? '; complex: showing re (im)' : ''}`,
  );
  const shownIdx =
    dim > 64
      ? [...Array(32).keys(), -1, ...Array.from({ length: 32 }, (_, i) => dim - 32 + i)]
      : [...Array(dim).keys()];
  const cell = (v: number) => (v >= 0 ? ' ' : '') + v.toFixed(6);
  for (const i of shownIdx) {
    if (i < 0) io.out('  …');
    else if (m.im) {
      const im = row(m.im, i);
      io.out(
        row(m.re, i)
          .map((v, j) => `${cell(v)}(${cell(im[j]!).trim()})`)
          .join(' '),
      );
    } else io.out(row(m.re, i).map(cell).join(' '));
  }
  return 0;
}
