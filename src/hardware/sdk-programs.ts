/**
 * Python programs, written and owned by this project, that run a measurement plan on a real SDK and write
 * counts `qpeft hardware reconstruct` reads:
 * - Qiskit ≥ 1.0 (`run_qiskit.py`): loads each plan program with `qiskit.qasm3.loads` (needs the
 *   `qiskit-qasm3-import` package) or `qiskit.qasm2.loads`, or with `--parametrized` builds each measured
 *   circuit from the factor's free-angle gate list with a `ParameterVector` and passes the trained angles in
 *   the sampler's PUBs (bound at run time; one transpilation serves any angles); samples with the reference
 *   `qiskit.primitives.StatevectorSampler` by default, or with `--backend NAME` on an IBM Quantum backend
 *   through `qiskit_ibm_runtime.SamplerV2` after `transpile` (with the plan's initial layout when the plan
 *   was made for a device); writes `get_counts()` (classical bit 0 rightmost: `--format qiskit`).
 * - Amazon Braket (`run_braket.py`): submits each OpenQASM 3 program as `braket.ir.openqasm.Program` to the
 *   `LocalSimulator` by default or `AwsDevice(ARN)`; writes `measurement_counts` (qubit 0 leftmost:
 *   `--format braket`). Barrier lines are removed before submission (they change no outcome).
 * - Cirq (`run_cirq.py`): builds each measured circuit from the plan's gate lists (`cirq.ry`, `cirq.CZ`, …,
 *   `cirq.measure(*qubits, key="c")`), samples with `cirq.Simulator().run`, and writes the histogram
 *   converted to Qiskit order (Cirq's integer keys put the first measured qubit in the most significant bit).
 * Each program reads `plan.json` beside it (or `--plan DIR`); `programFor(target, embedded)` writes a
 * stand-alone program with a one-circuit plan embedded (what `qpeft qasm --to` writes).
 * The SDK calls each program makes are listed in `SDK_CALLS` (checked against the SDKs' documentation; see
 * docs/hardware.md for the pages).
 */
import { type Circuit, isRotation } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { exportQasm } from '../qasm/export.ts';

/** The SDKs we write programs for. */
export type SdkProgramTarget = 'qiskit' | 'braket' | 'cirq';
export const SDK_PROGRAM_TARGETS: readonly SdkProgramTarget[] = ['qiskit', 'braket', 'cirq'];

/** The file name of each program inside a plan directory. */
export const SDK_PROGRAM_FILES: Readonly<Record<SdkProgramTarget, string>> = {
  qiskit: 'run_qiskit.py',
  braket: 'run_braket.py',
  cirq: 'run_cirq.py',
};

/**
 * Every SDK name each program uses (module paths, classes, functions, methods, attributes), as checked in
 * the SDKs' current documentation. The tests assert that each program uses exactly these.
 */
export const SDK_CALLS: Readonly<Record<SdkProgramTarget, readonly string[]>> = {
  qiskit: [
    'qiskit.qasm3.loads',
    'qiskit.qasm2.loads',
    'qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS',
    'qiskit.circuit.ParameterVector',
    'qiskit.circuit.QuantumCircuit',
    'qiskit.circuit.QuantumRegister',
    'qiskit.circuit.ClassicalRegister',
    '.ry(',
    '.cz(',
    '.cx(',
    '.swap(',
    '.x(',
    '.z(',
    '.h(',
    '.measure(',
    '.parameters',
    '.index',
    'qiskit.transpile',
    'qiskit.primitives.StatevectorSampler',
    'qiskit_ibm_runtime.QiskitRuntimeService',
    'qiskit_ibm_runtime.SamplerV2',
    '.backend(',
    '.num_qubits',
    '.run(',
    '.result()',
    '.data.c.get_counts()',
  ],
  braket: [
    'braket.devices.LocalSimulator',
    'braket.aws.AwsDevice',
    'braket.ir.openqasm.Program',
    '.run(',
    '.result()',
    '.measurement_counts',
  ],
  cirq: [
    'cirq.LineQubit.range',
    'cirq.Circuit',
    'cirq.ry',
    'cirq.CZ',
    'cirq.CNOT',
    'cirq.SWAP',
    'cirq.X',
    'cirq.Z',
    'cirq.H',
    'cirq.measure',
    'cirq.Simulator',
    '.run(',
    '.histogram(',
  ],
};

