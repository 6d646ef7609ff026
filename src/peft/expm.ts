/**
 * Matrix exponential for small square tfjs matrices, built from matMuls only so that tfjs autodiff
 * differentiates it on every backend: scaling and squaring (‖X/2^s‖₁ ≤ ½) around a degree-12 Taylor
 * polynomial in Horner form, whose remainder at ‖X‖ ≤ ½ is below 1e-16 relative — far under float32
 * rounding. The scaling s is read from the current values (a data-dependent but piecewise-constant choice,
 * so the gradient is that of the polynomial actually evaluated).
 */
import { describe, InputError } from '../errors.ts';
import { tf } from '../tf/backend.ts';

const ORDER = 12;

/** exp(X) for a square float32 matrix X. The caller owns the result. */
export function expm(x: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  if (x.rank !== 2 || x.shape[1] !== n)
    throw new InputError(`expm needs a square matrix, got shape [${x.shape.join(', ')}]`);
  return tf.tidy(() => {
    const norm = tf.max(tf.sum(tf.abs(x), 0)).dataSync()[0]!;
    if (!Number.isFinite(norm))
      throw new InputError(`expm: the matrix has non-finite entries (1-norm ${describe(norm)})`);
    const s = norm > 0.5 ? Math.ceil(Math.log2(norm / 0.5)) : 0;
    const y = s > 0 ? x.div(2 ** s) : x;
    const eye = tf.eye(n);
    let e: tf.Tensor2D = eye as tf.Tensor2D;
    for (let j = ORDER; j >= 1; j--) e = eye.add(tf.matMul(y, e).div(j)) as tf.Tensor2D;
    for (let i = 0; i < s; i++) e = tf.matMul(e, e);
    return e;
  });
}

/** Σ_{j ≤ order} Xʲ·C / j!: a truncated Taylor series of exp(X) applied to the columns C. */
export function taylorApply(x: tf.Tensor2D, c: tf.Tensor2D, order: number): tf.Tensor2D {
  if (!Number.isInteger(order) || order < 0)
    throw new InputError(`Taylor order must be an integer ≥ 0, got ${describe(order)}`);
  return tf.tidy(() => {
    let term: tf.Tensor2D = c;
    let sum: tf.Tensor2D = c;
    for (let j = 1; j <= order; j++) {
      term = tf.matMul(x, term).div(j) as tf.Tensor2D;
      sum = sum.add(term) as tf.Tensor2D;
    }
    return sum;
  });
}
