import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alternatingRyCz,
  type Circuit,
  cx,
  cz,
  type Gate,
  h,
  makeCircuit,
  param,
  rx,
  ry,
  simplifiedTwoDesign,
  swap,
  x,
  z,
} from '../../src/circuit/index.ts';
import { InputError, UnsupportedGateError } from '../../src/errors.ts';
import { columns, vjp } from '../../src/sim/index.ts';
import { tfColumns, tfColumnsBatch } from '../../src/sim/tf/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';

/** A random circuit over every real gate, with shared, scaled and offset parameters and constant angles. */
function randomRealCircuit(n: number, gates: number, seed: number): Circuit {
  const gen = createRng(seed);
  const rng = () => gen.next();
  const wire = () => Math.floor(rng() * n);
  const pair = (): [number, number] => {
    const a = wire();
    const b = (a + 1 + Math.floor(rng() * (n - 1))) % n;
    return [a, b];
  };
  const list: Gate[] = [];
  for (let g = 0; g < gates; g++) {
    const r = rng();
    if (r < 0.45) {
      const kind = rng();
      const angle =
        kind < 0.2
          ? rng() * 6 - 3
          : param(`p${Math.floor(rng() * 6)}`, kind < 0.5 ? -1.5 : 1, kind < 0.5 ? 0.4 : 0);
      list.push(ry(wire(), angle));
    } else if (r < 0.6) list.push(cz(...pair()));
    else if (r < 0.7) list.push(cx(...pair()));
    else if (r < 0.78) list.push(swap(...pair()));
    else if (r < 0.86) list.push(x(wire()));
    else if (r < 0.93) list.push(z(wire()));
    else list.push(h(wire()));
  }
  return makeCircuit({ qubits: n, gates: list });
}

function randomAngles(count: number, seed: number): Float64Array {
  const gen = createRng(seed);
  return Float64Array.from({ length: count }, () => (gen.next() * 2 - 1) * Math.PI);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

/** Gradient of ⟨G, U_K(θ)⟩ through the ops path by tfjs autodiff. */
function opsGradient(
  c: Circuit,
  theta: Float64Array,
  g: Float64Array,
  k: number,
): { value: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const gt = tf.tensor2d(Float32Array.from(g), [2 ** c.qubits, k]);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tfColumns(c, t as tf.Tensor1D, k), gt));
    const grad = tf
      .grad(f)(tf.tensor1d(Float32Array.from(theta)))
      .dataSync() as Float32Array;
    const value = tfColumns(c, tf.tensor1d(Float32Array.from(theta)), k).dataSync() as Float32Array;
    return { value, grad };
  });
}

