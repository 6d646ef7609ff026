/**
 * Factors whose width is not a power of two (mixed radix and direct sums, peft/factor.ts) through the hardware
 * round trip: plan → counts (exact from quantum-circuit running the exported programs, or sampled) →
 * reconstruct, against P read from quantum-circuit's matrix of the factor circuit on rows given by a row map
 * written here from the documented rule (not the code's `rowBasis`), and an adapter with such widths through
 * `loadPeftModel`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCircuit } from '../../src/circuit/ir.ts';
import { InputError } from '../../src/errors.ts';
import {
  adapterFactors,
  buildPlan,
  countsToJson,
  type Histogram,
  type MeasurementPlan,
  readPlan,
  reconstruct,
  simulatePlan,
  widthPlanFactor,
  writePlan,
} from '../../src/hardware/index.ts';
import { PeftModel } from '../../src/peft/model.ts';
import { loadPeftModel, saveAdapter } from '../../src/peft/serialize.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';
import { quantumCircuitState, referenceMatrix } from '../helpers/reference.ts';
import { randn, Tiny } from '../peft/helpers.ts';
import { cli, qcImport } from '../qasm/helpers.ts';
import { cleanup, exactCounts, tmp } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(cleanup);

const gray = (l: number) => l ^ (l >> 1);

/**
 * The register basis state of row r, from docs/method.md §3 and the mixed-radix file comment: a direct sum
 * uses the first d basis states; mixed radix d = m·2^a puts level l of the qudit at Gray code gray(l) above
 * the a low wires (row l·2^a + j ↦ gray(l)·2^a + j).
 */
function rowMap(d: number, form: 'mixed-radix' | 'direct-sum'): number[] {
  if (form === 'direct-sum') return Array.from({ length: d }, (_, r) => r);
  let a = 0;
  while ((d >> a) % 2 === 0) a++;
  const low = 2 ** a;
  return Array.from({ length: d }, (_, r) => gray(Math.floor(r / low)) * low + (r % low));
}

/** P (d×K, row-major) from quantum-circuit's matrix of the bound factor circuit on the rows `rows`. */
function referenceP(plan: MeasurementPlan, rows: readonly number[], k: number): Float64Array {
  const m = referenceMatrix(makeCircuit(plan.factors[0]!.circuit));
  const out = new Float64Array(rows.length * k);
  for (let r = 0; r < rows.length; r++)
    for (let c = 0; c < k; c++) out[r * k + c] = m.re[rows[r]! * m.dim + rows[c]!]!;
  return out;
}

/**
 * Counts proportional to the outcome probabilities of each WRITTEN program: its OpenQASM 2 text (final
 * measurement dropped) imported and run from |0…0⟩ by quantum-circuit's state-vector simulator.
 */
function countsFromPrograms(plan: MeasurementPlan, programs: Map<string, string>): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const c of plan.circuits) {
    const text = programs
      .get(c.file)!
      .split('\n')
      .filter((l) => !/^\s*(measure|creg)\b/.test(l))
      .join('\n');
    const m = quantumCircuitState(qcImport(text));
    const h: Histogram = new Map();
    for (let j = 0; j < m.dim; j++) {
      const n = Math.round((m.re[j]! ** 2 + m.im[j]! ** 2) * 2 ** 40);
      if (n > 0) h.set(j, n);
    }
    out.set(c.id, h);
  }
  return out;
}

const frob = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
};

