// Gradients of mean and sum (src/tf/fast-reductions.ts) against the closed form: ∂/∂x_i of Σ_j r_j·mean(x)_j
// is r_j/n for the output j that x_i is reduced into (r_j for a sum). Checked over axes, keepDims and ranks.
import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/tf/backend.ts';

await initBackend();

/** Closed-form gradient: for each x index, the weight of the output it reduces into (÷ n for a mean). */
function closedForm(shape: number[], axes: number[], r: Float64Array, mean: boolean): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const n = axes.reduce((a, ax) => a * shape[ax]!, 1);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const out = new Float64Array(size);
  for (let flat = 0; flat < size; flat++) {
    // index of x → index of the reduced output (row-major over the kept axes)
    let rem = flat;
    const idx = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    let o = 0;
    for (const k of kept) o = o * shape[k]! + idx[k]!;
    out[flat] = mean ? r[o]! / n : r[o]!;
  }
  return out;
}

describe('mean and sum gradients', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[4, 5], 1, false],
    [[4, 5], 0, true],
    [[4, 5], [0, 1], false],
    [[2, 3, 4], -1, true],
    [[2, 3, 4], [0, 2], false],
    [[3, 1, 2, 5], [1, 3], true],
  ];
  for (const mean of [true, false]) {
    for (const [shape, axis, keepDims] of cases) {
      it(`${mean ? 'mean' : 'sum'} over ${JSON.stringify(axis)} of [${shape}] (keepDims ${keepDims})`, async () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(
          Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1)),
          shape,
        );
        const axes = tf.util.parseAxisParam(axis, shape);
        const outSize = size / axes.reduce((a, ax) => a * shape[ax]!, 1);
        const r = Float64Array.from({ length: outSize }, (_, i) => Math.fround(Math.cos(0.7 * i + 0.3)));
        const f = (t: tf.Tensor) => {
          const y = mean ? tf.mean(t, axis, keepDims) : tf.sum(t, axis, keepDims);
          return tf.sum(tf.mul(y, tf.tensor(Float32Array.from(r), y.shape)));
        };
        const g = tf.tidy(() => tf.grad(f)(x).dataSync());
        const want = closedForm(shape, axes, r, mean);
        for (let i = 0; i < size; i++) expect(g[i]).toBeCloseTo(want[i]!, 6);
        const info = await tf.profile(() => {
          tf.grad(f)(x).dispose();
        });
        expect(info.kernels.map((k) => k.name)).toContain('OnesLike');
        x.dispose();
      });
    }
  }
});
