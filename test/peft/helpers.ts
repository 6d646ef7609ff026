/** Shared fixtures for the adapter tests: a small model, a seeded input, a training step, float64 checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { Linear } from '../../src/nn/linear.ts';
import { Module, ModuleList } from '../../src/nn/module.ts';
import { tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';

/** A block with two square projections, as an attention block's query and value. */
export class Block extends Module {
  readonly q: Linear;
  readonly v: Linear;
  constructor(d: number, seed: number) {
    super();
    this.q = this.setModule('q', new Linear({ inFeatures: d, outFeatures: d, seed }));
    this.v = this.setModule('v', new Linear({ inFeatures: d, outFeatures: d, seed: seed + 1 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.tanh(this.q.forward(x)).add(this.v.forward(x)));
  }
}

/** Two blocks and a rectangular head: `layers.{0,1}.{q,v}` (d×d) and `head` (d×out). */
export class Tiny extends Module {
  readonly layers: ModuleList<Block>;
  readonly head: Linear;
  constructor(d = 16, out = 8, seed = 1) {
    super();
    this.layers = this.setModule('layers', new ModuleList([new Block(d, seed), new Block(d, seed + 10)]));
    this.head = this.setModule('head', new Linear({ inFeatures: d, outFeatures: out, seed: seed + 20 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (const b of this.layers.items) h = b.forward(h);
      return this.head.forward(h);
    });
  }
}

/** A seeded [rows, cols] float32 tensor of standard normals. */
export function randn(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.normal()),
    [rows, cols],
  );
}

/** max |a − b| over two tensors' values. */
export function maxDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) throw new Error(`length ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** max |MᵀM − I| in float64 for a [d, K] tensor (disposed). */
export function orthError(m: tf.Tensor2D): number {
  const [d, k] = m.shape;
  const v = m.dataSync();
  let err = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += v[r * k + i]! * v[r * k + j]!;
      err = Math.max(err, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  m.dispose();
  return err;
}

/** One Adam step on a squared-error loss; returns the loss. */
export function trainStep(
  forward: () => tf.Tensor,
  vars: tf.Variable[],
  opt: tf.Optimizer,
  target: tf.Tensor,
  extra?: () => tf.Scalar | null,
): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      let loss = forward().sub(target).square().mean() as tf.Scalar;
      const r = extra?.();
      if (r) loss = loss.add(r) as tf.Scalar;
      return loss;
    }, vars);
    opt.applyGradients(grads);
    return value.dataSync()[0]!;
  });
}

/**
 * A maker of fresh temporary folders named `<prefix>…`; every folder it made is removed after the calling
 * file's tests (call it at a test file's top level).
 */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
