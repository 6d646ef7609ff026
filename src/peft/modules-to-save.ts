/**
 * `modulesToSave` (Hugging Face PEFT's `modules_to_save`): layers trained in full as part of an adapter,
 * typically the new classification head. Each adapter gets its own copy of the layer's weight and bias,
 * initialised from the layer; while that adapter is active the layer computes with the copy, so the
 * original stays for the other adapters and for `withAdapterDisabled`. The copy is saved in the adapter
 * directory and reloads with it; merging writes the copy into the layer (unmerging restores the original).
 */
import { AdapterError } from '../errors.ts';
import type { Linear } from '../nn/linear.ts';
import { tf } from '../tf/backend.ts';
import { AdapterLayer } from './adapter.ts';

/** The per-adapter trainable copy of one module listed in `modulesToSave`. */
export class SavedModuleLayer extends AdapterLayer {
  readonly method = 'modules_to_save';
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly linear: Linear;
  /** The layer's own weight and bias while the copy is merged into it. */
  private original: [tf.Tensor, tf.Tensor | null] | null = null;

  constructor(linear: Linear) {
    super(linear);
    this.linear = linear;
    this.weight = this.addParameter('weight', linear.weight.clone());
    this.bias = linear.bias ? this.addParameter('bias', linear.bias.clone()) : null;
  }

  /** The copy's output x·W′ + b′; the frozen layer's output is not used. */
  override apply(x: tf.Tensor2D, _base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const y = tf.matMul(x, this.weight as tf.Tensor2D);
      return (this.bias ? y.add(this.bias) : y) as tf.Tensor2D;
    });
  }

  /** W′ − W against the layer's current (unmerged) weight. */
  override deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => this.weight.sub(this.linear.weight) as tf.Tensor2D);
  }

  override deltaBias(): tf.Tensor1D | null {
    return this.bias && this.linear.bias
      ? tf.tidy(() => this.bias!.sub(this.linear.bias!) as tf.Tensor1D)
      : null;
  }

  override mergeInto(linear: Linear, _target: string): void {
    this.original = [linear.weight.clone(), linear.bias ? linear.bias.clone() : null];
    linear.weight.assign(this.weight);
    if (linear.bias && this.bias) linear.bias.assign(this.bias);
  }

  override unmergeFrom(linear: Linear, target: string): void {
    if (!this.original) throw new AdapterError(`the saved copy of ${target} is not merged`);
    const [w, b] = this.original;
    linear.weight.assign(w);
    if (linear.bias && b) linear.bias.assign(b);
    tf.dispose([w, b].filter((t): t is tf.Tensor => t !== null));
    this.original = null;
  }

  override dispose(): void {
    if (this.original) tf.dispose(this.original.filter((t): t is tf.Tensor => t !== null));
    this.original = null;
    super.dispose();
  }
}

/** Trainable scalars of a saved copy of a d_in × d_out layer. */
export function savedModuleParamCount(dIn: number, dOut: number, bias: boolean): number {
  return dIn * dOut + (bias ? dOut : 0);
}
