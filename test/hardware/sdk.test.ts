/**
 * The SDK programs. Qiskit, Braket and Cirq cannot be installed here, so: every program compiles
 * (`python3 -m py_compile`), uses exactly the SDK names listed in SDK_CALLS (checked in the SDKs' docs), and
 * the Cirq program runs end to end against a stand-in `cirq` module written here (numpy statevector with
 * Cirq's documented big-endian histogram keys), whose counts reconstruct the plan's columns.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindParameters } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import {
  buildPlan,
  type MeasurementPlan,
  type PlanFactor,
  planProgram,
  readCounts,
  reconstruct,
  SDK_CALLS,
  SDK_PROGRAM_FILES,
  SDK_PROGRAM_TARGETS,
  singleCircuitProgram,
  templateFactor,
  widthPlanFactor,
  writePlan,
} from '../../src/hardware/index.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { cli } from '../qasm/helpers.ts';
import { cleanup, tmp } from './helpers.ts';

afterAll(cleanup);

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const circuit = (() => {
  const c = simplifiedTwoDesign(3, 1);
  return bindParameters(c, uniformAngles(c.params.length, 2));
})();

describe('SDK programs', () => {
  for (const target of SDK_PROGRAM_TARGETS) {
    it(`${target}: the plan program and a single-circuit program compile with python3 -m py_compile`, () => {
      const dir = tmp();
      const a = path.join(dir, 'plan.py');
      const b = path.join(dir, 'single.py');
      writeFileSync(a, planProgram(target));
      writeFileSync(b, singleCircuitProgram(target, circuit, 100));
      execFileSync(PY, ['-m', 'py_compile', a, b]);
    });

    it(`${target}: uses exactly the SDK names listed in SDK_CALLS`, () => {
      const text = planProgram(target);
      for (const call of SDK_CALLS[target]) {
        const last = call.replace(/^\./, '').split('.').pop()!;
        expect(text, `${call} is listed but ${last} is not used`).toContain(last.replace(/\($/, '('));
      }
      // reverse: every module.attribute reached through an import is listed
      const used = new Set<string>();
      for (const m of text.matchAll(/^\s*from ([\w.]+) import ([\w, ]+)$/gm)) {
        for (const name of m[2]!.split(',').map((s) => s.trim())) used.add(`${m[1]}.${name}`);
      }
      for (const m of text.matchAll(/\b(cirq\.[A-Za-z_][\w.]*)/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\b(qasm[23]\.[A-Za-z_]\w*)/g)) used.add(`qiskit.${m[1]}`);
      const listed = SDK_CALLS[target];
      for (const u of used) {
        if (['argparse', 'json', 'os', 'sys'].some((p) => u.startsWith(`${p}.`))) continue;
        if (u === 'qiskit.qasm3' || u === 'qiskit.qasm2') continue; // the modules themselves
        expect(
          listed.some((l) => l === u || l.startsWith(`${u}.`)),
          `${u} is used but not in SDK_CALLS.${target}`,
        ).toBe(true);
      }
    });
  }

  it('a plan folder holds the three programs; Braket refuses a QASM 2 plan before importing braket', () => {
    const dir = tmp();
    const f = templateFactor('simplified-two-design', 2, 1, 0, 1);
    const { plan, programs } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 2, layers: 1, seed: 0 },
      [f],
      [],
      { qasmVersion: 2 },
    );
    writePlan(dir, plan, programs);
    for (const t of SDK_PROGRAM_TARGETS) expect(existsSync(path.join(dir, SDK_PROGRAM_FILES[t]))).toBe(true);
    let message = '';
    try {
      execFileSync(PY, [path.join(dir, 'run_braket.py'), '--out', path.join(dir, 'c.json')], {
        stdio: 'pipe',
      });
    } catch (e) {
      message = String((e as { stderr?: Buffer }).stderr);
    }
    expect(message).toMatch(/Braket runs OpenQASM 3 programs/);
  });

  it('qpeft qasm --to writes our program; quil/pyquil are refused with the reason', async () => {
    const r = await cli('qasm', '--qubits', '3', '--layers', '1', '--to', 'qiskit', '--shots', '77');
    expect(r.code).toBe(0);
    expect(r.out).toContain('StatevectorSampler');
    expect(r.out).toContain('"shots":77');
    expect(r.out).toContain('c = measure q;');
    const q = await cli('qasm', '--qubits', '3', '--layers', '1', '--to', 'pyquil');
    expect(q.code).toBe(2);
    expect(q.err).toMatch(/Quil\/pyQuil exporters were removed/);
  });
});

/** A stand-in for the parts of Cirq the program uses: real statevector, Cirq's big-endian histogram keys. */
const FAKE_CIRQ = String.raw`
import collections
import numpy as np


class LineQubit:
    def __init__(self, x):
        self.x = x

    @staticmethod
    def range(n):
        return [LineQubit(i) for i in range(n)]


class _Op:
    def __init__(self, kind, qubits, matrix=None):
        self.kind, self.qubits, self.matrix = kind, qubits, matrix


class _Gate:
    def __init__(self, matrix):
        self.matrix = matrix

    def on(self, *qubits):
        return _Op("gate", list(qubits), self.matrix)

    def __call__(self, *qubits):
        return self.on(*qubits)


def ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return _Gate(np.array([[c, -s], [s, c]]))


X = _Gate(np.array([[0.0, 1.0], [1.0, 0.0]]))
Z = _Gate(np.array([[1.0, 0.0], [0.0, -1.0]]))
H = _Gate(np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2))
CZ = _Gate(np.diag([1.0, 1.0, 1.0, -1.0]))
CNOT = _Gate(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float))
SWAP = _Gate(np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float))


def measure(*qubits, key):
    return _Op("measure", list(qubits), key)


class Circuit:
    def __init__(self, ops):
        self.ops = list(ops)


class _Result:
    def __init__(self, values):
        self.values = values

    def histogram(self, key):
        return collections.Counter(self.values)


class Simulator:
    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def run(self, circuit, repetitions):
        qubits = [q for op in circuit.ops for q in op.qubits]
        n = max(q.x for q in qubits) + 1
        # axis k of the tensor is qubit k; Cirq's order: qubit 0 is the most significant bit
        psi = np.zeros([2] * n)
        psi[(0,) * n] = 1.0
        measured = None
        for op in circuit.ops:
            if op.kind == "measure":
                measured = [q.x for q in op.qubits]
                continue
            axes = [q.x for q in op.qubits]
            k = len(axes)
            m = op.matrix.reshape([2] * (2 * k))
            psi = np.moveaxis(np.tensordot(m, psi, axes=(list(range(k, 2 * k)), axes)), list(range(k)), axes)
        p = (psi ** 2).reshape(-1)
        p = p / p.sum()
        draws = self.rng.choice(len(p), size=repetitions, p=p)
        # the integer of the measured qubits in measure order, first most significant (qubit q is bit
        # n-1-q of a draw); whole arrays at once, as a per-shot Python loop takes seconds at 1e5 shots
        shifts = n - 1 - np.array(measured)
        weights = 1 << np.arange(len(measured) - 1, -1, -1)
        values = (((draws[:, None] >> shifts[None, :]) & 1) @ weights).tolist()
        return _Result(values)
`;

