import type { Circuit } from '../../circuit/ir.ts';
import { complexGates } from '../../circuit/ir.ts';
import { InputError } from '../../errors.ts';
import { simulateComplex } from '../../sim/complex.ts';
import { columns } from '../../sim/simulate.ts';
import { orthogonalityError, toRows } from '../../util/matrix.ts';
import { chooseCircuit, chooseQasmCircuit, circuitFlags, intFlag, parseFlags } from '../args.ts';
import type { Command, Io } from '../command.ts';

const help = `usage: qpeft unitary --qubits N --layers L [--template simplified-two-design|alternating-ry-cz]
                     [--seed S | --angles FILE] [--columns K] [--dtype float64|float32] [--json]
       qpeft unitary --qasm FILE [--seed S | --angles FILE] [--columns K] [--dtype float64|float32] [--json]

Simulate the circuit and print the first K columns of its real orthogonal matrix (default: all 2^N),
in OpenQASM/Qiskit bit order (wire 0 = least significant bit of the row/column index).
With --qasm, the circuit is read from an OpenQASM 2/3 file; its input parameters take --seed or --angles
(in declaration order). A circuit with complex gates (rx, rz, s, t, …) or a global phase is simulated in
complex float64; --json then adds "imag" and "globalPhase".`;

/** What `unitary` prints for a circuit: a template's or an OpenQASM file's. */
export interface UnitarySource {
  template: string | null;
  layers: number | null;
  /** The OpenQASM file, when the circuit came from one. */
  qasm?: string;
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
  const phase = circuit.globalPhase ?? 0;
  const complex = complexGates(circuit).length > 0 || phase !== 0;
  if (complex && dtype !== 'float64') {
    throw new InputError(
      'this circuit is complex (complex gates or a global phase): it simulates in float64 only',
    );
  }
  let rows: number[][];
  let imag: number[][] | null = null;
  let orthErr: number;
  if (complex) {
    const m = simulateComplex(circuit, angles, k);
    rows = toRows({ rows: dim, cols: k, data: m.re });
    imag = toRows({ rows: dim, cols: k, data: m.im });
    let err = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let re = 0;
        let im = 0;
        for (let r = 0; r < dim; r++) {
          const ar = m.re[r * k + i]!;
          const ai = m.im[r * k + i]!;
          const br = m.re[r * k + j]!;
          const bi = m.im[r * k + j]!;
          re += ar * br + ai * bi;
          im += ar * bi - ai * br;
        }
        err = Math.max(err, Math.hypot(re - (i === j ? 1 : 0), im));
      }
    }
    orthErr = err;
  } else {
    const m = columns(circuit, angles, k, { dtype });
    rows = toRows(m);
    orthErr = orthogonalityError(m);
  }
  if (flags.json) {
    io.out(
      JSON.stringify({
        template: meta.template,
        qubits: circuit.qubits,
        layers: meta.layers,
        columns: k,
        dtype,
        bitOrder: 'little',
        angles: Array.from(angles),
        orthogonalityError: orthErr,
        matrix: rows,
        ...(meta.qasm !== undefined ? { qasm: meta.qasm, params: [...circuit.params] } : {}),
        ...(imag ? { imag, globalPhase: phase } : {}),
      }),
    );
    return 0;
  }
  io.out(
    `${meta.label} (${meta.source}); first ${k} of ${dim} columns, bit order little (wire 0 = LSB); ` +
      `max|U${complex ? '†' : 'ᵀ'}U − I| = ${orthErr.toExponential(2)}${complex ? '; complex: showing re (im)' : ''}`,
  );
  const shownIdx =
    rows.length > 64
      ? [...Array(32).keys(), -1, ...Array.from({ length: 32 }, (_, i) => rows.length - 32 + i)]
      : [...rows.keys()];
  const cell = (v: number) => (v >= 0 ? ' ' : '') + v.toFixed(6);
  for (const i of shownIdx) {
    if (i < 0) io.out('  …');
    else if (imag) {
      const im = imag[i]!;
      io.out(rows[i]!.map((v, j) => `${cell(v)}(${cell(im[j]!).trim()})`).join(' '));
    } else io.out(rows[i]!.map(cell).join(' '));
  }
  return 0;
}

export const unitaryCommand: Command = {
  name: 'unitary',
  summary: "print the circuit's matrix (first K columns), Qiskit bit order",
  help,
  run(argv, io) {
    const { values } = parseFlags('unitary', argv, {
      ...circuitFlags,
      qasm: { type: 'string' },
      columns: { type: 'string' },
      dtype: { type: 'string', default: 'float64' },
      json: { type: 'boolean', default: false },
    });
    if (values.qasm !== undefined) {
      if (values.qubits !== undefined || values.layers !== undefined) {
        throw new InputError('--qasm reads the circuit from the file: drop --qubits and --layers');
      }
      const q = chooseQasmCircuit(values.qasm, values);
      return printUnitary(
        io,
        q.circuit,
        q.angles,
        {
          template: null,
          layers: null,
          qasm: q.file,
          source: q.source,
          label: `${q.file}: ${q.circuit.qubits} qubits`,
        },
        values,
      );
    }
    const ch = chooseCircuit(values);
    return printUnitary(
      io,
      ch.circuit,
      ch.angles,
      {
        template: ch.template.name,
        layers: ch.layers,
        source: ch.source,
        label: `${ch.template.name}: ${ch.qubits} qubits, ${ch.layers} layers`,
      },
      values,
    );
  },
};
