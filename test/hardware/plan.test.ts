/** Measurement plans: settings, programs that re-simulate to the IR's distributions, sign references. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindParameters, makeCircuit } from '../../src/circuit/ir.ts';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import {
  buildPlan,
  columnSettings,
  measurementCircuit,
  readPlan,
  templateFactor,
  writePlan,
} from '../../src/hardware/index.ts';
import { optimizeIbm } from '../../src/hardware/optimize.ts';
import { parseQasm } from '../../src/qasm/lower.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { uniformAngles } from '../../src/util/random.ts';
import { referenceMatrix, referenceState } from '../helpers/reference.ts';
import { cleanup, referenceColumns, tmp } from './helpers.ts';

afterAll(cleanup);

const src = { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 4 } as const;

/** Outcome probabilities of a program's first column (it starts in |0…0⟩), via the complex simulator. */
function probabilities(text: string): Float64Array {
  const c = parseQasm(text);
  const m = simulateComplex(c, new Float64Array(0), 1);
  return Float64Array.from({ length: m.re.length }, (_, j) => m.re[j]! ** 2 + m.im[j]! ** 2);
}

/** quantum-circuit's outcome probabilities of the IR measured program. */
function referenceProbabilities(plan: ReturnType<typeof buildPlan>['plan'], i: number): Float64Array {
  const c = plan.circuits[i]!;
  const f = plan.factors.find((x) => x.id === c.circuit)!;
  const m = referenceState(measurementCircuit(makeCircuit(f.circuit), c.prepared, c.setting));
  return Float64Array.from({ length: m.dim }, (_, j) => m.re[j]! ** 2 + m.im[j]! ** 2);
}

describe('buildPlan', () => {
  it('n + 1 settings per column, ids and files as documented, plan.json round trip', () => {
    const f = templateFactor('simplified-two-design', 3, 2, 4, 2);
    const { plan, programs } = buildPlan(src, [f], [], { shots: 123 });
    expect(plan.circuits.map((c) => c.id)).toEqual([
      'template.c0.z',
      'template.c0.w0',
      'template.c0.w1',
      'template.c0.w2',
      'template.c1.z',
      'template.c1.w0',
      'template.c1.w1',
      'template.c1.w2',
    ]);
    expect(plan.circuits.every((c) => c.shots === 123 && programs.has(c.file))).toBe(true);
    const dir = tmp();
    writePlan(dir, plan, programs);
    expect(readPlan(dir)).toEqual(JSON.parse(JSON.stringify(plan)));
    const text = readFileSync(path.join(dir, plan.circuits[1]!.file), 'utf8');
    expect(text).toContain('bit[3] c;');
    expect(text).toContain('c = measure q;');
    expect(text).toMatch(/ry\(-pi\/2\) q\[0\];\s*barrier q;/);
  });

  it('OpenQASM 2 programs measure with measure q -> c', () => {
    const { programs } = buildPlan(src, [templateFactor('simplified-two-design', 3, 1, 0, 1)], [], {
      qasmVersion: 2,
    });
    const t = [...programs.values()][0]!;
    expect(t).toContain('creg c[3];');
    expect(t).toContain('measure q -> c;');
  });

  for (const basis of ['native', 'ibm', 'u-cx'] as const) {
    it(`${basis}: every program re-simulates to quantum-circuit's distribution of the measured IR`, () => {
      const f = templateFactor('simplified-two-design', 3, 2, 4, 2);
      const { plan, programs } = buildPlan(src, [f], [], { basis });
      plan.circuits.forEach((c, i) => {
        const got = probabilities(programs.get(c.file)!);
        const want = referenceProbabilities(plan, i);
        for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-12);
      });
    });
  }

  it('a wire setting reads the sign of neighbouring amplitudes: p(j) − p(j ⊕ 2^w) = 2·U_j·U_{j⊕2^w}', () => {
    const f = templateFactor('simplified-two-design', 3, 2, 4, 1);
    const { plan } = buildPlan(src, [f], []);
    const u = referenceColumns(makeCircuit(f.circuit), 1);
    for (let w = 0; w < 3; w++) {
      const p = referenceProbabilities(plan, 1 + w);
      for (let j = 0; j < 8; j++) {
        if ((j >> w) & 1) continue;
        const jj = j | (1 << w);
        expect(p[j]! - p[jj]!).toBeCloseTo(2 * u[j]! * u[jj]!, 12);
      }
    }
  });

  it('sign references: the largest entry of each column and its sign (quantum-circuit reference)', () => {
    const f = templateFactor('simplified-two-design', 4, 1, 9, 3);
    const u = referenceColumns(makeCircuit(f.circuit), 3);
    for (const s of f.signs) {
      let best = 0;
      for (let i = 0; i < 16; i++)
        if (Math.abs(u[i * 3 + s.column]!) > Math.abs(u[best * 3 + s.column]!)) best = i;
      expect(s.index).toBe(best);
      expect(s.sign).toBe(Math.sign(u[best * 3 + s.column]!));
    }
    expect(f.theta).toEqual(Array.from(uniformAngles(simplifiedTwoDesign(4, 1).params.length, 9)));
  });
});

describe('optimizeIbm', () => {
  it('fewer than 4 gates per RY, and the same outcome distribution as native (re-simulated)', () => {
    for (const [n, l] of [
      [2, 1],
      [3, 3],
      [5, 2],
    ] as const) {
      const c = simplifiedTwoDesign(n, l);
      const bound = bindParameters(c, uniformAngles(c.params.length, n + l));
      const meas = (col: number, s: 'z' | number) => measurementCircuit(bound, col, s);
      for (const [col, s] of [
        [0, 'z'],
        [1, 0],
        [2 ** n - 1, n - 1],
      ] as const) {
        const m = meas(col, s);
        const opt = optimizeIbm(m);
        const rys = m.gates.filter((g) => g.name === 'ry').length;
        const oneQubit = opt.stats.total - opt.stats.twoQubit - (opt.stats.counts.x ?? 0);
        expect(oneQubit / rys).toBeLessThan(4);
        expect(oneQubit / rys).toBeLessThanOrEqual(3);
        const got = probabilities(opt.qasm(3));
        const ref = referenceState(m);
        for (let j = 0; j < ref.dim; j++) {
          expect(Math.abs(got[j]! - (ref.re[j]! ** 2 + ref.im[j]! ** 2))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('without the measurement-only passes the program equals native up to a global phase', () => {
    // A state that is not a basis state on any wire at either end: RY layers before and after, so the
    // dropped leading/trailing rz are the only freedom; compare amplitudes up to one phase.
    const c = simplifiedTwoDesign(3, 2);
    const bound = bindParameters(c, uniformAngles(c.params.length, 3));
    const opt = optimizeIbm(bound);
    const a = simulateComplex(parseQasm(opt.qasm(3)), new Float64Array(0), 8);
    const b = referenceMatrix(bound);
    // a = D1·U·D0·phase with D0, D1 diagonal unimodular: |a_ij| = |U_ij| for every entry
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++)
        expect(Math.hypot(a.re[i * 8 + j]!, a.im[i * 8 + j]!)).toBeCloseTo(
          Math.hypot(b.re[i * 8 + j]!, b.im[i * 8 + j]!),
          12,
        );
  });
});

describe('columnSettings', () => {
  it('z then every wire', () => {
    expect(columnSettings(3)).toEqual(['z', 0, 1, 2]);
  });
});
