/** Classification losses and metrics on logits. */

import { InputError } from '../errors.ts';
import { tf } from '../tf/backend.ts';

/** Mean softmax cross-entropy (natural log) of `logits [N, C]` against integer `labels [N]`. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new InputError(
      `crossEntropy expects logits [N, C] and labels [N], got [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits, -1);
    const onehot = tf.oneHot(labels.toInt(), logits.shape[1]!).toFloat();
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), -1))) as tf.Scalar;
  });
}

/** Number of rows whose arg-max equals the label. */
export function correctCount(logits: tf.Tensor2D, labels: ArrayLike<number>): number {
  const arg = tf.argMax(logits, -1);
  const pred = arg.dataSync();
  arg.dispose();
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return ok;
}
