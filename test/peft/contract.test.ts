/**
 * One contract over every (method, config) row: the adapted model starts equal to the base; merged,
 * unmerged and unloaded outputs agree; save → load gives equal outputs; an optimiser step changes only
 * adapter variables; quantum factors stay orthogonal; the trainable count matches the closed form; the
 * tfjs tensor count does not grow across steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { AdapterError } from '../../src/errors.ts';
import { loadPeftModel, PeftModel, saveAdapter } from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { maxDiff, orthError, randn, Tiny, trainStep } from './helpers.ts';

/** Trainable scalars of one d_in × d_out target, written out from the papers' formulas. */
type Count = (dIn: number, dOut: number) => number;

/** Two-design angles on n qubits with L layers: n + 2L(n − 1). */
const td = (n: number, L: number) => n + 2 * L * (n - 1);

/** A hand-written 4-qubit adapter circuit with three `input` angles (one used twice, one scaled). */
const QASM4 = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t0;
input float[64] t1;
input float[64] t2;
qubit[4] q;
ry(t0) q[0];
ry(2*t1) q[1];
cz q[0], q[1];
ry(t2) q[2];
cx q[2], q[3];
ry(t0 + pi/4) q[3];
h q[1];
`;

interface Row {
  name: string;
  config: Record<string, unknown>;
  /** Model dimensions (hidden, head output). */
  dims?: [number, number];
  count: Count;
  /** Orthogonality tolerance for quantum factors (omitted: not a quantum method). */
  orth?: number;
  mergeable?: boolean;
}

const ROWS: Row[] = [
  {
    name: 'quantum-peft two-design L=2 K=4 α=2',
    config: { method: 'quantum-peft', rank: 4, alpha: 2, layers: 2, targetModules: ['q', 'head'] },
    count: (i, o) => td(Math.log2(i), 2) + td(Math.log2(o), 2) + 4,
    orth: 1e-6,
  },
  {
    name: 'quantum-peft alternating-ry-cz L=1 K=2 (tfjs-ops path)',
    config: {
      method: 'quantum-peft',
      rank: 2,
      template: 'alternating-ry-cz',
      layers: 1,
      path: 'ops',
      targetModules: ['v'],
    },
    count: (i, o) => 3 * Math.log2(i) + 3 * Math.log2(o) + 2,
    orth: 1e-6,
  },
  {
    name: 'quantum-peft direct sum 12 → 12, 12 → 10 (K=3)',
    dims: [12, 10],
    config: {
      method: 'quantum-peft',
      rank: 3,
      layers: 1,
      factorForm: 'direct-sum',
      targetModules: ['q', 'head'],
    },
    // 12 = 8 + 4: 2·t(3) + 1 + t(2); 10 = 8 + 2: 2·t(3) + 1 + t(1)
    count: (i, o) => {
      const f = (d: number) => (d === 12 ? 2 * td(3, 1) + 1 + td(2, 1) : 2 * td(3, 1) + 1 + td(1, 1));
      return f(i) + f(o) + 3;
    },
    orth: 1e-6,
  },
  {
    name: 'quantum-peft mixed radix 12 → 12, 12 → 10 (K=3)',
    dims: [12, 10],
    config: { method: 'quantum-peft', rank: 3, layers: 2, targetModules: ['q', 'head'] },
    // 12 = 3·2² (a = 2): a + (m−1) + L(2a−2+m) = 2 + 2 + 2·5; 10 = 5·2 (a = 1): 1 + 4 + 2·5
    count: (i, o) => {
      const f = (d: number) => (d === 12 ? 2 + 2 + 2 * 5 : 1 + 4 + 2 * 5);
      return f(i) + f(o) + 3;
    },
    orth: 1e-6,
  },
  {
    name: 'quantum-peft fixed circuit (IR) on q',
    config: { method: 'quantum-peft', rank: 2, circuit: simplifiedTwoDesign(4, 1), targetModules: ['q'] },
    count: () => 2 * td(4, 1) + 2,
    orth: 1e-6,
  },
  {
    name: 'quantum-peft from an OpenQASM 3 program (input angles are θ)',
    config: { method: 'quantum-peft', rank: 2, qasm: QASM4, targetModules: ['q'] },
    count: () => 3 + 3 + 2,
    orth: 1e-6,
  },
  {
    name: 'quantum-peft-lie exact K=3',
    config: { method: 'quantum-peft-lie', rank: 3, targetModules: ['q', 'head'] },
    count: (i, o) => i * 3 - 6 + o * 3 - 6 + 3,
    orth: 2e-6,
  },
  {
    name: 'quantum-peft-lie taylor order 12 K=2',
    config: {
      method: 'quantum-peft-lie',
      rank: 2,
      form: 'taylor',
      order: 12,
      initStd: 0.05,
      targetModules: ['v'],
    },
    count: (i, o) => i * 2 - 3 + o * 2 - 3 + 2,
    orth: 1e-5,
  },
  {
    name: 'lora r=4 α=8',
    config: { method: 'lora', r: 4, loraAlpha: 8, targetModules: ['q', 'v', 'head'] },
    count: (i, o) => 4 * (i + o),
  },
  {
    name: 'adalora initR=6',
    config: { method: 'adalora', initR: 6, targetR: 3, totalStep: 20, targetModules: /layers\.\d\.q/ },
    count: (i, o) => 6 * (i + o) + 6,
  },
  { name: 'bitfit', config: { method: 'bitfit', targetModules: ['q', 'v', 'head'] }, count: (_i, o) => o },
  {
    name: 'houlsby m=4',
    config: { method: 'houlsby', bottleneck: 4, targetModules: ['v', 'head'] },
    count: (_i, o) => 2 * o * 4 + 4 + o,
    mergeable: false,
  },
  {
    name: 'pfeiffer reduction 4',
    config: { method: 'pfeiffer', reductionFactor: 4, targetModules: ['head'] },
    count: (_i, o) => 2 * o * Math.ceil(o / 4) + Math.ceil(o / 4) + o,
    mergeable: false,
  },
  { name: 'full', config: { method: 'full', targetModules: ['head'] }, count: (i, o) => i * o + o },
  {
    name: 'vera r=8',
    config: { method: 'vera', r: 8, targetModules: ['q', 'head'] },
    count: (_i, o) => 8 + o,
  },
];

const dirs: string[] = [];
beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each(ROWS)('contract: $name', (row) => {
  it('satisfies the adapter contract', () => {
    const [d, out] = row.dims ?? [16, 8];
    const model = new Tiny(d, out);
    const x = randn(6, d, 1);
    const target = randn(6, out, 2);
    const base = model.forward(x);
    const baseParams = model.namedParameters().map(([n, v]) => [n, v.dataSync().slice()] as const);

    const peft = new PeftModel(model, row.config);
    const method = row.config.method as string;

    // output equals the base model's at initialisation
    const y0 = model.forward(x);
    expect(maxDiff(y0, base)).toBeLessThanOrEqual(1e-6);

    // the parameter count matches its formula, target by target
    const expected = peft.adapterLayers().reduce((s, [, l]) => s + row.count(l.inFeatures, l.outFeatures), 0);
    expect(peft.countParameters().trainable).toBe(expected);
    expect(peft.trainableVariables().reduce((s, v) => s + v.size, 0)).toBe(expected);
    expect(peft.trainableParametersReport()).toMatch(
      /^trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/,
    );

    // one optimiser step changes only adapter variables (and changes some of them)
    const opt = tf.train.adam(0.05);
    const adapterVars = new Set(peft.trainableVariables().map((v) => v.name));
    const before = new Map(model.namedParameters().map(([n, v]) => [n, v.dataSync().slice()]));
    const reg = method === 'adalora' ? () => peft.regularizationLoss() : undefined;
    trainStep(() => model.forward(x), peft.trainableVariables(), opt, target, reg);
    let adapterChanged = 0;
    for (const [n, v] of model.namedParameters()) {
      const changed = maxDiff(v.dataSync(), before.get(n)!) > 0;
      if (adapterVars.has(v.name)) adapterChanged += changed ? 1 : 0;
      else expect(changed, `${n} is frozen but changed`).toBe(false);
    }
    expect(adapterChanged).toBeGreaterThan(0);

    // the tfjs tensor count does not grow across steps (no leaks)
    const nt = tf.memory().numTensors;
    for (let i = 0; i < 3; i++)
      trainStep(() => model.forward(x), peft.trainableVariables(), opt, target, reg);
    expect(tf.memory().numTensors).toBe(nt);

    const adapted = model.forward(x);
    expect(maxDiff(adapted, base)).toBeGreaterThan(1e-4);

    // P and Q stay orthogonal (quantum methods)
    if (row.orth !== undefined) {
      for (const [, layer] of peft.adapterLayers()) {
        const fs = layer.orthogonalFactors();
        expect(fs.length).toBe(2);
        for (const f of fs) expect(orthError(f)).toBeLessThan(row.orth);
      }
    }

    // disabling gives the base output back
    expect(
      maxDiff(
        peft.withAdapterDisabled(() => model.forward(x)),
        base,
      ),
    ).toBeLessThanOrEqual(1e-6);

    // save → load on a fresh copy of the base model gives equal outputs
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qpeft-contract-'));
    dirs.push(dir);
    saveAdapter(peft, dir);
    const fresh = new Tiny(d, out);
    const loaded = loadPeftModel(fresh, dir);
    expect(Array.from(fresh.forward(x).dataSync())).toEqual(Array.from(adapted.dataSync()));
    loaded.unload();
    fresh.dispose();

    // merged, unmerged and unloaded outputs agree
    if (row.mergeable === false) {
      expect(() => peft.merge()).toThrow(AdapterError);
      const unloaded = peft.unload();
      expect(maxDiff(unloaded.forward(x), base)).toBeLessThanOrEqual(1e-6);
    } else {
      peft.merge();
      expect(maxDiff(model.forward(x), adapted)).toBeLessThan(1e-5);
      peft.unmerge();
      expect(maxDiff(model.forward(x), adapted)).toBeLessThan(1e-5);
      for (const [n, v] of baseParams) {
        const now = model.namedParameters().find(([m]) => m === n)![1];
        expect(maxDiff(now, v), `${n} after unmerge`).toBeLessThan(1e-6);
      }
      const plain = peft.mergeAndUnload();
      expect(maxDiff(plain.forward(x), adapted)).toBeLessThan(1e-5);
    }
    // nothing of the adapter is left in the module tree
    expect(model.namedParameters().map(([n]) => n)).toEqual(baseParams.map(([n]) => n));
    opt.dispose();
    model.dispose();
  });
});