/**
 * A stand-in for the parts of Qiskit that run_qiskit.py --parametrized uses: ParameterVector elements with
 * affine expressions, a QuantumCircuit recording gates, and a StatevectorSampler whose PUBs bind values in
 * the order of `circuit.parameters`; counts keys put classical bit 0 rightmost (Qiskit's order).
 */
const FAKE_QISKIT: Record<string, string> = {
  '__init__.py': '',
  'circuit.py': String.raw`
class _Expr:
    def __init__(self, terms, const=0.0):
        self.terms, self.const = terms, const

    def __mul__(self, k):
        return _Expr({i: k * c for i, c in self.terms.items()}, k * self.const)

    __rmul__ = __mul__

    def __add__(self, k):
        return _Expr(dict(self.terms), self.const + k)

    __radd__ = __add__

    def value(self, bound):
        return self.const + sum(c * bound[i] for i, c in self.terms.items())


class _Element(_Expr):
    def __init__(self, vector, index):
        super().__init__({index: 1.0})
        self.vector, self.index = vector, index


class ParameterVector:
    def __init__(self, name, length):
        self.name = name
        self.elements = [_Element(self, i) for i in range(length)]

    def __getitem__(self, i):
        return self.elements[i]


class QuantumRegister:
    def __init__(self, size, name):
        self.size, self.name = size, name


class ClassicalRegister(QuantumRegister):
    pass


class QuantumCircuit:
    def __init__(self, qreg, creg):
        self.num_qubits, self.creg, self.ops, self.measured = qreg.size, creg, [], None

    def ry(self, angle, q):
        self.ops.append(("ry", [q], angle))

    def cz(self, a, b):
        self.ops.append(("cz", [a, b], None))

    def cx(self, a, b):
        self.ops.append(("cx", [a, b], None))

    def swap(self, a, b):
        self.ops.append(("swap", [a, b], None))

    def x(self, q):
        self.ops.append(("x", [q], None))

    def z(self, q):
        self.ops.append(("z", [q], None))

    def h(self, q):
        self.ops.append(("h", [q], None))

    def measure(self, qubits, clbits):
        self.measured = list(zip(qubits, clbits))

    @property
    def parameters(self):
        # the vector's elements that occur, sorted by index (Qiskit's order for one ParameterVector)
        indices = sorted({i for _, _, a in self.ops if isinstance(a, _Expr) for i in a.terms})
        return [_Element(None, i) for i in indices]
`,
  'primitives.py': String.raw`
import numpy as np

from qiskit.circuit import _Expr


def _matrix(name, angle):
    if name == "ry":
        c, s = np.cos(angle / 2), np.sin(angle / 2)
        return np.array([[c, -s], [s, c]])
    return {
        "x": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "z": np.diag([1.0, -1.0]),
        "h": np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2),
        # two-qubit matrices on (a, b) with a the more significant index of the 4×4 block
        "cz": np.diag([1.0, 1.0, 1.0, -1.0]),
        "cx": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float),
        "swap": np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float),
    }[name]


class _Bits:
    def __init__(self, counts):
        self.counts = counts

    def get_counts(self):
        return self.counts


class _Data:
    def __init__(self, name, counts):
        setattr(self, name, _Bits(counts))


class _PubResult:
    def __init__(self, data):
        self.data = data


class _Job:
    def __init__(self, results):
        self.results = results

    def result(self):
        return self.results


class StatevectorSampler:
    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def run(self, pubs, shots):
        out = []
        for p in pubs:
            circuit, values = (p[0], p[1]) if isinstance(p, tuple) else (p, [])
            bound = {e.index: v for e, v in zip(circuit.parameters, values)}
            n = circuit.num_qubits
            # tensor axis k is qubit n-1-k, so the flattened index is sum(bit_w * 2^w)
            psi = np.zeros([2] * n)
            psi[(0,) * n] = 1.0
            for name, wires, angle in circuit.ops:
                a = angle.value(bound) if isinstance(angle, _Expr) else angle
                axes = [n - 1 - w for w in wires]
                k = len(axes)
                m = _matrix(name, a).reshape([2] * (2 * k))
                psi = np.moveaxis(np.tensordot(m, psi, axes=(list(range(k, 2 * k)), axes)), list(range(k)), axes)
            prob = (psi ** 2).reshape(-1)
            draws = self.rng.choice(len(prob), size=shots, p=prob / prob.sum())
            counts = {}
            for d, k in zip(*np.unique(draws, return_counts=True)):
                bits = ["0"] * n
                for q, c in circuit.measured:
                    bits[n - 1 - c] = str((int(d) >> q) & 1)
                counts["".join(bits)] = int(k)
            out.append(_PubResult(_Data(circuit.creg.name, counts)))
        return _Job(out)
`,
};

