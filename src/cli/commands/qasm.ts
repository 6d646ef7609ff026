import { bindParameters, complexGates, gateStats } from '../../circuit/ir.ts';
import { InputError } from '../../errors.ts';
import {
  SDK_PROGRAM_TARGETS,
  type SdkProgramTarget,
  singleCircuitProgram,
} from '../../hardware/sdk-programs.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { widthFactorComment } from '../../peft/width-factor.ts';
import { parseCoupling } from '../../qasm/connectivity.ts';
import { exportQasm, QASM_BASES, type QasmBasis, type QasmStats, qasmStats } from '../../qasm/export.ts';
import { readQasmFile } from '../../qasm/file.ts';
import { chooseCircuit, chooseQasmCircuit, circuitFlags, intFlag, parseFlags } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { printUnitary } from '../unitary-view.ts';

const help = `usage: qpeft qasm (--qubits N | --width D [--form auto|mixed-radix|direct-sum]) --layers L
                  [--template simplified-two-design|alternating-ry-cz]
                  [--seed S | --angles FILE] [--qasm-version 2|3] [--basis native|ibm|u-cx]
                  [--unbound] [--measure] [--stats] [--coupling linear|all|0-1,1-2,…] [--route]
                  [--physical [--layout P0,P1,…]]
                  [--to qiskit|braket|cirq] [--shots S] [--out FILE]
       qpeft qasm import FILE [--json] [--seed S | --angles FILE] [--columns K] [--dtype float64|float32]

Write a template circuit as OpenQASM (3 by default) with its angles bound (--seed S, default 0, draws the
same angles as 'qpeft unitary'; --angles FILE reads a JSON array), or with --unbound (OpenQASM 3) as
'input float[64] thetaK;' parameters. --width D writes the whole D-wide adapter factor (any D ≥ 2) as one
program on ⌈log₂D⌉ qubits; a comment says which basis states hold P's rows. --basis: native (ry, cz, … as built), ibm (rz, sx, x, cz) or
u-cx (u3/U and cx); ibm and u-cx equal native up to a global phase. --measure measures every qubit into c.
--stats prints gate counts, two-qubit count, depth and the connectivity check (on stderr when the program
goes to stdout). --coupling checks the two-qubit gates against a coupling map (default linear); a circuit
that does not fit is an error unless --route inserts SWAPs. --to writes a Python program for a hardware SDK instead
(ours: it runs the measured circuit on the SDK's simulator, or a device, and prints/writes counts; see
docs/hardware.md; --shots sets its shots, default 1000). --physical writes OpenQASM 3 on physical
qubits ($0, $1, …) as transpiled programs are; --layout puts wire i on $Pi. --out writes the file atomically
instead of printing it.

'qpeft qasm import FILE' reads an OpenQASM 2/3 file and prints a summary; with --json, the same JSON as
'qpeft unitary --qasm FILE --json' (input parameters need --seed or --angles).`;

function statsText(s: QasmStats): string {
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return [
    `basis ${s.basis}: ${s.total} gates (${counts || 'none'}), ${s.twoQubit} two-qubit, depth ${s.depth}`,
    `connectivity (${s.connectivity.coupling}, ${s.connectivity.physicalQubits} qubits): ${s.connectivity.note}`,
  ].join('\n');
}

function runImport(argv: string[], io: Io): number {
  const { values, positionals } = parseFlags(
    'qasm',
    argv,
    {
      json: { type: 'boolean', default: false },
      seed: { type: 'string' },
      angles: { type: 'string' },
      columns: { type: 'string' },
      dtype: { type: 'string', default: 'float64' },
    },
    true,
  );
  if (positionals.length !== 1) {
    throw new InputError(
      `qasm import takes one FILE, got ${positionals.length ? positionals.join(' ') : 'none'}`,
    );
  }
  const file = positionals[0]!;
  if (values.json) {
    const q = chooseQasmCircuit(file, values);
    return printUnitary(
      io,
      q.circuit,
      q.angles,
      {
        template: null,
        layers: null,
        qasm: file,
        physicalQubits: q.parsed.physicalQubits,
        source: q.source,
        label: `${file}: ${q.circuit.qubits} qubits`,
      },
      values,
    );
  }
  const parsed = readQasmFile(file);
  const c = parsed.circuit;
  const stats = gateStats(c);
  const conn = qasmStats(c).connectivity;
  const complex = complexGates(c);
  const regs = (list: readonly { name: string; size: number }[]) =>
    list.map((r) => `${r.name}[${r.size}]`).join(', ') || 'none';
  io.out(
    [
      `${file}: OpenQASM ${parsed.version}, ${c.qubits} qubits (${regs(parsed.qregs)}), classical bits: ${regs(parsed.cregs)}`,
      `inputs: ${parsed.inputs.length ? parsed.inputs.map((i) => `${i.name} (${i.type}${i.bits === null ? '' : `[${i.bits}]`})`).join(', ') : 'none'}`,
      `lowered: ${stats.total} gates (${Object.entries(stats.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}), ${stats.twoQubit} two-qubit, depth ${stats.depth}, global phase ${c.globalPhase ?? 0}`,
      complex.length
        ? `complex: ${complex.length} complex gate(s) (${[...new Set(complex.map((g) => g.name))].join(', ')}): not usable as a real adapter circuit`
        : `real: yes${c.globalPhase ? ' (up to the global phase)' : ''}, usable as an adapter circuit`,
      `measurements: ${parsed.measurements.length}, barriers: ${parsed.barriers}, gate definitions: ${parsed.gateDefinitions.join(', ') || 'none'}`,
      `connectivity (linear): ${conn.note}`,
      ...(parsed.physicalQubits
        ? [
            `physical qubits: wire i is $i (${parsed.physicalQubits.length} wires, $0..$${parsed.physicalQubits.length - 1})`,
          ]
        : []),
      ...(parsed.dropped.length ? [`dropped (no effect on the unitary): ${parsed.dropped.join(', ')}`] : []),
    ].join('\n'),
  );
  return 0;
}

