import { InputError } from '../../errors.ts';
import { columns } from '../../sim/simulate.ts';
import { orthogonalityError, toRows } from '../../util/matrix.ts';
import { chooseCircuit, circuitFlags, intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft unitary --qubits N --layers L [--template simplified-two-design|alternating-ry-cz]
                     [--seed S | --angles FILE] [--columns K] [--dtype float64|float32] [--json]

Simulate the circuit and print the first K columns of its real orthogonal matrix (default: all 2^N),
in OpenQASM/Qiskit bit order (wire 0 = least significant bit of the row/column index).`;

export const unitaryCommand: Command = {
  name: 'unitary',
  summary: "print the circuit's matrix (first K columns), Qiskit bit order",
  help,
  run(argv, io) {
    const { values } = parseFlags('unitary', argv, {
      ...circuitFlags,
      columns: { type: 'string' },
      dtype: { type: 'string', default: 'float64' },
      json: { type: 'boolean', default: false },
    });
    const ch = chooseCircuit(values);
    const dim = 2 ** ch.qubits;
    const k = intFlag('columns', values.columns, dim, 1, dim);
    const dtype = values.dtype;
    if (dtype !== 'float64' && dtype !== 'float32') {
      throw new InputError(`--dtype must be float64 or float32, got "${dtype}"`);
    }
    const m = columns(ch.circuit, ch.angles, k, { dtype });
    if (values.json) {
      io.out(
        JSON.stringify({
          template: ch.template.name,
          qubits: ch.qubits,
          layers: ch.layers,
          columns: k,
          dtype,
          bitOrder: 'little',
          angles: Array.from(ch.angles),
          orthogonalityError: orthogonalityError(m),
          matrix: toRows(m),
        }),
      );
      return 0;
    }
    io.out(
      `${ch.template.name}: ${ch.qubits} qubits, ${ch.layers} layers (${ch.source}); first ${k} of ${dim} columns, ` +
        `bit order little (wire 0 = LSB); max|UᵀU − I| = ${orthogonalityError(m).toExponential(2)}`,
    );
    const rows = toRows(m);
    const shown = rows.length > 64 ? [...rows.slice(0, 32), null, ...rows.slice(-32)] : rows;
    for (const r of shown)
      io.out(r === null ? '  …' : r.map((v) => (v >= 0 ? ' ' : '') + v.toFixed(6)).join(' '));
    return 0;
  },
};
