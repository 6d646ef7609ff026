/**
 * The fused kernels (gate blocks, sign segments, rows skipped while the basis start is still sparse, one
 * copy per element type) against the plain per-gate kernels (`applyOp`, each pinned against
 * quantum-circuit in reference.test.ts) and central differences through them.
 */
import { describe, expect, it } from 'vitest';
import { type Circuit, cx, cz, h, makeCircuit, param, ry, swap, x, z } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { vjp } from '../../src/sim/adjoint.ts';
import { applyOp, kernelsFor, segments, specialise } from '../../src/sim/kernels.ts';
import { compile, gateAngles } from '../../src/sim/program.ts';
import { basisBatch, columns } from '../../src/sim/simulate.ts';
import { createRng } from '../../src/util/random.ts';
import { maxDiff, randomRealCircuit } from '../helpers/reference.ts';

/** U's first K columns gate by gate, no fusion, no skipped rows. */
function perGateColumns(c: Circuit, theta: ArrayLike<number>, k: number): Float64Array {
  const prog = compile(c);
  const angles = gateAngles(prog, theta);
  const v = basisBatch(prog.dim, k, 'float64') as Float64Array;
  for (let g = 0; g < prog.nGates; g++) applyOp(prog, g, angles[g]!, v, k, false);
  return v;
}

function randomVector(length: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length }, () => rng.normal());
}

/** A circuit whose first gates touch the highest wires (the sparse start grows at once) and mixes blocks. */
const highFirst = makeCircuit({
  qubits: 5,
  gates: [
    ry(4, param('a')),
    cx(4, 0),
    h(3),
    ry(3, param('b', 2, 0.1)),
    cz(1, 2),
    cz(0, 4),
    z(3),
    ry(1, param('c')),
    ry(2, param('d')),
    swap(0, 3),
    x(2),
    ry(0, 0.7),
    cz(2, 3),
    ry(3, param('a', -1, 0)),
    ry(2, param('e')),
    ry(4, param('f')),
  ],
});

describe('fused kernels', () => {
  it('the two-design fuses into one pass per CZ/RY/RY block, with the fused backward pattern', () => {
    const segs = segments(compile(simplifiedTwoDesign(6, 2)));
    // initial RY layer: 3 blocks; each layer: 3 even + 2 odd blocks
    expect(segs.length).toBe(3 + 2 * 5);
    expect(segs.slice(3).every((s) => s.kind === 'block' && s.czFirst && s.ryLo >= 0)).toBe(true);
  });

  it('a CZ ladder becomes one sign segment', () => {
    const c = makeCircuit({ qubits: 4, gates: [ry(0, 0.3), cz(0, 1), cz(1, 2), cz(2, 3), z(1), ry(3, 0.2)] });
    const kinds = segments(compile(c)).map((s) => s.kind);
    expect(kinds).toEqual(['block', 'diag', 'block']);
  });

  for (const k of [1, 3, 5, 8, 32]) {
    it(`first K = ${k} columns equal the per-gate kernels (float64 1e-13, float32 1e-5)`, () => {
      const inputs: [Circuit, ArrayLike<number>][] = [
        [highFirst, randomVector(highFirst.params.length, 1)],
        [simplifiedTwoDesign(5, 2), randomVector(simplifiedTwoDesign(5, 2).params.length, 2)],
      ];
      for (const t of [0, 1, 2]) {
        const r = randomRealCircuit(5, 40, 77 + t);
        inputs.push([r.circuit, r.theta]);
      }
      for (const [c, theta] of inputs) {
        const ref = perGateColumns(c, theta, k);
        expect(maxDiff(columns(c, theta, k).data, ref)).toBeLessThan(1e-13);
        expect(maxDiff(columns(c, theta, k, { dtype: 'float32' }).data, ref)).toBeLessThan(1e-5);
      }
    });
  }

  it('vjp with K < N (sparse forward and backward) equals central differences through the per-gate kernels', () => {
    for (const k of [1, 3, 6]) {
      const theta = randomVector(highFirst.params.length, 10 + k);
      const g = randomVector(32 * k, 20 + k);
      const f = (t: Float64Array) => perGateColumns(highFirst, t, k).reduce((s, u, i) => s + u * g[i]!, 0);
      const fd = theta.map((_, p) => {
        const a = theta.slice();
        const b = theta.slice();
        a[p]! += 1e-5;
        b[p]! -= 1e-5;
        return (f(a) - f(b)) / 2e-5;
      });
      const { value, grad } = vjp(highFirst, theta, { rows: 32, cols: k, data: g });
      expect(maxDiff(value.data, perGateColumns(highFirst, theta, k))).toBeLessThan(1e-13);
      expect(maxDiff(grad, fd)).toBeLessThan(1e-8);
      const g32 = vjp(
        highFirst,
        theta,
        { rows: 32, cols: k, data: Float32Array.from(g) },
        { dtype: 'float32' },
      ).grad;
      expect(maxDiff(g32, grad)).toBeLessThan(1e-4);
    }
  });

  it('specialise returns a working copy of a self-contained kernel, or the kernel itself', () => {
    const scale = (v: Float64Array, s: number) => {
      for (let i = 0; i < v.length; i++) v[i] = s * v[i]!;
    };
    const copy = specialise(scale);
    const v = Float64Array.from([1, 2]);
    copy(v, 3);
    expect(Array.from(v)).toEqual([3, 6]);
    // float32 buffers run their own copies of the kernels
    const k32 = kernelsFor(new Float32Array(1));
    const k64 = kernelsFor(new Float64Array(1));
    expect(k32.apply4).not.toBe(k64.apply4);
    expect(k32.rotY).not.toBe(k64.rotY);
  });
});
