/** The byte transformer: shapes, causal masking, padding invariance, gradients, save → load. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSequences } from '../../src/data/text.ts';
import { loadModel, saveModel } from '../../src/models/checkpoint.ts';
import { crossEntropy } from '../../src/models/losses.ts';
import { TextTransformer } from '../../src/models/text.ts';
import { Linear } from '../../src/nn/linear.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { parametersWithoutGradient, values } from './helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-text-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = { dim: 32, depth: 2, heads: 4, mlpDim: 64, contextLength: 16 };
const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');

describe('TextTransformer', () => {
  it('gives next-byte logits and names its projections', () => {
    const m = new TextTransformer(small);
    const start = tf.memory().numTensors;
    const y = tf.tidy(() =>
      m.forward(
        ids([
          [72, 105, 33],
          [0, 1, 2],
        ]),
      ),
    );
    expect(y.shape).toEqual([2, 3, 256]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(start);
    const linears = m
      .namedModules()
      .filter(([, x]) => x instanceof Linear)
      .map(([n]) => n);
    expect(linears).toContain('blocks.1.attn.value');
    expect(linears).toContain('blocks.0.mlp.fc2');
    expect(linears.at(-1)).toBe('lmHead');
    expect(() => m.forward(tf.zeros([1, 17], 'int32'))).toThrow(
      /sequence length must be 1..16 \(the context length\), got 17/,
    );
    expect(() => m.forward(tf.zeros([1, 4]))).toThrow(/expects int32 ids/);
    m.dispose();
  });

  it('is causal: changing a later byte leaves earlier logits unchanged', () => {
    const m = new TextTransformer(small);
    const a = [[10, 20, 30, 40, 50, 60, 70, 80]];
    const b = [[10, 20, 30, 40, 99, 60, 70, 80]];
    const ya = values(() => m.forward(ids(a)));
    const yb = values(() => m.forward(ids(b)));
    const v = 256;
    let before = 0;
    let after = 0;
    for (let t = 0; t < 8; t++) {
      for (let k = 0; k < v; k++) {
        const d = Math.abs(ya[t * v + k]! - yb[t * v + k]!);
        if (t < 4) before = Math.max(before, d);
        else after = Math.max(after, d);
      }
    }
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(1e-4);
    m.dispose();
  });

  it('classifies on the mean of valid positions: padding bytes do not matter', () => {
    const m = new TextTransformer({ ...small, numClasses: 3 });
    const { ids: x, lengths } = encodeSequences(['abc', 'hello there'], 16);
    const noisy = Int32Array.from(x);
    for (let t = 3; t < 16; t++) noisy[t] = 77;
    const ya = values(() => m.classify(tf.tensor2d(x, [2, 16], 'int32'), lengths));
    const yb = values(() => m.classify(tf.tensor2d(noisy, [2, 16], 'int32'), lengths));
    expect(ya.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(yb[i]).toBeCloseTo(ya[i]!, 5);
    expect(() => m.classify(tf.tensor2d(x, [2, 16], 'int32'), [3, 17])).toThrow(
      /length 1 must be an integer in 1..16, got 17/,
    );
    m.dispose();
    const lm = new TextTransformer(small);
    expect(() => lm.classify(tf.tensor2d(x, [2, 16], 'int32'), lengths)).toThrow(
      /no classifier head; call resetHead/,
    );
    lm.resetHead(4);
    expect(lm.config.numClasses).toBe(4);
    expect(values(() => lm.classify(tf.tensor2d(x, [2, 16], 'int32'), lengths)).length).toBe(8);
    lm.dispose();
  });

  it('sends a gradient to every parameter (language model; classifier)', () => {
    const m = new TextTransformer({ ...small, numClasses: 2 });
    const x = ids([
      [1, 2, 3, 4, 5, 6],
      [6, 5, 4, 3, 2, 1],
    ]);
    const y = tf.tensor1d([2, 3, 4, 5, 6, 7, 5, 4, 3, 2, 1, 0], 'int32');
    const noLm = parametersWithoutGradient(m, () => crossEntropy(m.forward(x).reshape([-1, 256]), y));
    expect(noLm).toEqual(['head.weight', 'head.bias']);
    const noCls = parametersWithoutGradient(m, () =>
      crossEntropy(m.classify(x, [6, 4]), tf.tensor1d([0, 1], 'int32')),
    );
    expect(noCls).toEqual(['lmHead.weight', 'lmHead.bias']);
    m.dispose();
  });

  it('save → load gives identical outputs', () => {
    const m = new TextTransformer({ ...small, numClasses: 2, seed: 9 });
    saveModel(path.join(dir, 't'), m);
    const n = loadModel(path.join(dir, 't')) as TextTransformer;
    const x = ids([[5, 6, 7, 8]]);
    expect(values(() => n.forward(x))).toEqual(values(() => m.forward(x)));
    expect(values(() => n.classify(x, [4]))).toEqual(values(() => m.classify(x, [4])));
    m.dispose();
    n.dispose();
  });
});