const cases: { name: string; circuit: Circuit; k: number }[] = [
  { name: 'simplifiedTwoDesign(5, 2), K = 3', circuit: simplifiedTwoDesign(5, 2), k: 3 },
  { name: 'simplifiedTwoDesign(4, 3), K = 16 (full matrix)', circuit: simplifiedTwoDesign(4, 3), k: 16 },
  { name: 'alternatingRyCz(6, 1), K = 8', circuit: alternatingRyCz(6, 1), k: 8 },
  { name: 'simplifiedTwoDesign(1, 2), K = 2', circuit: simplifiedTwoDesign(1, 2), k: 2 },
  { name: 'random real circuit n = 4 (every real gate)', circuit: randomRealCircuit(4, 40, 11), k: 5 },
  { name: 'random real circuit n = 5 (every real gate)', circuit: randomRealCircuit(5, 60, 12), k: 4 },
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tfjs ops path on ${backend}`, () => {
    let previous: string;
    beforeAll(async () => {
      previous = tf.getBackend();
      expect(await initBackend(backend)).toBe(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const { name, circuit, k } of cases) {
      it(`${name}: columns equal the float64 kernels and the gradient equals the adjoint VJP`, () => {
        const theta = randomAngles(circuit.params.length, 3);
        const dim = 2 ** circuit.qubits;
        const g = randomAngles(dim * k, 4);
        const { value, grad } = opsGradient(circuit, theta, g, k);
        expect(maxAbsDiff(value, columns(circuit, theta, k).data)).toBeLessThan(1e-5);
        const ref = vjp(circuit, theta, { rows: dim, cols: k, data: g }).grad;
        const scale = Math.max(1, ...Array.from(ref, Math.abs));
        expect(maxAbsDiff(grad, ref) / scale).toBeLessThan(1e-4);
      });
    }

    it('a batch of parameter sets equals one call per set, values and gradients', () => {
      const c = randomRealCircuit(4, 30, 21);
      const S = 4;
      const k = 3;
      const dim = 16;
      const P = c.params.length;
      const thetas = Array.from({ length: S }, (_, s) => randomAngles(P, 100 + s));
      const g = randomAngles(S * dim * k, 7);
      const batched = tf.tidy(() => {
        const gt = tf.tensor3d(Float32Array.from(g), [S, dim, k]);
        const th = tf.tensor2d(Float32Array.from(thetas.flatMap((t) => Array.from(t))), [S, P]);
        const u = tfColumnsBatch(c, th, k).dataSync() as Float32Array;
        const dth = tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(tfColumnsBatch(c, t as tf.Tensor2D, k), gt)))(th)
          .dataSync() as Float32Array;
        return { u, dth };
      });
      expect(batched.u.length).toBe(S * dim * k);
      thetas.forEach((theta, s) => {
        const gs = g.subarray(s * dim * k, (s + 1) * dim * k);
        const one = opsGradient(c, theta, gs, k);
        expect(maxAbsDiff(batched.u.subarray(s * dim * k, (s + 1) * dim * k), one.value)).toBeLessThan(1e-6);
        expect(maxAbsDiff(batched.dth.subarray(s * P, (s + 1) * P), one.grad)).toBeLessThan(1e-5);
        expect(maxAbsDiff(one.value, columns(c, theta, k).data)).toBeLessThan(1e-5);
      });
    });

    it('a circuit without parameters and one starting with non-rotations broadcast to the batch', () => {
      const c = makeCircuit({ qubits: 3, gates: [h(0), cx(0, 2), ry(1, 0.3), z(2)] });
      const u = tf.tidy(() => tfColumnsBatch(c, tf.zeros([2, 0]) as tf.Tensor2D, 8).arraySync());
      expect(u.length).toBe(2);
      const ref = columns(c, undefined, 8).data;
      for (const m of u) expect(maxAbsDiff(m.flat(), ref)).toBeLessThan(1e-6);
    });

    it('does not leak tensors across calls, forward or with gradients', () => {
      const c = simplifiedTwoDesign(4, 2);
      const th = tf.tensor1d(Float32Array.from(randomAngles(c.params.length, 5)));
      const ths = tf.tensor2d(Float32Array.from(randomAngles(3 * c.params.length, 6)), [3, c.params.length]);
      const run = () => {
        tfColumns(c, th, 4).dispose();
        tfColumnsBatch(c, ths, 4).dispose();
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor2D) => tf.sum(tfColumnsBatch(c, t, 4)))(ths);
        tf.dispose([value, grad]);
        tf.grad((t: tf.Tensor) => tf.sum(tfColumns(c, t as tf.Tensor1D, 4)))(th).dispose();
      };
      run();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) run();
      expect(tf.memory().numTensors).toBe(before);
      th.dispose();
      ths.dispose();
    });

    it('refuses complex gates and bad shapes with typed errors', () => {
      const complex = makeCircuit({ qubits: 2, gates: [ry(0, param('a')), rx(1, 0.2)] });
      const th = tf.tensor1d([0.1]);
      expect(() => tfColumns(complex, th, 2)).toThrow(UnsupportedGateError);
      expect(() => tfColumns(complex, th, 2)).toThrow(/rx/);
      const c = simplifiedTwoDesign(3, 1);
      const P = c.params.length;
      const good = tf.zeros([P]) as tf.Tensor1D;
      expect(() => tfColumns(c, good, 0)).toThrow(InputError);
      expect(() => tfColumns(c, good, 9)).toThrow(/1\.\.8/);
      expect(() => tfColumns(c, th, 2)).toThrow(new RegExp(`\\[S, ${P}\\].*got shape \\[1, 1\\]`));
      expect(() => tfColumns(c, tf.zeros([P], 'int32') as tf.Tensor1D, 2)).toThrow(/float32, got int32/);
      expect(() => tfColumnsBatch(c, tf.zeros([0, P]) as tf.Tensor2D, 2)).toThrow(InputError);
      tf.dispose([th, good]);
    });
  });
}