/**
 * Plan one factor at 1e5 shots, write the plan folder and run its Cirq program with the stand-in cirq module
 * first on PYTHONPATH; the plan and the counts file it wrote.
 */
function runCirqPlan(
  source: MeasurementPlan['source'],
  factor: PlanFactor,
  seed: number,
): { plan: MeasurementPlan; out: string } {
  const dir = tmp();
  const fake = path.join(dir, 'fake');
  mkdirSync(fake);
  writeFileSync(path.join(fake, 'cirq.py'), FAKE_CIRQ);
  const { plan, programs } = buildPlan(source, [factor], [], { shots: 100_000 });
  const planDir = path.join(dir, 'plan');
  writePlan(planDir, plan, programs);
  const out = path.join(dir, 'counts.json');
  execFileSync(PY, [path.join(planDir, 'run_cirq.py'), '--out', out, '--seed', String(seed)], {
    env: { ...process.env, PYTHONPATH: fake },
    stdio: 'pipe',
  });
  return { plan, out };
}

describe('the Cirq program against a stand-in cirq module', () => {
  it('runs a plan end to end; its counts (converted to Qiskit order) reconstruct the columns', () => {
    const f = templateFactor('simplified-two-design', 3, 2, 5, 2);
    const { plan, out } = runCirqPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 5 },
      f,
      3,
    );
    const counts = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(counts).length).toBe(plan.circuits.length);
    const r = reconstruct(plan, readCounts(plan, [out]));
    expect(r.factors[0]!.fidelity).toBeGreaterThan(0.999);
    expect(r.factors[0]!.frobeniusError).toBeLessThan(0.05);
    // read in the other bit order, the same counts give wrong columns: the conversion is what makes it work
    const wrong = reconstruct(plan, readCounts(plan, [out], 'braket'));
    expect(wrong.factors[0]!.frobeniusError).toBeGreaterThan(0.1);
  });
  it('a 6-wide mixed-radix factor: column 4 is prepared on its row (|6⟩), not as |4⟩', () => {
    const { factor } = widthPlanFactor(6, 2, 5, { seed: 2 });
    const { plan, out } = runCirqPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 2, width: 6 },
      factor,
      4,
    );
    const r = reconstruct(plan, readCounts(plan, [out]));
    expect(r.factors[0]!.leakage).toBe(0);
    expect(r.factors[0]!.fidelity).toBeGreaterThan(0.999);
    expect(r.factors[0]!.frobeniusError).toBeLessThan(0.05);
  }, 180_000);
});

