/**
 * Mixed-radix factors (circuit/templates/mixed-radix.ts, peft/factor.ts) and one-circuit export of every
 * factor form: the closed-form count, an independent dense construction in the factor's row space,
 * orthonormality at the widths of real models, gradients against finite differences, the float32 tfjs paths,
 * and the exported OpenQASM 3 / 2 read back by qpeft's importer and by quantum-circuit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { gateStats } from '../../src/circuit/ir.ts';
import {
  mixedRadixCircuit,
  mixedRadixParamCount,
  mixedRadixRowBasis,
  quditTwoDesign,
} from '../../src/circuit/templates/mixed-radix.ts';
import { quantumCircuitClass } from '../../src/interop/quantum-circuit.ts';
import {
  type FactorForm,
  factorCircuit,
  factorColumns,
  factorMatrix,
  factorParamCount,
  planFactor,
  resolveFactorForm,
} from '../../src/peft/factor.ts';
import { directSumParamCount, twoDesignParamCount } from '../../src/peft/param-counts.ts';
import { exportQasm, parseQasm } from '../../src/qasm/index.ts';
import { subspaceColumns } from '../../src/sim/simulate.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import type { Matrix } from '../../src/util/matrix.ts';
import { uniformAngles } from '../../src/util/random.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const gray = (l: number) => l ^ (l >> 1);

/**
 * P = O·I_{d,K} built densely in the factor's row space (row l·2^a + j = level l, low index j), gate by gate
 * in the documented order: RY on the low wires, the qudit's neighbour-level rotations G_l (an RY on the pair
 * of levels, the level whose Gray code has 0 at the differing bit first), CZ between low wires, and CZ
 * between the top qubit and the qudit's lowest Gray bit. No circuit and no simulator is involved.
 */