describe('template factors of any width', () => {
  for (const [d, form, k] of [
    [6, 'mixed-radix', 5],
    [12, 'mixed-radix', 5],
    [12, 'direct-sum', 4],
    [10, 'mixed-radix', 3],
  ] as const) {
    it(`d=${d} ${form}, K=${k}: columns prepared on P's rows; the written programs' exact counts give P`, () => {
      const { factor, form: resolved } = widthPlanFactor(d, 2, k, { form, seed: 7 });
      expect(resolved).toBe(form);
      const n = Math.ceil(Math.log2(d));
      expect(factor.qubits).toBe(n);
      const rows = rowMap(d, form);
      const { plan, programs } = buildPlan(
        {
          kind: 'template',
          template: 'simplified-two-design',
          qubits: n,
          layers: 2,
          seed: 7,
          width: d,
          form,
        },
        [factor],
        [],
        { qasmVersion: 2 },
      );
      expect(plan.circuits).toHaveLength(k * (n + 1));
      for (const c of plan.circuits) expect(c.prepared).toBe(rows[c.column]);
      const r = reconstruct(plan, countsFromPrograms(plan, programs));
      const f = r.factors[0]!;
      expect(f.dim).toBe(d);
      expect(f.leakage).toBe(0);
      const want = referenceP(plan, rows, k);
      expect(frob(f.estimate, want)).toBeLessThan(1e-9);
      expect(f.fidelity).toBeCloseTo(1, 12);
    });
  }

  it('sampled counts: ‖P̂ − P‖_F within 2·√(dK/shots); depolarizing noise leaks outside the rows, as counted', async () => {
    const d = 12;
    const k = 5;
    const { factor } = widthPlanFactor(d, 2, k, { form: 'mixed-radix', seed: 3 });
    const { plan } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 4, layers: 2, seed: 3, width: d },
      [factor],
      [],
    );
    const rows = rowMap(d, 'mixed-radix');
    const want = referenceP(plan, rows, k);
    const shots = 200_000;
    const clean = await simulatePlan(plan, { shots, seed: 1, workers: 0 });
    const fc = reconstruct(plan, clean).factors[0]!;
    expect(fc.leakage).toBe(0);
    expect(frob(fc.estimate, want)).toBeLessThan(2 * Math.sqrt((d * k) / shots));
    const noisy = await simulatePlan(plan, {
      shots: 10_000,
      seed: 1,
      workers: 0,
      noise: { p1: 0.005, p2: 0.02, r01: 0.01, r10: 0.01 },
    });
    const fnz = reconstruct(plan, noisy).factors[0]!;
    // leakage counted here from the z histograms, outside the test's row map
    const inRows = new Set(rows);
    let leak = 0;
    for (let c = 0; c < k; c++) {
      const h = noisy.get(`template.c${c}.z`)!;
      let out = 0;
      let tot = 0;
      for (const [i, n] of h) {
        tot += n;
        if (!inRows.has(i)) out += n;
      }
      leak += out / tot / k;
    }
    expect(leak).toBeGreaterThan(0.01);
    expect(fnz.leakage).toBeCloseTo(leak, 12);
    // still K orthonormal columns on d rows, and further from P than the noiseless estimate
    const g = new Float64Array(k * k);
    for (let r = 0; r < d; r++)
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) g[i * k + j]! += fnz.estimate[r * k + i]! * fnz.estimate[r * k + j]!;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) expect(g[i * k + j]).toBeCloseTo(i === j ? 1 : 0, 10);
    expect(frob(fnz.estimate, want)).toBeGreaterThan(frob(fc.estimate, want));
  });

  it('qpeft hardware plan --width: the CLI plan reconstructs to qpeft unitary --width of the same seed', async () => {
    const dir = tmp();
    const plan = path.join(dir, 'plan');
    let r = await cli(
      'hardware',
      'plan',
      '--width',
      '6',
      '--layers',
      '1',
      '--seed',
      '2',
      '--columns',
      '4',
      '--out',
      plan,
    );
    expect(r.code).toBe(0);
    const p = readPlan(plan);
    expect(p.factors[0]!.rowBasis).toEqual(rowMap(6, 'mixed-radix'));
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify(countsToJson(p, exactCounts(p))));
    r = await cli('hardware', 'reconstruct', '--plan', plan, '--counts', path.join(dir, 'c.json'), '--json');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out).circuits[0];
    const u = await cli(
      'unitary',
      '--width',
      '6',
      '--layers',
      '1',
      '--seed',
      '2',
      '--columns',
      '4',
      '--json',
    );
    const want = JSON.parse(u.out);
    expect(got.width).toBe(6);
    expect(got.rowBasis).toEqual(want.rowBasis);
    for (let c = 0; c < 4; c++)
      for (let row = 0; row < 6; row++) expect(got.columns[c][row]).toBeCloseTo(want.matrix[row][c], 9);
  });

  it('a plan.json whose row map is not one a reconstruction can use is refused', () => {
    const { factor } = widthPlanFactor(6, 1, 2, { seed: 1 });
    const { plan, programs } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 1, seed: 1, width: 6 },
      [factor],
      [],
    );
    const cases: [string, (f: Record<string, unknown>) => void, RegExp][] = [
      ['a repeated row', (f) => ((f.rowBasis as number[])[1] = 0), /distinct basis states/],
      ['a row beyond the register', (f) => ((f.rowBasis as number[])[5] = 8), /distinct basis states/],
      // rows 0 and 3 differ in two bits: the tree cannot reach 3 from 0
      ['disconnected rows', (f) => (f.rowBasis = [0, 3]), /not connected on the hypercube/],
      [
        'a sign reference off the rows',
        (f) => ((f.signs as { index: number }[])[0]!.index = 4),
        /not one of the factor's rows/,
      ],
    ];
    for (const [, edit, message] of cases) {
      const dir = tmp();
      writePlan(dir, plan, programs);
      const file = path.join(dir, 'plan.json');
      const json = JSON.parse(readFileSync(file, 'utf8'));
      edit(json.factors[0]);
      writeFileSync(file, JSON.stringify(json));
      expect(() => readPlan(dir)).toThrow(InputError);
      expect(() => readPlan(dir)).toThrow(message);
    }
  });
});