describe('the Qiskit program with --parametrized against a stand-in qiskit package', () => {
  it('builds ParameterVector circuits, binds the trained angles in the PUBs, and its counts reconstruct P', () => {
    const dir = tmp();
    const pkg = path.join(dir, 'fake', 'qiskit');
    mkdirSync(pkg, { recursive: true });
    for (const [f, text] of Object.entries(FAKE_QISKIT)) writeFileSync(path.join(pkg, f), text);
    // a 6-wide mixed-radix factor: its lowered rotations have angles ±θ/2 (scale and offset matter), and
    // column 4 is prepared as |6⟩ (K = 5 < d: with K = d the fidelity would be 1 for any frame)
    const { factor } = widthPlanFactor(6, 2, 5, { seed: 8 });
    expect(
      factor.parametrized!.gates.some(
        (g) => 'angle' in g && typeof g.angle === 'object' && g.angle.scale !== 1,
      ),
    ).toBe(true);
    const { plan, programs } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 8, width: 6 },
      [factor],
      [],
      { shots: 100_000 },
    );
    const planDir = path.join(dir, 'plan');
    writePlan(planDir, plan, programs);
    const out = path.join(dir, 'counts.json');
    execFileSync(PY, [path.join(planDir, 'run_qiskit.py'), '--parametrized', '--out', out, '--seed', '5'], {
      env: { ...process.env, PYTHONPATH: path.join(dir, 'fake') },
      stdio: 'pipe',
    });
    const r = reconstruct(plan, readCounts(plan, [out]));
    expect(r.factors[0]!.leakage).toBe(0);
    expect(r.factors[0]!.fidelity).toBeGreaterThan(0.999);
    expect(r.factors[0]!.frobeniusError).toBeLessThan(0.05);
    // the angles really are bound at run time: the same circuits with θ shifted give other counts
    const shifted = JSON.parse(readFileSync(path.join(planDir, 'plan.json'), 'utf8'));
    shifted.factors[0].theta = shifted.factors[0].theta.map((t: number) => t + 0.3);
    writeFileSync(path.join(planDir, 'plan.json'), JSON.stringify(shifted));
    execFileSync(PY, [path.join(planDir, 'run_qiskit.py'), '--parametrized', '--out', out, '--seed', '5'], {
      env: { ...process.env, PYTHONPATH: path.join(dir, 'fake') },
      stdio: 'pipe',
    });
    expect(reconstruct(plan, readCounts(plan, [out])).factors[0]!.frobeniusError).toBeGreaterThan(0.2);
  });
});
