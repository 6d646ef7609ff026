import { describe, expect, it } from 'vitest';
import { type Circuit, cx, cz, h, makeCircuit, param, ry } from '../../src/circuit/ir.ts';
import { alternatingRyCz, simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { expectationAndGradient, vjp, vjpStates } from '../../src/sim/adjoint.ts';
import { parameterShiftExpectation, parameterShiftGradient } from '../../src/sim/parameter-shift.ts';
import { applyToStates, columns } from '../../src/sim/simulate.ts';
import type { Matrix } from '../../src/util/matrix.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';
import { maxDiff, randomRealCircuit } from '../helpers/reference.ts';

function randomUpstream(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => rng.normal()) };
}

/** ⟨G, U_K(θ)⟩ by the forward simulator. */
function objective(c: Circuit, theta: Float64Array, g: Matrix): number {
  const u = columns(c, theta, g.cols).data;
  let s = 0;
  for (let i = 0; i < u.length; i++) s += g.data[i]! * u[i]!;
  return s;
}

/** Central differences with Richardson extrapolation (error O(h⁴)). */
function finiteDifferences(c: Circuit, theta: Float64Array, g: Matrix): Float64Array {
  const f = (t: Float64Array) => objective(c, t, g);
  return theta.map((_, p) => {
    const d = (h: number) => {
      const a = theta.slice();
      const b = theta.slice();
      a[p]! += h;
      b[p]! -= h;
      return (f(a) - f(b)) / (2 * h);
    };
    const h = 1e-3;
    return (4 * d(h / 2) - d(h)) / 3;
  });
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

const cases: [string, Circuit][] = [
  ['two-design n=4 L=2', simplifiedTwoDesign(4, 2)],
  ['two-design n=6 L=3', simplifiedTwoDesign(6, 3)],
  ['alternating n=5 L=2', alternatingRyCz(5, 2)],
  ['random real circuit n=4', randomRealCircuit(4, 30, 11).circuit],
  // a parameter used twice, with scales and offsets, between non-symmetric-looking gates
  [
    'shared affine parameters',
    makeCircuit({
      qubits: 3,
      gates: [
        ry(0, param('a', 2, 0.3)),
        h(1),
        cx(0, 2),
        ry(2, param('a', -0.5)),
        cz(1, 2),
        ry(1, param('b', 1, -1)),
      ],
    }),
  ],
];

describe('adjoint VJP = finite differences = parameter shift', () => {
  for (const [name, c] of cases) {
    it(name, () => {
      const th = uniformAngles(c.params.length, 42);
      for (const k of [1, 3, 2 ** c.qubits]) {
        const g = randomUpstream(2 ** c.qubits, k, k);
        const { value, grad } = vjp(c, th, g);
        expect(maxDiff(value.data, columns(c, th, k).data)).toBeLessThanOrEqual(1e-14);
        expect(relErr(grad, finiteDifferences(c, th, g))).toBeLessThanOrEqual(1e-7);
        expect(maxDiff(grad, parameterShiftGradient(c, th, g))).toBeLessThanOrEqual(1e-10);
        // starting the backward pass from given forward columns (the tf bridge's path) changes nothing
        const fromForward = vjp(c, th, g, { forward: columns(c, th, k) }).grad;
        expect(maxDiff(fromForward, parameterShiftGradient(c, th, g))).toBeLessThanOrEqual(1e-10);
      }
    });
  }
  it('refuses forward columns of the wrong shape', () => {
    const c = simplifiedTwoDesign(3, 1);
    const th = uniformAngles(c.params.length, 3);
    const g = randomUpstream(8, 2, 1);
    expect(() => vjp(c, th, g, { forward: columns(c, th, 3) })).toThrow(
      /forward columns must be 8×2, got 8×3/,
    );
  });
  it('float32 work buffers give the same gradient to float32 accuracy', () => {
    const c = simplifiedTwoDesign(8, 2);
    const th = uniformAngles(c.params.length, 1);
    const g = randomUpstream(256, 8, 2);
    const g32: Matrix = { rows: 256, cols: 8, data: Float32Array.from(g.data) };
    expect(relErr(vjp(c, th, g32).grad, vjp(c, th, g).grad)).toBeLessThanOrEqual(1e-5);
  });
  it('the hardware rule ±π/2 on expectation values equals the adjoint expectation gradient', () => {
    const c = simplifiedTwoDesign(4, 3);
    const th = uniformAngles(c.params.length, 8);
    // H = Z on wire 0 ⊗ Z on wire 3 (a global-ish cost) plus a local Z on wire 1
    const diag = Float64Array.from(
      { length: 16 },
      (_, i) => (1 - 2 * (i & 1)) * (1 - 2 * ((i >> 3) & 1)) + 0.5 * (1 - 2 * ((i >> 1) & 1)),
    );
    const { value, grad } = expectationAndGradient(c, th, diag);
    const psi = Array.from(columns(c, th, 1).data);
    expect(value).toBeCloseTo(
      psi.reduce((s: number, v: number, i: number) => s + diag[i]! * v * v, 0),
      14,
    );
    expect(maxDiff(grad, parameterShiftExpectation(c, th, diag))).toBeLessThanOrEqual(1e-10);
  });
  it('vjpStates on arbitrary input states: the input gradient is UᵀG', () => {
    const c = simplifiedTwoDesign(3, 2);
    const th = uniformAngles(c.params.length, 3);
    const states = randomUpstream(8, 2, 5);
    const g = randomUpstream(8, 2, 6);
    const r = vjpStates(c, th, states, g);
    const u = columns(c, th).data; // full 8×8
    const expected = new Float64Array(16);
    for (let j = 0; j < 8; j++)
      for (let b = 0; b < 2; b++)
        for (let i = 0; i < 8; i++) expected[j * 2 + b]! += u[i * 8 + j]! * g.data[i * 2 + b]!;
    expect(maxDiff(r.inputGrad.data, expected)).toBeLessThanOrEqual(1e-13);
    // starting from the given forward value UΨ₀ (the tf bridge's path): the same UᵀG and the same
    // θ-gradient as central differences of ⟨G, U(θ)Ψ₀⟩
    const forward = { rows: 8, cols: 2, data: applyToStates(c, th, states.data.slice(), 2) };
    const f = vjpStates(c, th, states, g, { forward });
    expect(maxDiff(f.inputGrad.data, expected)).toBeLessThanOrEqual(1e-13);
    const h = 1e-6;
    const loss = (t: Float64Array) => {
      const out = applyToStates(c, t, states.data.slice(), 2);
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i]! * g.data[i]!;
      return s;
    };
    const fd = Array.from(th, (_, i) => {
      const p = Float64Array.from(th);
      const m = Float64Array.from(th);
      p[i]! += h;
      m[i]! -= h;
      return (loss(p) - loss(m)) / (2 * h);
    });
    expect(maxDiff(f.grad, fd)).toBeLessThanOrEqual(1e-7);
    expect(() =>
      vjpStates(c, th, states, g, { forward: { rows: 8, cols: 3, data: new Float64Array(24) } }),
    ).toThrow(/forward value must be 8×2, got 8×3/);
  });
});
