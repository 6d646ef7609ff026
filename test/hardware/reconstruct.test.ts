/** Counts formats and their bit orders, bad counts, reconstruction, and the rebuilt adapter. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCircuit, x } from '../../src/circuit/ir.ts';
import { CountsError } from '../../src/errors.ts';
import {
  adapterFactors,
  buildPlan,
  countsToJson,
  keyToIndex,
  polarFactor,
  readCounts,
  reconstruct,
  templateFactor,
  writePlan,
  writeReconstructedAdapter,
} from '../../src/hardware/index.ts';
import { PeftModel } from '../../src/peft/model.ts';
import { loadPeftModel, saveAdapter } from '../../src/peft/serialize.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';
import { referenceMatrix } from '../helpers/reference.ts';
import { randn, Tiny } from '../peft/helpers.ts';
import { cli } from '../qasm/helpers.ts';
import { cleanup, exactCounts, referenceColumns, tmp } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(cleanup);

const src = { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 4 } as const;

describe('bit orders', () => {
  it('the program X on wire 0 of 3 qubits reads "001" in Qiskit order, "100" in Braket order, 0x1 as hex', () => {
    // |q2 q1 q0⟩ = |0 0 1⟩ is basis index 1 (wire 0 = least significant bit; quantum-circuit agrees)
    const m = referenceMatrix(makeCircuit({ qubits: 3, gates: [x(0)] }));
    expect(m.re[1 * 8]).toBe(1);
    expect(keyToIndex('001', 3, 'qiskit', 'c')).toBe(1);
    expect(keyToIndex('0x1', 3, 'qiskit', 'c')).toBe(1);
    expect(keyToIndex('100', 3, 'braket', 'c')).toBe(1);
    // a two-wire pattern: wires 0 and 2 set is index 5 in both orders, wire 1 alone is index 2
    expect(keyToIndex('011', 3, 'qiskit', 'c')).toBe(3);
    expect(keyToIndex('110', 3, 'braket', 'c')).toBe(3);
    expect(keyToIndex('0x6', 3, 'qiskit', 'c')).toBe(6);
  });
  it('countsToJson writes the key of each order', () => {
    const { plan } = buildPlan(src, [templateFactor('simplified-two-design', 3, 1, 0, 1)], []);
    const h = new Map(plan.circuits.map((c) => [c.id, new Map([[1, 7]])]));
    expect(countsToJson(plan, h, 'qiskit')['template.c0.z']).toEqual({ '001': 7 });
    expect(countsToJson(plan, h, 'braket')['template.c0.z']).toEqual({ '100': 7 });
  });
  it('reconstruct gives the same columns from Qiskit keys, hex keys and Braket keys of the same counts', () => {
    const f = templateFactor('simplified-two-design', 3, 2, 4, 2);
    const { plan, programs } = buildPlan(src, [f], []);
    const dir = tmp();
    writePlan(dir, plan, programs);
    const counts = exactCounts(plan);
    const q = path.join(dir, 'q.json');
    const b = path.join(dir, 'b.json');
    const hx = path.join(dir, 'h.json');
    writeFileSync(q, JSON.stringify(countsToJson(plan, counts, 'qiskit')));
    writeFileSync(b, JSON.stringify(countsToJson(plan, counts, 'braket')));
    const hex: Record<string, Record<string, number>> = {};
    for (const [id, h] of counts)
      hex[id] = Object.fromEntries([...h].map(([i, n]) => [`0x${i.toString(16)}`, n]));
    writeFileSync(hx, JSON.stringify(hex));
    const a = reconstruct(plan, readCounts(plan, [q])).factors[0]!.estimate;
    expect(reconstruct(plan, readCounts(plan, [b], 'braket')).factors[0]!.estimate).toEqual(a);
    expect(reconstruct(plan, readCounts(plan, [hx])).factors[0]!.estimate).toEqual(a);
    // and the Braket file read as Qiskit order gives different (wrong) columns: the order matters
    const wrong = reconstruct(plan, readCounts(plan, [b], 'qiskit')).factors[0]!.estimate;
    expect(Math.max(...a.map((v, i) => Math.abs(v - wrong[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe('bad counts', () => {
  const f = templateFactor('simplified-two-design', 3, 1, 2, 1);
  const { plan, programs } = buildPlan(src, [f], []);
  const good = () => countsToJson(plan, exactCounts(plan));
  const cases: [string, (c: Record<string, Record<string, number>>) => unknown, RegExp, string | null][] = [
    [
      'a missing circuit',
      (c) => delete c['template.c0.w1'],
      /no counts for 1 plan circuit\(s\): template\.c0\.w1/,
      'template.c0.w1',
    ],
    [
      'an unknown id',
      (c) => (c['template.c9.z'] = { '000': 1 }),
      /"template\.c9\.z" is not in the plan/,
      'template.c9.z',
    ],
    [
      'a wrong width',
      (c) => (c['template.c0.z'] = { '0000': 5 }),
      /circuit template\.c0\.z: bit string "0000" has 4 bits; the circuit measures 3/,
      'template.c0.z',
    ],
    [
      'a negative count',
      (c) => (c['template.c0.w0']!['000'] = -1),
      /circuit template\.c0\.w0: count of "000" must be a non-negative integer, got -1/,
      'template.c0.w0',
    ],
    [
      'a non-integer count',
      (c) => (c['template.c0.w2'] = { '001': 2.5 }),
      /template\.c0\.w2: count of "001" must be a non-negative integer, got 2\.5/,
      'template.c0.w2',
    ],
    [
      'zero shots',
      (c) => (c['template.c0.z'] = { '000': 0 }),
      /circuit template\.c0\.z has zero shots/,
      'template.c0.z',
    ],
    [
      'a bad key',
      (c) => (c['template.c0.z'] = { '0x2z': 1 }),
      /count key "0x2z" is not a bit string or 0x hex/,
      'template.c0.z',
    ],
    [
      'a hex key out of range',
      (c) => (c['template.c0.z'] = { '0x8': 1 }),
      /hex key "0x8" is 8, beyond the 3-bit range 0\.\.7/,
      'template.c0.z',
    ],
  ];
  for (const [what, edit, message, circuit] of cases) {
    it(`${what}: a CountsError naming the circuit, and the CLI writes nothing`, async () => {
      const dir = tmp();
      writePlan(path.join(dir, 'plan'), plan, programs);
      const c = good();
      edit(c);
      const file = path.join(dir, 'counts.json');
      writeFileSync(file, JSON.stringify(c));
      let err: unknown;
      try {
        readCounts(plan, [file]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CountsError);
      expect((err as CountsError).message).toMatch(message);
      expect((err as CountsError).circuit).toBe(circuit);
      const r = await cli(
        'hardware',
        'reconstruct',
        '--plan',
        path.join(dir, 'plan'),
        '--counts',
        file,
        '--json',
      );
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }
  it('the same circuit in two files is refused', () => {
    const dir = tmp();
    const a = path.join(dir, 'a.json');
    writeFileSync(a, JSON.stringify(good()));
    expect(() => readCounts(plan, [a, a])).toThrow(/template\.c0\.z has counts in more than one file/);
  });
});

describe('reconstruction', () => {
  it('exact probabilities give P exactly: quantum-circuit counts in, quantum-circuit columns out', () => {
    for (const [n, l, k, seed] of [
      [3, 2, 3, 4],
      [4, 1, 2, 7],
      [5, 3, 4, 1],
    ] as const) {
      const f = templateFactor('simplified-two-design', n, l, seed, k);
      const { plan } = buildPlan({ ...src, qubits: n, layers: l, seed }, [f], []);
      const r = reconstruct(plan, exactCounts(plan)).factors[0]!;
      const ref = referenceColumns(makeCircuit(f.circuit), k);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(r.estimate[i]! - ref[i]!)).toBeLessThan(1e-5);
      expect(r.fidelity).toBeGreaterThan(1 - 1e-9);
      expect(r.rawOrthonormalityError).toBeLessThan(1e-5);
    }
  });
  it('signs come from the tree: flipping the plan sign reference flips the whole column', () => {
    const f = templateFactor('simplified-two-design', 3, 2, 4, 1);
    const flipped = { ...f, signs: f.signs.map((s) => ({ ...s, sign: -s.sign as 1 | -1 })) };
    const { plan } = buildPlan(src, [flipped], []);
    const r = reconstruct(plan, exactCounts(plan)).factors[0]!;
    expect(r.columnOverlaps[0]).toBeCloseTo(-1, 5);
  });
  it('polarFactor: orthonormal columns Û with ÛᵀV symmetric positive definite (the polar decomposition V = ÛH)', () => {
    const rng = createRng(3);
    const rows = 16;
    const k = 4;
    const v = Float64Array.from({ length: rows * k }, () => rng.normal());
    const u = polarFactor(v, rows, k);
    const g = (a: Float64Array, b: Float64Array, i: number, j: number) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += a[r * k + i]! * b[r * k + j]!;
      return s;
    };
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        expect(g(u, u, i, j)).toBeCloseTo(i === j ? 1 : 0, 10);
        expect(g(u, v, i, j)).toBeCloseTo(g(u, v, j, i), 10);
      }
      expect(g(u, v, i, i)).toBeGreaterThan(0);
    }
    // nearest: no other orthonormal frame from a small rotation of Û is closer to V
    const dist = (w: Float64Array) => Math.hypot(...w.map((x, i) => x - v[i]!));
    const d0 = dist(u);
    for (let t = 0; t < 5; t++) {
      const c = Math.cos(0.05);
      const s = Math.sin(0.05);
      const w = Float64Array.from(u);
      for (let r = 0; r < rows; r++) {
        const a = w[r * k + (t % k)]!;
        const b = w[r * k + ((t + 1) % k)]!;
        w[r * k + (t % k)] = c * a - s * b;
        w[r * k + ((t + 1) % k)] = s * a + c * b;
      }
      expect(dist(w)).toBeGreaterThan(d0);
    }
  });
  it('linearly dependent raw columns are refused with a CountsError', () => {
    const v = new Float64Array([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(() => polarFactor(v, 4, 2)).toThrow(CountsError);
  });
});

describe('adapter round trip', () => {
  it('plan → exact counts → reconstruct --out → loadPeftModel reproduces the adapted model', async () => {
    const model = new Tiny(16, 8, 3);
    const peft = new PeftModel(model, {
      method: 'quantum-peft',
      rank: 2,
      layers: 1,
      alpha: 2,
      angleInit: 'uniform',
      targetModules: ['q', 'head'],
      seed: 5,
    });
    const rng = createRng(11);
    for (const [, layer] of peft.adapterLayers('default')) {
      const lam = (layer as unknown as { lambda: tf.Variable }).lambda;
      lam.assign(tf.tensor1d([rng.normal(), rng.normal()]));
    }
    const dir = tmp();
    saveAdapter(peft, path.join(dir, 'adapter'));
    const xIn = randn(4, 16, 9);
    const want = Float32Array.from(model.forward(xIn).dataSync());
    const a = adapterFactors(path.join(dir, 'adapter'));
    expect(a.factors.map((f) => f.id)).toEqual([
      'layers.0.q.P',
      'layers.0.q.Q',
      'layers.1.q.P',
      'layers.1.q.Q',
      'head.P',
      'head.Q',
    ]);
    const { plan, programs } = buildPlan({ kind: 'adapter', dir, config: a.config }, a.factors, a.layers);
    writePlan(path.join(dir, 'plan'), plan, programs);
    writeFileSync(path.join(dir, 'counts.json'), JSON.stringify(countsToJson(plan, exactCounts(plan))));
    const r = await cli(
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
    expect(r.out).toMatch(/head: ‖ΔŴ − ΔW‖_F = .*relative/);
    const fresh = new Tiny(16, 8, 3);
    loadPeftModel(fresh, path.join(dir, 'rebuilt'));
    const got = fresh.forward(xIn).dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
    const report = JSON.parse(readFileSync(path.join(dir, 'rebuilt', 'hardware-report.json'), 'utf8'));
    for (const l of report.layers) expect(l.relativeError).toBeLessThan(1e-5);
    // the base model without adapter differs: the check above is not vacuous
    const base = new Tiny(16, 8, 3).forward(xIn).dataSync();
    expect(Math.max(...Array.from(base, (b, i) => Math.abs(b - want[i]!)))).toBeGreaterThan(1e-2);
    // writeReconstructedAdapter refuses template plans
    const t = buildPlan(src, [templateFactor('simplified-two-design', 3, 1, 0, 1)], []);
    expect(() => writeReconstructedAdapter(tmp(), t.plan, reconstruct(t.plan, exactCounts(t.plan)))).toThrow(
      /must come from an adapter/,
    );
  });
  it('a non-quantum adapter is refused', () => {
    const peft = new PeftModel(new Tiny(16, 8, 3), { method: 'lora', r: 2, targetModules: ['head'] });
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    saveAdapter(peft, dir);
    expect(() => adapterFactors(dir)).toThrow(/need a quantum-peft adapter/);
    expect(existsSync(path.join(dir, 'plan.json'))).toBe(false);
  });
});