export const qasmCommand: Command = {
  name: 'qasm',
  summary: 'export a template circuit as OpenQASM 2/3 (or SDK code); qasm import FILE reads one back',
  help,
  run(argv, io) {
    if (argv[0] === 'import') return runImport(argv.slice(1), io);
    const { values } = parseFlags('qasm', argv, {
      ...circuitFlags,
      'qasm-version': { type: 'string', default: '3' },
      basis: { type: 'string', default: 'native' },
      unbound: { type: 'boolean', default: false },
      measure: { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      coupling: { type: 'string' },
      route: { type: 'boolean', default: false },
      physical: { type: 'boolean', default: false },
      layout: { type: 'string' },
      to: { type: 'string' },
      shots: { type: 'string' },
      out: { type: 'string' },
    });
    const version =
      values['qasm-version'] === '2' || values['qasm-version'] === '2.0'
        ? 2
        : values['qasm-version'] === '3' || values['qasm-version'] === '3.0'
          ? 3
          : null;
    if (version === null)
      throw new InputError(`--qasm-version must be 2 or 3, got "${values['qasm-version']}"`);
    const basis = values.basis as QasmBasis;
    if (!QASM_BASES.includes(basis))
      throw new InputError(`--basis must be one of ${QASM_BASES.join(', ')}, got "${values.basis}"`);
    if (values.unbound && (values.seed !== undefined || values.angles !== undefined)) {
      throw new InputError('--unbound exports the parameters as inputs: drop --seed/--angles');
    }
    const coupling = values.coupling === undefined ? undefined : parseCoupling(values.coupling);
    if (values.layout !== undefined && !values.physical)
      throw new InputError('--layout places wires on physical qubits: add --physical');
    if (values.physical && version !== 3)
      throw new InputError(
        '--physical writes physical qubits ($n), which are OpenQASM 3: drop --qasm-version 2',
      );
    const physical: readonly number[] | true | undefined = !values.physical
      ? undefined
      : values.layout === undefined
        ? true
        : values.layout.split(',').map((p) => {
            const n = Number(p.trim());
            if (!/^\d+$/.test(p.trim()) || !Number.isSafeInteger(n))
              throw new InputError(
                `--layout must list physical qubit indices like 3,1,4, got "${values.layout}"`,
              );
            return n;
          });
    const ch = chooseCircuit(values);
    let text: string;
    if (values.to !== undefined) {
      const target = values.to as SdkProgramTarget;
      if (!SDK_PROGRAM_TARGETS.includes(target)) {
        throw new InputError(
          `--to must be one of ${SDK_PROGRAM_TARGETS.join(', ')}, got "${values.to}"${values.to === 'quil' || values.to === 'pyquil' ? " (quantum-circuit's Quil/pyQuil exporters were removed: their programs did not run to completion)" : ''}`,
        );
      }
      if (values.unbound)
        throw new InputError('--to runs the circuit, so its angles must be bound: drop --unbound');
      if (basis !== 'native') throw new InputError('--to builds the native gates in the SDK: drop --basis');
      const shots = intFlag('shots', values.shots, 1000, 1, 1e9);
      text = singleCircuitProgram(target, bindParameters(ch.circuit, ch.angles), shots);
    } else {
      text = exportQasm(ch.circuit, {
        version,
        basis,
        ...(values.unbound ? { unbound: true } : { bindings: ch.angles }),
        measure: values.measure,
        ...(coupling !== undefined ? { coupling, routing: values.route ? 'swap' : 'error' } : {}),
        ...(ch.factor ? { comment: widthFactorComment(ch.factor) } : {}),
        ...(physical !== undefined ? { physical } : {}),
      });
    }
    const stats = values.stats
      ? statsText(
          qasmStats(values.unbound ? ch.circuit : bindParameters(ch.circuit, ch.angles), {
            basis,
            version,
            ...(coupling ? { coupling } : {}),
          }),
        )
      : null;
    if (values.out !== undefined) {
      writeFileAtomic(values.out, text);
      io.out(
        `wrote ${values.out} (${Buffer.byteLength(text)} bytes, ${ch.template.name} n=${ch.qubits} L=${ch.layers}, ${values.unbound ? 'unbound inputs' : ch.source})`,
      );
      if (stats) io.out(stats);
    } else {
      io.out(text);
      if (stats) io.err(stats);
    }
    return 0;
  },
};
