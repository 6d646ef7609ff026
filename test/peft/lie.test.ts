/**
 * The Lie/Taylor variant against mathjs's float64 matrix exponential of the full d×d skew generator
 * (an independent implementation), and `expm` against mathjs.
 */
import { expm as mathExpm, matrix } from 'mathjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Linear } from '../../src/nn/linear.ts';
import { expm } from '../../src/peft/expm.ts';
import { getMethod } from '../../src/peft/index.ts';
import type { QuantumPeftLieLayer } from '../../src/peft/methods/quantum-peft-lie.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';
import { maxDiff, orthError } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** S = [[A, −Bᵀ], [B, 0]] (d×d) from the layer's variables, in float64. */
function generator(a: Float32Array, b: Float32Array, d: number, k: number): number[][] {
  const s = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  let idx = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      s[i]![j] = a[idx]!;
      s[j]![i] = -a[idx]!;
      idx++;
    }
  }
  for (let r = 0; r < d - k; r++) {
    for (let c = 0; c < k; c++) {
      s[k + r]![c] = b[r * k + c]!;
      s[c]![k + r] = -b[r * k + c]!;
    }
  }
  return s;
}

function taylorRef(s: number[][], order: number, k: number): number[] {
  const d = s.length;
  let term: number[][] = Array.from({ length: d }, (_, i) =>
    Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)),
  );
  const sum = term.map((r) => [...r]);
  for (let j = 1; j <= order; j++) {
    term = s.map((row) =>
      Array.from({ length: k }, (_, c) => row.reduce((acc, v, m) => acc + v * term[m]![c]!, 0) / j),
    );
    for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) sum[i]![c]! += term[i]![c]!;
  }
  return sum.flat();
}

function layerFor(d: number, k: number, extra: Record<string, unknown>, scale: number): QuantumPeftLieLayer {
  const def = getMethod('quantum-peft-lie');
  const cfg = def.normalize({ method: 'quantum-peft-lie', rank: k, targetModules: ['x'], ...extra });
  const layer = def.create(new Linear({ inFeatures: d, outFeatures: d }), cfg, {
    target: 'x',
    seed: 3,
  }) as QuantumPeftLieLayer;
  const rng = createRng(9);
  // non-zero A and a B of chosen size
  layer.p.a.assign(tf.tensor1d(Float32Array.from({ length: layer.p.a.size }, () => rng.normal())));
  layer.p.b.assign(
    tf.tensor2d(
      Float32Array.from({ length: layer.p.b.size }, () => scale * rng.normal()),
      layer.p.b.shape as [number, number],
    ),
  );
  return layer;
}

describe('quantum-peft-lie', () => {
  // ‖B‖ up to about 10 (entries of scale 2 in a 8×4 block): balancing keeps float32 orthogonality.
  for (const [d, k, scale, tol] of [
    [8, 3, 0.3, 3e-6],
    [16, 2, 1, 3e-6],
    [12, 4, 2, 3e-6],
  ] as const) {
    it(`exact form equals exp(S)·I_{d,K} from mathjs (d=${d}, K=${k}, ‖B‖ scale ${scale})`, () => {
      const layer = layerFor(d, k, {}, scale);
      const s = generator(layer.p.a.dataSync() as Float32Array, layer.p.b.dataSync() as Float32Array, d, k);
      const e = (mathExpm(matrix(s)).toArray() as number[][]).flatMap((r) => r.slice(0, k));
      const [p, q] = layer.factors();
      expect(maxDiff(p, e)).toBeLessThan(2e-5);
      expect(orthError(p)).toBeLessThan(tol);
      q.dispose();
      layer.dispose();
    });
  }

  it('truncated Taylor equals Σ Sʲ/j!·I_{d,K} and loses orthogonality at low order', () => {
    for (const order of [2, 4, 12]) {
      const layer = layerFor(12, 3, { form: 'taylor', order }, 0.5);
      const s = generator(layer.p.a.dataSync() as Float32Array, layer.p.b.dataSync() as Float32Array, 12, 3);
      const [p, q] = layer.factors();
      expect(maxDiff(p, taylorRef(s, order, 3))).toBeLessThan(1e-4);
      const err = orthError(p);
      if (order <= 4) expect(err).toBeGreaterThan(1e-2);
      else expect(err).toBeLessThan(1e-3);
      q.dispose();
      layer.dispose();
    }
  });

  it('expm matches mathjs on a non-normal matrix needing squaring', () => {
    const rng = createRng(4);
    const m = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => 1.5 * rng.normal()));
    const ours = expm(tf.tensor2d(m));
    const ref = (mathExpm(matrix(m)).toArray() as number[][]).flat();
    const rel = maxDiff(ours, ref) / Math.max(...ref.map(Math.abs));
    expect(rel).toBeLessThan(1e-5);
    ours.dispose();
  });
});
