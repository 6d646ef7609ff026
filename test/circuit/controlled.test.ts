/**
 * Multi-controlled RY and sign flips lowered to ry/cx/x/z/cz (circuit/controlled.ts), against the dense
 * operator written from the definition, and the don't-care control simplification on a subspace.
 */
import { describe, expect, it } from 'vitest';
import { type Control, lowerControlled, simplifyControls } from '../../src/circuit/controlled.ts';
import { makeCircuit } from '../../src/circuit/ir.ts';
import { CircuitError } from '../../src/errors.ts';
import { unitary } from '../../src/sim/simulate.ts';

const matches = (i: number, cs: readonly Control[]) => cs.every((c) => ((i >> c.wire) & 1) === c.value);

/** The dense N×N operator of a controlled RY(t) / sign, from the definition. */
function dense(
  n: number,
  op: { kind: 'ry'; target: number; t: number; controls: Control[] } | { kind: 'sign'; controls: Control[] },
) {
  const dim = 2 ** n;
  const m = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) m[i * dim + i] = 1;
  if (op.kind === 'sign') {
    for (let i = 0; i < dim; i++) if (matches(i, op.controls)) m[i * dim + i] = -1;
    return m;
  }
  const bit = 1 << op.target;
  const c = Math.cos(op.t / 2);
  const s = Math.sin(op.t / 2);
  for (let i = 0; i < dim; i++) {
    if (i & bit || !matches(i, op.controls)) continue;
    const j = i | bit;
    m[i * dim + i] = c;
    m[i * dim + j] = -s;
    m[j * dim + i] = s;
    m[j * dim + j] = c;
  }
  return m;
}

const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('lowerControlled', () => {
  const cases: [number, number, Control[]][] = [
    [2, 0, []],
    [2, 1, [{ wire: 0, value: 1 }]],
    [3, 0, [{ wire: 2, value: 0 }]],
    [
      3,
      1,
      [
        { wire: 0, value: 1 },
        { wire: 2, value: 0 },
      ],
    ],
    [
      4,
      3,
      [
        { wire: 0, value: 0 },
        { wire: 1, value: 1 },
        { wire: 2, value: 0 },
      ],
    ],
    [
      5,
      2,
      [
        { wire: 0, value: 1 },
        { wire: 1, value: 1 },
        { wire: 3, value: 0 },
        { wire: 4, value: 1 },
      ],
    ],
  ];
  for (const [n, target, controls] of cases) {
    it(`RY on wire ${target} with ${controls.length} control(s) on ${n} qubits is the dense operator`, () => {
      const t = 1.234;
      const gates = lowerControlled({ kind: 'ry', target, angle: t, controls }, n);
      expect(gates.length).toBe(controls.length ? 2 * 2 ** controls.length : 1);
      expect(gates.every((g) => g.name === 'ry' || g.name === 'cx')).toBe(true);
      const u = unitary(makeCircuit({ qubits: n, gates })).data;
      expect(diff(u, dense(n, { kind: 'ry', target, t, controls }))).toBeLessThan(1e-14);
    });
  }

  for (const controls of [
    [{ wire: 1, value: 0 }],
    [
      { wire: 0, value: 1 },
      { wire: 2, value: 0 },
    ],
    [
      { wire: 0, value: 1 },
      { wire: 1, value: 0 },
      { wire: 3, value: 1 },
    ],
  ] as Control[][]) {
    it(`a sign flip on ${controls.length} control(s) is the dense diagonal`, () => {
      const u = unitary(
        makeCircuit({ qubits: 4, gates: lowerControlled({ kind: 'sign', controls }, 4) }),
      ).data;
      expect(diff(u, dense(4, { kind: 'sign', controls }))).toBeLessThan(1e-14);
    });
  }

  it('refuses a three-wire sign flip on three qubits (no spare wire) and bad wires', () => {
    const controls: Control[] = [0, 1, 2].map((wire) => ({ wire, value: 1 }));
    expect(() => lowerControlled({ kind: 'sign', controls }, 3)).toThrow(CircuitError);
    expect(() => lowerControlled({ kind: 'sign', controls }, 3)).toThrow(/needs a spare wire/);
    expect(() =>
      lowerControlled({ kind: 'ry', target: 0, angle: 1, controls: [{ wire: 0, value: 1 }] }, 2),
    ).toThrow(/distinct integers/);
  });
});

describe('simplifyControls', () => {
  it('drops controls that cannot matter on the subspace and keeps the operator on it', () => {
    // V = {0, 1, 3} on two wires (a qutrit in Gray order: 00, 01, 11); rotating levels 0 ↔ 1 (wire 0)
    // needs the control wire1 = 0 because 10 ∉ V but 11 ∈ V
    const inV = (i: number) => i !== 2;
    const op = { kind: 'ry' as const, target: 0, angle: 0.7, controls: [{ wire: 1, value: 0 as const }] };
    expect(simplifyControls(op, inV, 2).controls).toEqual([{ wire: 1, value: 0 }]);
    // on V = {0, 1} the same control is a don't care
    expect(simplifyControls(op, (i) => i < 2, 2).controls).toEqual([]);
    // a sign on V = [0, 12) of 4 wires: controls 3 = 1, 2 = 0, 1 = 1, 0 = 1 (state 11): wire 2 is free there
    const sign = {
      kind: 'sign' as const,
      controls: [3, 2, 1, 0].map((wire) => ({ wire, value: (wire === 2 ? 0 : 1) as 0 | 1 })),
    };
    const s = simplifyControls(sign, (i) => i < 12, 4);
    expect(s.controls.map((c) => c.wire)).toEqual([0, 1, 3]);
    const full = dense(4, { kind: 'sign', controls: [...sign.controls] });
    const red = dense(4, { kind: 'sign', controls: [...s.controls] });
    for (let i = 0; i < 12; i++) expect(red[i * 16 + i]).toBe(full[i * 16 + i]);
  });
});