function denseMixedRadix(d: number, layers: number, theta: Float64Array, k: number): Float64Array {
  let m = d;
  let a = 0;
  while (m % 2 === 0) {
    m /= 2;
    a++;
  }
  const B = 2 ** a;
  const x = new Float64Array(d * k);
  for (let c = 0; c < k; c++) x[c * k + c] = 1;
  let next = 0;
  const rot = (r0: number, r1: number, t: number) => {
    const c = Math.cos(t / 2);
    const s = Math.sin(t / 2);
    for (let col = 0; col < k; col++) {
      const u = x[r0 * k + col]!;
      const v = x[r1 * k + col]!;
      x[r0 * k + col] = c * u - s * v;
      x[r1 * k + col] = s * u + c * v;
    }
  };
  const negate = (pred: (l: number, j: number) => boolean) => {
    for (let r = 0; r < d; r++)
      if (pred(Math.floor(r / B), r % B)) for (let col = 0; col < k; col++) x[r * k + col] = -x[r * k + col]!;
  };
  const ryLow = (w: number) => {
    const t = theta[next++]!;
    for (let r = 0; r < d; r++) if (!((r % B) & (1 << w))) rot(r, r + (1 << w), t);
  };
  const qudit = () => {
    for (let l = 0; l + 1 < m; l++) {
      const t = theta[next++]!;
      const bit = gray(l) ^ gray(l + 1);
      const [first, second] = gray(l) & bit ? [l + 1, l] : [l, l + 1];
      for (let j = 0; j < B; j++) rot(first * B + j, second * B + j, t);
    }
  };
  for (let w = 0; w < a; w++) ryLow(w);
  qudit();
  for (let layer = 0; layer < layers; layer++) {
    if (a === 0) qudit();
    for (const start of [0, 1]) {
      for (let s = start; s + 1 <= a; s += 2) {
        if (s + 1 < a) {
          negate((_, j) => ((j >> s) & 1) === 1 && ((j >> (s + 1)) & 1) === 1);
          ryLow(s);
          ryLow(s + 1);
        } else {
          negate((l, j) => ((j >> s) & 1) === 1 && (gray(l) & 1) === 1);
          ryLow(s);
          qudit();
        }
      }
    }
  }
  expect(next).toBe(theta.length);
  return x;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |PᵀP − I| in float64. */
function orthogonality(p: Matrix): number {
  const { rows: d, cols: k, data } = p;
  const g = new Float64Array(k * k);
  for (let r = 0; r < d; r++) {
    const o = r * k;
    for (let i = 0; i < k; i++) {
      const v = data[o + i]!;
      if (v === 0) continue;
      for (let j = i; j < k; j++) g[i * k + j]! += v * data[o + j]!;
    }
  }
  let e = 0;
  for (let i = 0; i < k; i++)
    for (let j = i; j < k; j++) e = Math.max(e, Math.abs(g[i * k + j]! - (i === j ? 1 : 0)));
  return e;
}

const plan = (d: number, layers: number, form: FactorForm) =>
  planFactor(d, { template: 'simplified-two-design', layers, form });

describe('mixed-radix template', () => {
  it('has the closed-form parameter count; d = 768 at L = 2 costs 44 (≤ 50; the direct sum 119)', () => {
    for (const d of [3, 5, 6, 7, 10, 12, 24, 96, 768, 1000, 1280, 2304, 3072, 11008, 14336])
      for (const L of [0, 1, 2, 4])
        expect(mixedRadixCircuit(d, L).params.length).toBe(mixedRadixParamCount(d, L));
    expect(mixedRadixParamCount(768, 2)).toBe(44);
    expect(directSumParamCount(768, (n) => twoDesignParamCount(n, 2))).toBe(119);
    // powers of two are the plain two-design
    expect(mixedRadixParamCount(1024, 2)).toBe(twoDesignParamCount(10, 2));
  });

  it('with a 2-level "qudit" is gate for gate the simplified two-design on one more qubit', () => {
    for (const [a, L] of [
      [1, 1],
      [3, 2],
      [4, 0],
    ] as const)
      expect(quditTwoDesign(a, 2, L)).toEqual(simplifiedTwoDesign(a + 1, L));
  });

  it('maps rows to Gray-ordered levels and lives on ⌈log₂d⌉ qubits', () => {
    expect(Array.from(mixedRadixRowBasis(6))).toEqual([0, 1, 2, 3, 6, 7]);
    expect(Array.from(mixedRadixRowBasis(5))).toEqual([0, 1, 3, 2, 6]);
    for (const d of [3, 10, 96, 768, 1280, 3072, 11008]) {
      expect(mixedRadixCircuit(d, 1).qubits).toBe(Math.ceil(Math.log2(d)));
    }
  });

  for (const [d, L, k] of [
    [3, 2, 3],
    [5, 1, 5],
    [6, 2, 6],
    [10, 2, 10],
    [12, 1, 12],
    [96, 2, 96],
    [768, 2, 300],
    [1280, 1, 20],
    [2304, 2, 8],
    [11008, 1, 4],
  ] as const) {
    it(`equals the dense construction for d = ${d}, L = ${L}, K = ${k}`, () => {
      const c = mixedRadixCircuit(d, L);
      const theta = uniformAngles(c.params.length, d + L);
      const p = subspaceColumns(c, theta, mixedRadixRowBasis(d), k);
      expect(maxAbsDiff(p.data, denseMixedRadix(d, L, theta, k))).toBeLessThan(1e-12);
    });
  }
});

describe('factor forms', () => {
  it('auto picks the cheaper form by closed-form count', () => {
    const t = (d: number, L: number) => resolveFactorForm(d, 'simplified-two-design', L, 'auto');
    expect(t(768, 2)).toBe('mixed-radix');
    expect(t(3072, 2)).toBe('mixed-radix');
    expect(t(11008, 2)).toBe('mixed-radix');
    expect(t(1000, 2)).toBe('direct-sum'); // 385 vs 326
    expect(t(1024, 2)).toBe('power-of-two');
    expect(t(7, 2)).toBe('mixed-radix'); // direct sums only above 8
    expect(factorParamCount(1000, 'simplified-two-design', 2, 'auto')).toBe(326);
    expect(factorParamCount(768, 'simplified-two-design', 2, 'auto')).toBe(44);
    expect(() => resolveFactorForm(768, 'simplified-two-design', 2, 'qudit' as FactorForm)).toThrow(
      /factor form must be one of auto, mixed-radix, direct-sum, got "qudit"/,
    );
  });

  // K up to d: full width where it is cheap, a few columns (across the first 2^a-row block) for the big ones
  for (const [d, k] of [
    [3, 3],
    [6, 6],
    [10, 10],
    [96, 96],
    [768, 768],
    [1000, 500],
    [1280, 300],
    [2304, 257],
    [3072, 40],
    [11008, 3],
  ] as const) {
    it(`P is orthonormal to 1e-12 at d = ${d}, K = ${k} (auto form, L = 2)`, () => {
      const { plan: pl, count } = plan(d, 2, 'auto');
      const p = factorMatrix(pl, uniformAngles(count, d), k);
      expect(orthogonality(p)).toBeLessThan(1e-12);
    });
  }

  for (const [d, k] of [
    [6, 5],
    [24, 11],
  ] as const) {
    it(`gradients equal finite differences (kernel path, d = ${d}, K = ${k} spans two level blocks)`, () => {
      const { plan: pl, count } = plan(d, 2, 'mixed-radix');
      const theta = uniformAngles(count, 7);
      const weights = uniformAngles(d * k, 8);
      const f = (th: Float64Array) => {
        const p = factorMatrix(pl, th, k).data;
        let s = 0;
        for (let i = 0; i < p.length; i++) s += p[i]! * weights[i]!;
        return s;
      };
      const g = tf.tidy(() =>
        tf
          .grad((th: tf.Tensor) =>
            factorColumns(pl, th as tf.Tensor1D, k, 'kernel')
              .mul(tf.tensor2d(Float32Array.from(weights), [d, k]))
              .sum(),
          )(tf.tensor1d(Float32Array.from(theta)))
          .dataSync(),
      );
      const h = 1e-6;
      for (let i = 0; i < count; i++) {
        const up = theta.slice();
        const dn = theta.slice();
        up[i]! += h;
        dn[i]! -= h;
        expect(Math.abs(g[i]! - (f(up) - f(dn)) / (2 * h))).toBeLessThan(1e-4);
      }
    });
  }

  it('the tfjs paths (kernel and ops) are within float32 tolerance of float64', () => {
    for (const [d, k] of [
      [12, 7],
      [96, 40],
    ] as const) {
      const { plan: pl, count } = plan(d, 2, 'mixed-radix');
      const theta = uniformAngles(count, 3);
      const want = factorMatrix(pl, theta, k).data;
      const before = tf.memory().numTensors;
      for (const path of ['kernel', 'ops'] as const) {
        const got = tf.tidy(() =>
          factorColumns(pl, tf.tensor1d(Float32Array.from(theta)), k, path).dataSync(),
        );
        expect(maxAbsDiff(got, want)).toBeLessThan(2e-6);
      }
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('one-circuit export', () => {
  const roundTrip = (d: number, form: FactorForm, k: number, L = 2) => {
    const { plan: pl, count } = plan(d, L, form);
    const theta = uniformAngles(count, d + 1);
    const want = factorMatrix(pl, theta, k).data;
    const { circuit, rowBasis } = factorCircuit(pl);
    expect(circuit.qubits).toBe(Math.ceil(Math.log2(d)));
    expect(circuit.params.length).toBe(count);
    const out: Record<string, string> = {};
    for (const version of [3, 2] as const) {
      const text = exportQasm(circuit, { version, bindings: theta });
      out[version] = text;
      const back = parseQasm(text);
      expect(back.qubits).toBe(circuit.qubits);
      expect(maxAbsDiff(subspaceColumns(back, undefined, rowBasis, k).data, want)).toBeLessThan(1e-12);
    }
    return { text2: out[2]!, rowBasis, want, circuit };
  };

  for (const [d, form, k] of [
    [768, 'mixed-radix', 4],
    [768, 'direct-sum', 4],
    [1000, 'direct-sum', 9],
    [3072, 'mixed-radix', 2],
    [10, 'direct-sum', 10],
    [7, 'direct-sum', 7],
  ] as const) {
    it(`${form} d = ${d}: OpenQASM 3 and 2 on ⌈log₂d⌉ qubits simulate to P (1e-12), mixing angle included`, () => {
      roundTrip(d, form, k);
    });
  }

  it('the direct sum’s program uses every angle, φ included (the old export lost it)', () => {
    const { plan: pl, count } = plan(768, 2, 'direct-sum');
    const { circuit } = factorCircuit(pl);
    const used = new Set(
      circuit.gates.flatMap((g) => ('angle' in g && typeof g.angle === 'object' ? [g.angle.param] : [])),
    );
    expect(used.size).toBe(count);
    expect(gateStats(circuit).counts.ry).toBeGreaterThan(count);
  });

  for (const [d, form] of [
    [12, 'mixed-radix'],
    [24, 'mixed-radix'],
    [12, 'direct-sum'],
    [24, 'direct-sum'],
  ] as const) {
    it(`quantum-circuit reads the OpenQASM 2 of a ${d}-wide ${form} factor and agrees`, () => {
      const { text2, rowBasis, want } = roundTrip(d, form, d, 1);
      const QC = quantumCircuitClass();
      const qc = new QC();
      let errors: unknown[] = [];
      qc.importQASM(text2, (e) => {
        errors = e;
      });
      expect(errors).toEqual([]);
      const m = qc.circuitMatrix('little');
      const got = new Float64Array(d * d);
      for (let r = 0; r < d; r++)
        for (let c = 0; c < d; c++) {
          const v = m[rowBasis[r]!]![rowBasis[c]!]!;
          got[r * d + c] = typeof v === 'number' ? v : v.re;
        }
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-12);
    });
  }
});
