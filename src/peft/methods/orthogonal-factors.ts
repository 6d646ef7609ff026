/**
 * What the two Quantum-PEFT forms share: ΔW = α·P·diag(λ)·Qᵀ with P (d_in×K) and Q (d_out×K) having
 * orthonormal columns. Subclasses say how P and Q are made (circuits, or a Lie exponential) and own their
 * variables; the forward pass, ΔW, the LoRA export and the orthogonality hook are written once here.
 */
import { InputError } from '../../errors.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { lowRankUpdate } from '../../tf/fused-ops.ts';
import { AdapterLayer, type LoraFactors, loraFromFactors } from '../adapter.ts';

export abstract class OrthogonalFactorLayer extends AdapterLayer {
  readonly rank: number;
  readonly alpha: number;
  /** λ ∈ R^K, initialised to 0 so the adapted model starts equal to the base. */
  abstract readonly lambda: tf.Variable;

  constructor(layer: Linear, method: string, target: string, rank: number, alpha: number) {
    super(layer);
    for (const [name, d] of [
      ['d_in', layer.inFeatures],
      ['d_out', layer.outFeatures],
    ] as const) {
      if (rank > d) throw new InputError(`${method} on ${target}: rank K = ${rank} exceeds ${name} = ${d}`);
    }
    this.rank = rank;
    this.alpha = alpha;
  }

  /** [P, Q] as new tensors the caller disposes. */
  abstract factors(): [tf.Tensor2D, tf.Tensor2D];

  /** y = base + ((x·P)·(αλ))·Qᵀ: never forms ΔW, so the cost is LoRA's B·d·K matmuls plus building P, Q. */
  override apply(x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [p, q] = this.factors();
      // P·diag(αλ) and Qᵀ are d×K: scaling and transposing them is nothing next to the B×d products, and
      // the update then runs as LoRA's does, one fused low-rank kernel (src/tf/fused-ops.ts).
      const down = p.mul(this.lambda.mul(this.alpha)) as tf.Tensor2D;
      return lowRankUpdate(x, base, down, q.transpose(), 1);
    });
  }

  override deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const [p, q] = this.factors();
      return tf.matMul(p.mul(this.lambda.mul(this.alpha)), q, false, true) as tf.Tensor2D;
    });
  }

  /** ΔW = α·(P)·(Q·diag λ)ᵀ: A = Pᵀ keeps orthonormal rows, B = Q·diag(λ), lora_alpha = α·K. */
  override loraFactors(): LoraFactors {
    const [p, qd] = tf.tidy(() => {
      const [p, q] = this.factors();
      return [p, q.mul(this.lambda)];
    });
    try {
      return loraFromFactors(
        p.dataSync() as Float32Array,
        qd.dataSync() as Float32Array,
        this.inFeatures,
        this.outFeatures,
        this.rank,
        this.alpha,
      );
    } finally {
      tf.dispose([p, qd]);
    }
  }

  override orthogonalFactors(): tf.Tensor2D[] {
    return this.factors();
  }
}