const COMMON = String.raw`
import argparse
import json
import os
import sys

EMBEDDED = None  # a one-circuit plan written in by 'qpeft qasm --to'; None: read plan.json


def read_plan(folder):
    if EMBEDDED is not None:
        return EMBEDDED
    with open(os.path.join(folder, "plan.json"), encoding="utf-8") as f:
        return json.load(f)


def program_text(plan, folder, circuit):
    if "qasm" in circuit:
        return circuit["qasm"]
    with open(os.path.join(folder, circuit["file"]), encoding="utf-8") as f:
        return f.read()


def arguments(description, extra):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--plan", default=here, help="plan folder (default: this program's folder)")
    parser.add_argument("--out", default=None, help="counts JSON to write (default: print it)")
    parser.add_argument("--shots", type=int, default=None, help="shots per circuit (default: the plan's)")
    for name, kwargs in extra:
        parser.add_argument(name, **kwargs)
    return parser.parse_args()


def write_counts(path, counts, order):
    if path is None:
        print(json.dumps(counts))
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(counts, f)
    os.replace(tmp, path)
    print(f"wrote counts of {len(counts)} circuits to {path} ({order})", file=sys.stderr)
`;

const QISKIT = String.raw`#!/usr/bin/env python3
"""Run a qpeft measurement plan with Qiskit >= 1.0 and write counts for 'qpeft hardware reconstruct'.

--parametrized builds each circuit from the plan's free-angle gate lists with a ParameterVector "theta" and
binds the trained angles in the sampler's PUBs at run time (no QASM import needed).
Default: the local reference sampler (qiskit.primitives.StatevectorSampler). --backend NAME runs on an IBM
Quantum backend with qiskit-ibm-runtime's SamplerV2 after transpiling (the plan's initial layout is used
when the plan was made for a device and the backend has those qubits). OpenQASM 3 plans need the
qiskit-qasm3-import package. Counts: {"<circuit id>": {"<bits>": count}}, classical bit 0 rightmost
(Qiskit's order; reconstruct's default --format qiskit).
"""
${COMMON}

def load_program(text, version):
    if version == 3:
        from qiskit import qasm3

        return qasm3.loads(text)
    from qiskit import qasm2

    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def parametrized_circuit(plan, entry):
    """The measured circuit of a plan entry with the factor's angles as a ParameterVector, and its values."""
    from qiskit.circuit import ClassicalRegister, ParameterVector, QuantumCircuit, QuantumRegister

    factor = next((f for f in plan["factors"] if f["id"] == entry.get("circuit")), None)
    if factor is None:
        raise SystemExit("--parametrized builds circuits from a plan folder's factors; this program has none")
    ir = factor.get("parametrized")
    if ir is None:
        raise SystemExit("this plan has no free-angle circuits (written by an older qpeft): run without --parametrized")
    n = factor["qubits"]
    theta = ParameterVector("theta", len(ir["params"]))
    index = {name: i for i, name in enumerate(ir["params"])}
    qc = QuantumCircuit(QuantumRegister(n, "q"), ClassicalRegister(n, "c"))
    prepared = entry.get("prepared", entry["column"])
    for w in range(n):
        if (prepared >> w) & 1:
            qc.x(w)
    for g in ir["gates"]:
        w = g["wires"]
        name = g["name"]
        if name == "ry":
            a = g["angle"]
            angle = a if isinstance(a, (int, float)) else a["scale"] * theta[index[a["param"]]] + a["offset"]
            qc.ry(angle, w[0])
        elif name == "cz":
            qc.cz(w[0], w[1])
        elif name == "cx":
            qc.cx(w[0], w[1])
        elif name == "swap":
            qc.swap(w[0], w[1])
        elif name == "x":
            qc.x(w[0])
        elif name == "z":
            qc.z(w[0])
        elif name == "h":
            qc.h(w[0])
        else:
            raise SystemExit(f"gate {name!r} is not a real adapter gate (ry, cz, cx, swap, x, z, h)")
    if entry["setting"] != "z":
        qc.ry(-1.5707963267948966, entry["setting"])
    qc.measure(list(range(n)), list(range(n)))
    return qc, factor["theta"]


def pub(circuit, theta):
    # the values in the order of circuit.parameters (a vector's elements sort by index)
    values = [theta[p.index] for p in circuit.parameters]
    return (circuit, values) if values else circuit


def main():
    args = arguments(
        "Run a qpeft measurement plan with Qiskit",
        [
            ("--backend", {"default": None, "help": "IBM Quantum backend name (default: local StatevectorSampler)"}),
            ("--seed", {"type": int, "default": None, "help": "seed of the local sampler"}),
            (
                "--parametrized",
                {
                    "action": "store_true",
                    "help": "build circuits with a ParameterVector and bind the trained angles at run time",
                },
            ),
        ],
    )
    plan = read_plan(args.plan)
    entries = plan["circuits"]
    if args.parametrized:
        built = [parametrized_circuit(plan, c) for c in entries]
        circuits = [b[0] for b in built]
        thetas = [b[1] for b in built]
    else:
        circuits = [load_program(program_text(plan, args.plan, c), plan["qasmVersion"]) for c in entries]
        thetas = [[] for _ in entries]
    shots = args.shots or plan["shots"]
    if args.backend:
        from qiskit import transpile
        from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

        backend = QiskitRuntimeService().backend(args.backend)
        layout = (plan.get("device") or {}).get("layout")
        if layout and max(layout) >= backend.num_qubits:
            layout = None
        isa = transpile(circuits, backend=backend, initial_layout=layout, optimization_level=1)
        pubs = [pub(c, t) for c, t in zip(isa, thetas)]
        result = SamplerV2(mode=backend).run(pubs, shots=shots).result()
    else:
        from qiskit.primitives import StatevectorSampler

        pubs = [pub(c, t) for c, t in zip(circuits, thetas)]
        result = StatevectorSampler(seed=args.seed).run(pubs, shots=shots).result()
    counts = {c["id"]: dict(result[i].data.c.get_counts()) for i, c in enumerate(entries)}
    write_counts(args.out, counts, "Qiskit order: reconstruct --format qiskit")


if __name__ == "__main__":
    sys.exit(main())
`;

