import { InputError } from '../../errors.ts';
import { widthFactorReport, widthFactorText } from '../../peft/width-factor.ts';
import { chooseCircuit, chooseQasmCircuit, circuitFlags, intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { printUnitary } from '../unitary-view.ts';

const help = `usage: qpeft unitary --qubits N --layers L [--template simplified-two-design|alternating-ry-cz]
                     [--seed S | --angles FILE] [--columns K] [--dtype float64|float32] [--json]
       qpeft unitary --width D --layers L [--form auto|mixed-radix|direct-sum] [--seed S | --angles FILE]
                     [--columns K] [--json]
       qpeft unitary --qasm FILE [--seed S | --angles FILE] [--columns K] [--dtype float64|float32] [--json]

Simulate the circuit and print the first K columns of its real orthogonal matrix (default: all 2^N),
in OpenQASM/Qiskit bit order (wire 0 = least significant bit of the row/column index).
With --qasm, the circuit is read from an OpenQASM 2/3 file; its input parameters take --seed or --angles
(in declaration order). A circuit with complex gates (rx, rz, s, t, …) or a global phase is simulated in
complex float64; --json then adds "imag" and "globalPhase".
With --width D (any D ≥ 2), the D-wide adapter factor: one circuit on ⌈log₂D⌉ qubits (mixed radix or direct
sum, --form, default auto = the cheaper); prints P, D×K (default K = 1) in float64, and with --json also
"angles" and "rowBasis" (the register basis state of each of the D rows).`;

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
          physicalQubits: q.parsed.physicalQubits,
          source: q.source,
          label: `${q.file}: ${q.circuit.qubits} qubits`,
        },
        values,
      );
    }
    const ch = chooseCircuit(values);
    if (ch.factor) {
      const k = intFlag('columns', values.columns, 1, 1, ch.factor.width);
      const r = widthFactorReport(ch.factor, ch.angles, k);
      if (values.json) io.out(JSON.stringify({ ...r, source: ch.source }));
      else io.out(widthFactorText(r, ch.source));
      return 0;
    }
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
