/**
 * One contract over every (method, config) row, each property its own test case: the adapted model starts
 * equal to the base; the trainable count matches the closed form written out here (and the registry's);
 * an optimiser step changes only adapter variables; the tfjs tensor count does not grow across steps;
 * quantum factors stay orthogonal; disabling gives the base back; save → load gives equal outputs; merged,
 * unmerged and unloaded outputs agree. Every registered method must have a row (a test fails otherwise).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { AdapterError } from '../../src/errors.ts';
import { getMethod, listMethods, loadPeftModel, PeftModel, saveAdapter } from '../../src/peft/index.ts';
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
    name: 'dora r=4 α=8',
    config: { method: 'dora', r: 4, loraAlpha: 8, targetModules: ['q', 'v', 'head'] },
    // LoRA's r(d_in + d_out) plus one magnitude per output unit
    count: (i, o) => 4 * (i + o) + o,
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

/** A fresh Tiny model wrapped as `row` says, with a seeded input and target and the base model's output. */
function fixture(row: Row) {
  const [d, out] = row.dims ?? [16, 8];
  const model = new Tiny(d, out);
  const x = randn(6, d, 1);
  const target = randn(6, out, 2);
  const base = model.forward(x);
  const baseParams = model.namedParameters().map(([n, v]) => [n, v.dataSync().slice()] as const);
  const peft = new PeftModel(model, row.config);
  const opt = tf.train.adam(0.05);
  const reg = row.config.method === 'adalora' ? () => peft.regularizationLoss() : undefined;
  const step = () => trainStep(() => model.forward(x), peft.trainableVariables(), opt, target, reg);
  const dispose = () => {
    opt.dispose();
    model.dispose();
  };
  return { d, out, model, x, base, baseParams, peft, step, dispose };
}

/** The fixture after four optimiser steps (the adapted output differs from the base). */
function trained(row: Row) {
  const f = fixture(row);
  for (let i = 0; i < 4; i++) f.step();
  const adapted = f.model.forward(f.x);
  expect(maxDiff(adapted, f.base)).toBeGreaterThan(1e-4);
  return { ...f, adapted };
}

it('every registered method has a row in the contract table', () => {
  const covered = new Set(ROWS.map((r) => r.config.method as string));
  expect(listMethods().filter((m) => !covered.has(m))).toEqual([]);
});

describe.each(ROWS)('contract: $name', (row) => {
  it('starts equal to the base model', () => {
    const f = fixture(row);
    expect(maxDiff(f.model.forward(f.x), f.base)).toBeLessThanOrEqual(1e-6);
    f.dispose();
  });

  it('has the closed-form number of trainable parameters', () => {
    const f = fixture(row);
    const expected = f.peft
      .adapterLayers()
      .reduce((s, [, l]) => s + row.count(l.inFeatures, l.outFeatures), 0);
    expect(f.peft.countParameters().trainable).toBe(expected);
    expect(f.peft.trainableVariables().reduce((s, v) => s + v.size, 0)).toBe(expected);
    const def = getMethod(row.config.method);
    const config = def.normalize(row.config);
    const formula = f.peft
      .adapterLayers()
      .reduce((s, [, l]) => s + def.paramCount(l.inFeatures, l.outFeatures, config), 0);
    expect(formula).toBe(expected);
    expect(f.peft.trainableParametersReport()).toMatch(
      /^trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/,
    );
    f.dispose();
  });

  it('an optimiser step changes adapter variables only', () => {
    const f = fixture(row);
    const adapterVars = new Set(f.peft.trainableVariables().map((v) => v.name));
    const before = new Map(f.model.namedParameters().map(([n, v]) => [n, v.dataSync().slice()]));
    f.step();
    let adapterChanged = 0;
    for (const [n, v] of f.model.namedParameters()) {
      const changed = maxDiff(v.dataSync(), before.get(n)!) > 0;
      if (adapterVars.has(v.name)) adapterChanged += changed ? 1 : 0;
      else expect(changed, `${n} is frozen but changed`).toBe(false);
    }
    expect(adapterChanged).toBeGreaterThan(0);
    f.dispose();
  });

  it('does not grow the tfjs tensor count across steps', () => {
    const f = fixture(row);
    f.step();
    const nt = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) f.step();
    expect(tf.memory().numTensors).toBe(nt);
    f.dispose();
  });

  it.skipIf(row.orth === undefined)('keeps P and Q orthogonal while training', () => {
    const f = trained(row);
    for (const [, layer] of f.peft.adapterLayers()) {
      const fs = layer.orthogonalFactors();
      expect(fs.length).toBe(2);
      for (const m of fs) expect(orthError(m)).toBeLessThan(row.orth!);
    }
    f.dispose();
  });

  it('gives the base output back while disabled', () => {
    const f = trained(row);
    expect(
      maxDiff(
        f.peft.withAdapterDisabled(() => f.model.forward(f.x)),
        f.base,
      ),
    ).toBeLessThanOrEqual(1e-6);
    f.dispose();
  });

  it('saves and loads onto a fresh base to the same outputs', () => {
    const f = trained(row);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qpeft-contract-'));
    dirs.push(dir);
    saveAdapter(f.peft, dir);
    const fresh = new Tiny(f.d, f.out);
    const loaded = loadPeftModel(fresh, dir);
    expect(Array.from(fresh.forward(f.x).dataSync())).toEqual(Array.from(f.adapted.dataSync()));
    loaded.unload();
    fresh.dispose();
    f.dispose();
  });

  it(
    row.mergeable === false
      ? 'refuses to merge, and unloads to the base'
      : 'merges, unmerges and unloads to the same outputs',
    () => {
      const f = trained(row);
      if (row.mergeable === false) {
        expect(() => f.peft.merge()).toThrow(AdapterError);
        const unloaded = f.peft.unload();
        expect(maxDiff(unloaded.forward(f.x), f.base)).toBeLessThanOrEqual(1e-6);
      } else {
        f.peft.merge();
        expect(maxDiff(f.model.forward(f.x), f.adapted)).toBeLessThan(1e-5);
        f.peft.unmerge();
        expect(maxDiff(f.model.forward(f.x), f.adapted)).toBeLessThan(1e-5);
        for (const [n, v] of f.baseParams) {
          const now = f.model.namedParameters().find(([m]) => m === n)![1];
          expect(maxDiff(now, v), `${n} after unmerge`).toBeLessThan(1e-6);
        }
        const plain = f.peft.mergeAndUnload();
        expect(maxDiff(plain.forward(f.x), f.adapted)).toBeLessThan(1e-5);
      }
      // nothing of the adapter is left in the module tree
      expect(f.model.namedParameters().map(([n]) => n)).toEqual(f.baseParams.map(([n]) => n));
      f.dispose();
    },
  );
});