const BRAKET = String.raw`#!/usr/bin/env python3
"""Run a qpeft measurement plan (OpenQASM 3) on Amazon Braket and write measurement_counts per circuit.

Default: braket.devices.LocalSimulator. --device ARN submits to that device (AWS credentials needed).
Counts: {"<circuit id>": {"<bits>": count}} with qubit 0 leftmost (Braket's order): reconstruct them with
'qpeft hardware reconstruct --format braket'.
"""
${COMMON}

def main():
    args = arguments(
        "Run a qpeft measurement plan on Amazon Braket",
        [("--device", {"default": None, "help": "device ARN (default: the local simulator)"})],
    )
    plan = read_plan(args.plan)
    if plan["qasmVersion"] != 3:
        raise SystemExit("Braket runs OpenQASM 3 programs: make the plan with --qasm-version 3")
    from braket.ir.openqasm import Program

    if args.device:
        from braket.aws import AwsDevice

        device = AwsDevice(args.device)
    else:
        from braket.devices import LocalSimulator

        device = LocalSimulator()
    shots = args.shots or plan["shots"]
    counts = {}
    for c in plan["circuits"]:
        text = "\n".join(
            line for line in program_text(plan, args.plan, c).splitlines() if not line.startswith("barrier")
        )
        result = device.run(Program(source=text), shots=shots).result()
        counts[c["id"]] = dict(result.measurement_counts)
    write_counts(args.out, counts, "Braket order: reconstruct --format braket")


if __name__ == "__main__":
    sys.exit(main())
`;

