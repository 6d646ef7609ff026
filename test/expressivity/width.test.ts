/**
 * Expressivity of adapter factors of any width (`--width`): the rank of the factor's Jacobian against one
 * taken by finite differences of the float64 block-wise factor, the reference law of the d-dimensional
 * subspace, and the CLI.
 */
import { describe, expect, it } from 'vitest';
import { expressibility, expressibilityOfFidelities } from '../../src/expressivity/expressibility.ts';
import { computeRow, DEFAULT_SETTINGS } from '../../src/expressivity/index.ts';
import { numericalRank, singularValues } from '../../src/expressivity/linalg.ts';
import { factorMatrix } from '../../src/peft/factor.ts';
import { widthFactor, widthSweepTask } from '../../src/peft/width-factor.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { cli } from '../qasm/helpers.ts';

const FAST = { ...DEFAULT_SETTINGS, samples: 150, reachTargets: 0, rankPoints: 1 };

describe('expressivity of factors of any width', () => {
  for (const [d, form] of [
    [24, 'mixed-radix'],
    [24, 'direct-sum'],
  ] as const) {
    it(`${form} d = ${d}: the effective dimension is the rank of a finite-difference Jacobian of P`, () => {
      const row = computeRow(widthSweepTask(d, 2, form), { ...FAST, columns: 2, seed: 3 });
      const f = widthFactor(d, 2, { form });
      expect(row.params).toBe(f.count);
      expect(row.manifoldDimension).toBe(d * 2 - 3);
      expect(row.circuit).toBe(`${form} d=${d}`);
      expect(row.reachability).toBeNull();
      // an independent Jacobian: central differences of the block-wise float64 factor at random θ
      const theta = uniformAngles(f.count, 11);
      const h = 1e-5;
      const jac = new Float64Array(d * 2 * f.count);
      for (let p = 0; p < f.count; p++) {
        const up = theta.slice();
        const dn = theta.slice();
        up[p]! += h;
        dn[p]! -= h;
        const a = factorMatrix(f.plan, up, 2).data;
        const b = factorMatrix(f.plan, dn, 2).data;
        for (let i = 0; i < d * 2; i++) jac[i * f.count + p] = (a[i]! - b[i]!) / (2 * h);
      }
      const rank = numericalRank(singularValues({ rows: d * 2, cols: f.count, data: jac }), 1e-6);
      expect(row.effectiveDimension).toBe(rank);
      expect(row.redundancy).toBe(f.count - rank);
    });
  }

  it('measures fidelities against the real-state law of R^d, not of the register', () => {
    const f = widthFactor(24, 1);
    const e = expressibility(f.circuit, { samples: 300, seed: 2, dimension: 24 });
    expect(e.kl).toBeCloseTo(expressibilityOfFidelities(e.fidelities, 24), 12);
    expect(e.kl).not.toBeCloseTo(expressibilityOfFidelities(e.fidelities, 32), 3);
    expect(() => expressibility(f.circuit, { samples: 10, dimension: 33 })).toThrow(
      /dimension must be an integer in 2\.\.32/,
    );
    expect(() => widthSweepTask(24, 1, 'qudit' as never)).toThrow(
      /form must be one of auto, mixed-radix, direct-sum/,
    );
  });

  it('qpeft expressivity --width lists one row per width and depth; bad flags are refused', async () => {
    const r = await cli(
      'expressivity',
      '--width',
      '12,16',
      '--layers',
      '1',
      '--samples',
      '50',
      '--workers',
      '0',
      '--json',
    );
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out);
    expect(
      rows.map((x: { circuit: string; manifoldDimension: number }) => [x.circuit, x.manifoldDimension]),
    ).toEqual([
      ['mixed-radix d=12', 11],
      ['power-of-two d=16', 15],
    ]);
    const bad = await cli('expressivity', '--width', '12', '--qubits', '4', '--layers', '1');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/do not combine it with --qubits/);
    const k = await cli('expressivity', '--width', '12', '--layers', '1', '--columns', '9', '--workers', '0');
    expect(k.code).not.toBe(0);
    expect(k.err).toMatch(/use K ≤ 8/);
    expect(rows.map((x: { layers: number }) => x.layers)).toEqual([1, 1]);
  });
});
