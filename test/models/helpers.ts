/** Shared helpers for model tests: gradients of every parameter, and output comparison. */

import type { Module } from '../../src/nn/module.ts';
import { tf } from '../../src/tf/backend.ts';

/** Names of parameters whose gradient of `loss` is missing or identically zero. */
export function parametersWithoutGradient(model: Module, loss: () => tf.Scalar): string[] {
  const params = model.namedParameters();
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(
      loss,
      params.map(([, v]) => v),
    );
    return params
      .filter(([, v]) => {
        const g = grads[v.name];
        return !g || tf.max(tf.abs(g)).dataSync()[0] === 0;
      })
      .map(([n]) => n);
  });
}

/** Values of a tensor-returning function, with its tensors disposed. */
export function values(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
