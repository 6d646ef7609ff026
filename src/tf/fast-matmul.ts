/**
 * A faster gradient for `matMul` on the wasm backend. tfjs's wasm `BatchMatMul` uses XNNPACK only for a
 * single (unbatched) product without transpose flags and falls back to a naive loop otherwise; tfjs's
 * registered gradient of `y = a·b` computes `dy·bᵀ` and `aᵀ·dy` with transpose flags, so every Linear
 * layer's backward pass took the naive loop (measured here: 10–40× slower than the forward product).
 * This gradient transposes rank-2 operands explicitly (a cheap copy) so both products take XNNPACK; batched
 * products keep tfjs's formulas. The values are the same; only the speed changes.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeMatMulActive } from './native-matmul.ts';

let installed = false;

/** `x·y` with optional transposes; for rank-2 operands the transposes are explicit (XNNPACK path on wasm). */
function product(x: tf.Tensor, y: tf.Tensor, transposeX: boolean, transposeY: boolean): tf.Tensor {
  // OpenBLAS (native-matmul.ts) takes the transpose flags at no cost: a copy would only add time there.
  if (x.rank === 2 && y.rank === 2 && !nativeMatMulActive()) {
    return tf.matMul(transposeX ? tf.transpose(x) : x, transposeY ? tf.transpose(y) : y) as tf.Tensor;
  }
  return tf.matMul(x, y, transposeX, transposeY);
}

/**
 * Replace tfjs's gradient of `BatchMatMul` with one that keeps rank-2 products on the fast path. Global
 * (tfjs has one gradient registry) and idempotent; numerically the same products as tfjs's own gradient.
 */
export function installFastMatMulGradient(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB)
        return { a: () => product(g, b, false, true), b: () => product(a, g, true, false) };
      if (!transposeA && transposeB)
        return { a: () => product(g, b, false, false), b: () => product(g, a, true, false) };
      if (transposeA && !transposeB)
        return { a: () => product(b, g, false, true), b: () => product(a, g, false, false) };
      return { a: () => product(b, g, true, true), b: () => product(g, a, true, true) };
    },
  });
}