describe('adapters with layer widths that are not powers of two', () => {
  for (const factorForm of ['auto', 'direct-sum'] as const) {
    it(`${factorForm}: plan (CLI) → exact counts → reconstruct --out → loadPeftModel reproduces the model`, async () => {
      // 12-wide blocks and a 12 → 6 head; K = 5 > 4 columns, so some columns are prepared on higher levels
      const model = new Tiny(12, 6, 3);
      const peft = new PeftModel(model, {
        method: 'quantum-peft',
        rank: 5,
        layers: 1,
        alpha: 2,
        angleInit: 'uniform',
        factorForm,
        targetModules: ['q', 'head'],
        seed: 5,
      });
      const rng = createRng(11);
      for (const [, layer] of peft.adapterLayers('default')) {
        const lam = (layer as unknown as { lambda: tf.Variable }).lambda;
        lam.assign(tf.tensor1d(Array.from({ length: 5 }, () => rng.normal())));
      }
      const dir = tmp();
      const adapter = path.join(dir, 'adapter');
      saveAdapter(peft, adapter);
      const xIn = randn(4, 12, 9);
      const want = Float32Array.from(model.forward(xIn).dataSync());
      let r = await cli('hardware', 'plan', '--adapter', adapter, '--out', path.join(dir, 'plan'));
      expect(r.code).toBe(0);
      // a direct-sum adapter is told how much shorter the mixed-radix circuits of its widths are
      if (factorForm === 'direct-sum') {
        expect(r.out).toMatch(
          /width 12: direct-sum factors, \d+ gates .* mixed-radix form of this width has \d+/,
        );
        expect(r.out).toMatch(/width 6: direct-sum factors/);
      }
      const plan = readPlan(path.join(dir, 'plan'));
      expect(plan.factors.map((f) => [f.id, f.dim, f.qubits])).toEqual([
        ['layers.0.q.P', 12, 4],
        ['layers.0.q.Q', 12, 4],
        ['layers.1.q.P', 12, 4],
        ['layers.1.q.Q', 12, 4],
        ['head.P', 12, 4],
        ['head.Q', 6, 3],
      ]);
      // P from quantum-circuit on the documented rows equals the trained layer's own factor (tfjs path)
      const layerP = (
        peft.adapterLayers('default').find(([n]) => n === 'head')![1] as unknown as {
          factors(): [tf.Tensor2D, tf.Tensor2D];
        }
      ).factors();
      const form = factorForm === 'direct-sum' ? 'direct-sum' : 'mixed-radix';
      for (const [i, w] of [
        [4, 12],
        [5, 6],
      ] as const) {
        const f = plan.factors[i]!;
        const m = referenceMatrix(makeCircuit(f.circuit));
        const rows = rowMap(w, form);
        const got = layerP[i - 4]!.dataSync();
        for (let row = 0; row < w; row++)
          for (let c = 0; c < 5; c++)
            expect(Math.abs(got[row * 5 + c]! - m.re[rows[row]! * m.dim + rows[c]!]!)).toBeLessThan(2e-6);
      }
      for (const t of layerP) t.dispose();
      writeFileSync(path.join(dir, 'counts.json'), JSON.stringify(countsToJson(plan, exactCounts(plan))));
      r = await cli(
        'hardware',
        'reconstruct',
        '--plan',
        path.join(dir, 'plan'),
        '--counts',
        path.join(dir, 'counts.json'),
        '--out',
        path.join(dir, 'rebuilt'),
      );
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/head\.Q: 3 qubits \(width 6, leakage 0\.00e\+0\)/);
      const fresh = new Tiny(12, 6, 3);
      loadPeftModel(fresh, path.join(dir, 'rebuilt'));
      const got = fresh.forward(xIn).dataSync();
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
      const base = new Tiny(12, 6, 3).forward(xIn).dataSync();
      expect(Math.max(...Array.from(base, (b, i) => Math.abs(b - want[i]!)))).toBeGreaterThan(1e-2);
      // quantum-circuit builds 150 matrices here (13 s alone on the 2-core machine): room for a loaded suite
    }, 240_000);
  }

  it('an adapter saved without factorForm (before mixed radix) is planned as the direct sums it was trained with', () => {
    const model = new Tiny(12, 6, 3);
    const peft = new PeftModel(model, {
      method: 'quantum-peft',
      rank: 2,
      layers: 1,
      factorForm: 'direct-sum',
      angleInit: 'uniform',
      targetModules: ['head'],
    });
    const dir = tmp();
    saveAdapter(peft, dir);
    const file = path.join(dir, 'adapter_config.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    delete json.config.factorForm;
    writeFileSync(file, JSON.stringify(json));
    const a = adapterFactors(dir);
    // the 12-wide direct sum has 19 angles at L = 1 (2·(t(3) + 1)… see factor.ts); mixed radix would have fewer
    const layer = peft.adapterLayers('default')[0]![1] as unknown as { thetaP: tf.Variable };
    expect(a.factors[0]!.theta).toHaveLength(layer.thetaP.shape[0]!);
    expect(a.factors[0]!.rowBasis).toEqual(rowMap(12, 'direct-sum'));
  });

  it('a 1-wide layer is refused with the reason', () => {
    const peft = new PeftModel(new Tiny(8, 1, 3), {
      method: 'quantum-peft',
      rank: 1,
      layers: 1,
      targetModules: ['head'],
    });
    const dir = tmp();
    saveAdapter(peft, dir);
    expect(() => adapterFactors(dir)).toThrow(/head\.Q: a 1-wide factor is the constant \[1\]/);
  });
});
