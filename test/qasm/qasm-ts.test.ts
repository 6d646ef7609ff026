/**
 * Independent reader: qasm-ts (a dev dependency; ESM, loads under vitest) parses our OpenQASM 3, and an
 * evaluator over its syntax tree recovers the gates and angles of the circuit we exported.
 */
import { parseString } from 'qasm-ts';
import { describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  type Circuit,
  cx,
  h,
  isRotation,
  makeCircuit,
  param,
  rx,
  ry,
  rz,
  simplifiedTwoDesign,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { exportQasm } from '../../src/qasm/index.ts';
import { uniformAngles } from '../../src/util/random.ts';

type Node = Record<string, unknown> & { constructor: { name: string } };

/** Evaluate a qasm-ts expression node; `env` gives input values. */
function evaluate(n: Node, env: Record<string, number>): number {
  const cls = n.constructor.name;
  if (cls === 'Pi') return Math.PI;
  if ('value' in n) return Number(n.value);
  if ('name' in n) {
    const v = env[n.name as string];
    if (v === undefined) throw new Error(`unbound name ${String(n.name)}`);
    return v;
  }
  if ('operand' in n)
    return n.op === '-' ? -evaluate(n.operand as Node, env) : evaluate(n.operand as Node, env);
  const l = evaluate(n.left as Node, env);
  const r = evaluate(n.right as Node, env);
  switch (n.op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
  }
  throw new Error(`unknown node ${cls} ${JSON.stringify(n)}`);
}

/** The gate calls qasm-ts finds: name, qubit indices, evaluated arguments. */
function gatesOf(text: string, env: Record<string, number> = {}) {
  const ast = parseString(text, 3) as unknown as Node[];
  return {
    kinds: ast.map((n) => n.constructor.name),
    inputs: ast
      .filter((n) => n.constructor.name === 'IODeclaration')
      .map((n) => (n as unknown as { identifier: { name: string } }).identifier?.name),
    gates: ast
      .filter((n) => n.constructor.name === 'QuantumGateCall')
      .map((n) => {
        const g = n as unknown as {
          quantumGateName: { name: string };
          qubits: { subscript: { value: number } }[];
          parameters: { args: Node[] } | null;
        };
        return {
          name: g.quantumGateName.name,
          wires: g.qubits.map((q) => Number(q.subscript.value)),
          args: (g.parameters?.args ?? []).map((a) => evaluate(a, env)),
        };
      }),
  };
}

function expected(c: Circuit, theta: ArrayLike<number>) {
  const idx = new Map(c.params.map((p, i) => [p, i]));
  return c.gates.map((g) => ({
    name: g.name,
    wires: [...g.wires],
    args: isRotation(g)
      ? [
          typeof g.angle === 'number'
            ? g.angle
            : g.angle.scale * theta[idx.get(g.angle.param)!]! + g.angle.offset,
        ]
      : [],
  }));
}

describe('qasm-ts reads our OpenQASM 3', () => {
  const cases: [string, Circuit][] = [
    ['two-design n=4 L=2', simplifiedTwoDesign(4, 2)],
    ['alternating n=5 L=1', alternatingRyCz(5, 1)],
    [
      'every IR gate, affine inputs',
      makeCircuit({
        qubits: 3,
        gates: [
          ry(0, param('a', 2, 0.5)),
          rx(1, param('b', -1, -Math.PI / 2)),
          rz(2, param('a', 0.25, 0)),
          h(0),
          x(1),
          z(2),
          cx(2, 0),
          swap(1, 2),
          ry(1, -Math.PI / 2),
        ],
        params: ['a', 'b'],
      }),
    ],
  ];
  for (const [label, c] of cases) {
    const theta = uniformAngles(c.params.length, 3);
    it(`${label}: bound angles equal exactly`, () => {
      const got = gatesOf(exportQasm(c, { bindings: theta, measure: true }));
      expect(got.gates).toEqual(expected(c, theta));
      expect(got.kinds).toContain('QuantumMeasurementAssignment');
    });
    it(`${label}: unbound inputs declared in order, angles evaluate to the same values`, () => {
      const text = exportQasm(c, { unbound: true });
      const env = Object.fromEntries(c.params.map((p, i) => [p, theta[i]!]));
      const got = gatesOf(text, env);
      expect(got.kinds.filter((k) => k === 'IODeclaration')).toHaveLength(c.params.length);
      const want = expected(c, theta);
      expect(got.gates.map((g) => [g.name, g.wires])).toEqual(want.map((g) => [g.name, g.wires]));
      for (const [i, g] of got.gates.entries()) {
        for (const [j, a] of g.args.entries()) expect(a).toBeCloseTo(want[i]!.args[j]!, 13);
      }
    });
  }
  it('the ibm and u-cx bases parse too (rz/sx/x/cz and U/cx only)', () => {
    const c = cases[2]![1];
    const theta = uniformAngles(2, 5);
    const ibm = gatesOf(exportQasm(c, { basis: 'ibm', bindings: theta })).gates;
    expect(new Set(ibm.map((g) => g.name))).toEqual(new Set(['rz', 'sx', 'x', 'cz']));
    const ucx = gatesOf(exportQasm(c, { basis: 'u-cx', unbound: true }), { a: 0.1, b: 0.2 }).gates;
    expect(new Set(ucx.map((g) => g.name))).toEqual(new Set(['U', 'cx']));
  });
});