const CIRQ = String.raw`#!/usr/bin/env python3
"""Run a qpeft measurement plan with Cirq's simulator and write counts for 'qpeft hardware reconstruct'.

Each measured circuit is built from the plan's gate lists: X on the bits of the prepared basis state (the
column's row of P; the column itself for power-of-two widths), the factor's
circuit, and RY(-pi/2) on the setting's wire, then cirq.measure of qubits 0..n-1 under key "c". Cirq's
histogram keys are integers with the first measured qubit most significant; they are written in Qiskit
order (bit 0 rightmost; reconstruct's default --format qiskit).
"""
${COMMON}

def measured_gates(plan, circuit):
    if "ops" in circuit:
        return circuit["ops"]
    factor = next(f for f in plan["factors"] if f["id"] == circuit["circuit"])
    n = factor["qubits"]
    # the prepared basis state: P's row of this column (plans before non-power-of-two widths: the column)
    prepared = circuit.get("prepared", circuit["column"])
    gates = [{"name": "x", "wires": [w]} for w in range(n) if (prepared >> w) & 1]
    gates += factor["circuit"]["gates"]
    if circuit["setting"] != "z":
        gates.append({"name": "ry", "wires": [circuit["setting"]], "angle": -1.5707963267948966})
    return gates


def build(cirq, n, gates):
    q = cirq.LineQubit.range(n)
    ops = []
    for g in gates:
        w = g["wires"]
        name = g["name"]
        if name == "ry":
            ops.append(cirq.ry(g["angle"]).on(q[w[0]]))
        elif name == "cz":
            ops.append(cirq.CZ(q[w[0]], q[w[1]]))
        elif name == "cx":
            ops.append(cirq.CNOT(q[w[0]], q[w[1]]))
        elif name == "swap":
            ops.append(cirq.SWAP(q[w[0]], q[w[1]]))
        elif name == "x":
            ops.append(cirq.X(q[w[0]]))
        elif name == "z":
            ops.append(cirq.Z(q[w[0]]))
        elif name == "h":
            ops.append(cirq.H(q[w[0]]))
        else:
            raise SystemExit(f"gate {name!r} is not a real adapter gate (ry, cz, cx, swap, x, z, h)")
    ops.append(cirq.measure(*q, key="c"))
    return cirq.Circuit(ops)


def qiskit_key(value, n):
    # Cirq: the first measured qubit (qubit 0) is the most significant bit of the integer
    bits = [(value >> (n - 1 - w)) & 1 for w in range(n)]
    return "".join(str(bits[w]) for w in reversed(range(n)))


def main():
    args = arguments("Run a qpeft measurement plan with Cirq", [("--seed", {"type": int, "default": None})])
    import cirq

    plan = read_plan(args.plan)
    simulator = cirq.Simulator(seed=args.seed)
    shots = args.shots or plan["shots"]
    counts = {}
    for c in plan["circuits"]:
        n = c["qubits"]
        result = simulator.run(build(cirq, n, measured_gates(plan, c)), repetitions=shots)
        counts[c["id"]] = {qiskit_key(v, n): int(k) for v, k in result.histogram(key="c").items()}
    write_counts(args.out, counts, "Qiskit order: reconstruct --format qiskit")


if __name__ == "__main__":
    sys.exit(main())
`;

const PROGRAMS: Readonly<Record<SdkProgramTarget, string>> = { qiskit: QISKIT, braket: BRAKET, cirq: CIRQ };

function checkTarget(target: unknown): SdkProgramTarget {
  if (!SDK_PROGRAM_TARGETS.includes(target as SdkProgramTarget)) {
    throw new InputError(`SDK must be one of ${SDK_PROGRAM_TARGETS.join(', ')}, got ${describe(target)}`);
  }
  return target as SdkProgramTarget;
}

/** The program that runs a plan folder (it reads `plan.json` beside it). */
export function planProgram(target: SdkProgramTarget): string {
  return PROGRAMS[checkTarget(target)];
}

/**
 * A stand-alone program for one bound circuit, measured on every qubit: the circuit is embedded as a
 * one-circuit plan (its OpenQASM 3 program for Qiskit and Braket, its gate list for Cirq) with `shots`.
 */
export function singleCircuitProgram(target: SdkProgramTarget, circuit: Circuit, shots = 1000): string {
  checkTarget(target);
  if (circuit.params.length) {
    throw new InputError(`the circuit has ${circuit.params.length} unbound parameter(s); bind them first`);
  }
  const complex = circuit.gates.find((g) => g.name === 'rx' || g.name === 'rz');
  if (complex && target === 'cirq') {
    throw new InputError(`the Cirq program builds real circuits only; gate ${complex.name} is complex`);
  }
  const embedded = {
    qasmVersion: 3,
    shots,
    device: null,
    factors: [],
    circuits: [
      {
        id: 'circuit',
        qubits: circuit.qubits,
        qasm: exportQasm(circuit, { version: 3, measure: true }),
        ops: circuit.gates.map((g) =>
          isRotation(g)
            ? { name: g.name, wires: [...g.wires], angle: g.angle }
            : { name: g.name, wires: [...g.wires] },
        ),
      },
    ],
  };
  // JSON inside a raw triple-quoted string: json.loads reads it back exactly (no ''' can occur in JSON text)
  const literal = `json.loads(r'''${JSON.stringify(embedded)}''')`;
  return PROGRAMS[target].replace('EMBEDDED = None  #', `EMBEDDED = ${literal}  #`);
}
