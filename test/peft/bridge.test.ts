import { beforeAll, describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  cz,
  h,
  makeCircuit,
  param,
  rx,
  ry,
  simplifiedTwoDesign,
} from '../../src/circuit/index.ts';
import { UnsupportedGateError } from '../../src/errors.ts';
import { vjp } from '../../src/sim/adjoint.ts';
import { columns } from '../../src/sim/simulate.ts';
import { applyCircuit, circuitColumns } from '../../src/sim/tf/bridge.ts';
import { tfColumns } from '../../src/sim/tf/ops-path.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { maxDiff, randn } from './helpers.ts';

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});

/** ⟨G, U_K(θ)⟩ in float64 from the reference kernels. */
function objective(
  circuit: ReturnType<typeof simplifiedTwoDesign>,
  theta: Float64Array,
  g: Float64Array,
  k: number,
): number {
  const u = columns(circuit, theta, k, { dtype: 'float64' });
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * u.data[i]!;
  return s;
}

describe('circuitColumns (kernel bridge)', () => {
  const cases = [
    { name: 'two-design n=4 L=2 K=3', circuit: simplifiedTwoDesign(4, 2), k: 3 },
    { name: 'alternating n=5 L=1 K=8', circuit: alternatingRyCz(5, 1), k: 8 },
    {
      name: 'hand circuit with h, scaled and offset parameters',
      circuit: makeCircuit({
        qubits: 3,
        gates: [ry(0, param('a', 2, 0.3)), h(1), cz(0, 1), ry(2, param('b', -0.5)), ry(1, param('a'))],
      }),
      k: 2,
    },
  ];
  for (const { name, circuit, k } of cases) {
    it(`${name}: value equals the float64 kernels and the gradient equals vjp and finite differences`, () => {
      const n = 2 ** circuit.qubits;
      const theta = uniformAngles(circuit.params.length, 7);
      const gData = randn(n, k, 3);
      const g = Float64Array.from(gData.dataSync());
      const th = tf.tensor1d(Float32Array.from(theta));
      const theta32 = Float64Array.from(th.dataSync()); // the angles the op actually sees
      const value = circuitColumns(circuit, th, k);
      expect(value.shape).toEqual([n, k]);
      expect(value.dtype).toBe('float32');
      expect(maxDiff(value, columns(circuit, theta32, k).data)).toBeLessThan(1e-6);
      const grad = tf.grad((t: tf.Tensor) =>
        circuitColumns(circuit, t as tf.Tensor1D, k)
          .mul(gData)
          .sum(),
      )(th);
      const ref = vjp(circuit, theta32, { rows: n, cols: k, data: g }, { dtype: 'float64' }).grad;
      expect(maxDiff(grad, ref)).toBeLessThan(1e-5);
      // central finite differences of the float64 objective
      const eps = 1e-6;
      const fd = theta32.map((_, i) => {
        const p = theta32.slice();
        const m = theta32.slice();
        p[i]! += eps;
        m[i]! -= eps;
        return (objective(circuit, p, g, k) - objective(circuit, m, g, k)) / (2 * eps);
      });
      expect(maxDiff(grad, fd)).toBeLessThan(2e-5);
      tf.dispose([gData, th, value, grad]);
    });
  }

  it('agrees with the tfjs-ops path in value and gradient', () => {
    const circuit = simplifiedTwoDesign(5, 2);
    const th = tf.tensor1d(Float32Array.from(uniformAngles(circuit.params.length, 11)));
    const g = randn(32, 4, 5);
    const a = circuitColumns(circuit, th, 4);
    const b = tfColumns(circuit, th, 4);
    expect(maxDiff(a, b)).toBeLessThan(1e-5);
    const ga = tf.grad((t: tf.Tensor) =>
      circuitColumns(circuit, t as tf.Tensor1D, 4)
        .mul(g)
        .sum(),
    )(th);
    const gb = tf.grad((t: tf.Tensor) =>
      tfColumns(circuit, t as tf.Tensor1D, 4)
        .mul(g)
        .sum(),
    )(th);
    expect(maxDiff(ga, gb)).toBeLessThan(1e-4);
    tf.dispose([th, g, a, b, ga, gb]);
  });

  it('refuses complex gates and bad shapes with typed errors', () => {
    const c = makeCircuit({ qubits: 2, gates: [ry(0, param('a')), rx(1, param('b'))] });
    const th = tf.tensor1d([0.1, 0.2]);
    expect(() => circuitColumns(c, th, 2)).toThrow(UnsupportedGateError);
    const ok = simplifiedTwoDesign(2, 1);
    expect(() => circuitColumns(ok, th, 2)).toThrow(
      /theta must be a 1-D tensor of 4 angles.*got shape \[2\]/,
    );
    expect(() => circuitColumns(ok, tf.tensor1d([0, 0, 0, 0]), 5)).toThrow(
      /columns K must be an integer in 1..4/,
    );
    th.dispose();
  });

  it('does not leak tensors across forward and backward passes', () => {
    const circuit = simplifiedTwoDesign(4, 1);
    const v = tf.variable(tf.tensor1d(Float32Array.from(uniformAngles(circuit.params.length, 2))));
    const run = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () =>
            circuitColumns(circuit, v as unknown as tf.Tensor1D, 2)
              .square()
              .sum()
              .neg() as tf.Scalar,
          [v],
        );
        v.assign(v.sub(grads[v.name]!.mul(0.01)));
      });
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});

describe('applyCircuit', () => {
  it('is U·X with gradients UᵀG (input) and the adjoint θ-gradient, checked by finite differences', () => {
    const circuit = simplifiedTwoDesign(3, 1);
    const theta = uniformAngles(circuit.params.length, 4);
    const th = tf.tensor1d(Float32Array.from(theta));
    const t64 = Float64Array.from(th.dataSync());
    const x = randn(8, 3, 9);
    const g = randn(8, 3, 10);
    const y = applyCircuit(circuit, th, x);
    const u = columns(circuit, t64, 8).data; // full U, row-major
    const xd = x.dataSync();
    const ref = new Float64Array(24);
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 3; j++)
        for (let r = 0; r < 8; r++) ref[i * 3 + j]! += u[i * 8 + r]! * xd[r * 3 + j]!;
    expect(maxDiff(y, ref)).toBeLessThan(1e-6);
    const [gt, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      applyCircuit(circuit, a as tf.Tensor1D, b as tf.Tensor2D)
        .mul(g)
        .sum(),
    )([th, x]);
    // d/dX ⟨G, UX⟩ = UᵀG
    const gd = g.dataSync();
    const refX = new Float64Array(24);
    for (let r = 0; r < 8; r++)
      for (let j = 0; j < 3; j++)
        for (let i = 0; i < 8; i++) refX[r * 3 + j]! += u[i * 8 + r]! * gd[i * 3 + j]!;
    expect(maxDiff(gx!, refX)).toBeLessThan(1e-5);
    const f = (t: Float64Array) => {
      const uu = columns(circuit, t, 8).data;
      let s = 0;
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 3; j++)
          for (let r = 0; r < 8; r++) s += gd[i * 3 + j]! * uu[i * 8 + r]! * xd[r * 3 + j]!;
      return s;
    };
    const fd = t64.map((_, i) => {
      const p = t64.slice();
      const m = t64.slice();
      p[i]! += 1e-6;
      m[i]! -= 1e-6;
      return (f(p) - f(m)) / 2e-6;
    });
    expect(maxDiff(gt!, fd)).toBeLessThan(2e-5);
    tf.dispose([th, x, g, y, gt!, gx!]);
  });
});
