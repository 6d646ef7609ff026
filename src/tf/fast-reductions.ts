/**
 * Gradients of `Mean` and `Sum` that broadcast dy without a JavaScript array of ones.
 *
 * Why: tfjs's registered gradients build `ones(x.shape)` as a typed array filled in JavaScript and upload
 * it (makeOnesTypedArray), then multiply. For the loss of a layer step over 4,096 × 1,024 activations
 * (`mean(y²)`) that cost 42 ms for the ones alone and 53 ms for the whole mean gradient, against 7.5 ms for
 * the backend's own `OnesLike` fill times dy (measured on wasm, `npm run bench -- torch`'s layer; the step
 * is ~230 ms). The values are the same: dy/n·1 for the mean, dy·1 for the sum, broadcast along the reduced
 * axes.
 */
import * as tf from '@tensorflow/tfjs';

let installed = false;

/** dy reshaped with size-1 reduced axes, times ones shaped like x (the backend fills them). */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, axes: number[], scale: number | null): tf.Tensor {
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ones = x.dtype === 'float32' ? tf.onesLike(x) : tf.ones(x.shape, 'float32');
  return tf.mul(tf.reshape(scale === null ? dy : tf.div(dy, scale), expanded), ones);
}

/** Replace tfjs's `Mean` and `Sum` gradients (global, idempotent; the same values, see the file comment). */
export function installFastReductionGradients(): void {
  if (installed) return;
  installed = true;
  for (const [kernelName, mean] of [
    ['Mean', true],
    ['Sum', false],
  ] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved as [tf.Tensor];
        const { axis } = attrs as unknown as { axis: number | number[] };
        const axes = tf.util.parseAxisParam(axis, x.shape);
        const n = mean ? axes.reduce((size, a) => size * x.shape[a]!, 1) : null;
        return { x: () => broadcastBack(dy as tf.Tensor, x, axes, n) };
      },
    });
  }
}
