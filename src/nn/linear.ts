/**
 * The dense layer `y = x·W + b` (tfjs Dense convention: W is d_in × d_out) with an adapter slot.
 * Adapters (src/peft) attach to a Linear through `hook`, which sees the input and the frozen layer's output
 * and returns the adapted output; with no hook the layer is plain. This is how adapters are injected by
 * module name without rebuilding the model.
 */

import { describe, InputError } from '../errors.ts';
import { tf } from '../tf/backend.ts';
import { linear } from '../tf/fused-ops.ts';
import { Module } from './module.ts';

/** Maps (input, base output, layer) to the layer's output; installed by the PEFT model. */
export type LinearHook = (x: tf.Tensor, baseOut: tf.Tensor, layer: Linear) => tf.Tensor;

/** Constructor arguments of `Linear`. */
export interface LinearArgs {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  /** Seed for the Glorot-uniform initial weights. */
  seed?: number;
  /**
   * Existing variables to use instead of new ones (a view of another framework's layer, e.g. a tfjs Dense
   * kernel): `weight` must be in_features × out_features and `bias` out_features (or null). They are
   * registered as this module's parameters, not copied.
   */
  variables?: { weight: tf.Variable; bias: tf.Variable | null };
}

/** A dense layer y = x·W + b with an adapter hook (see the file comment). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  hook: LinearHook | null = null;

  constructor(args: LinearArgs) {
    super();
    for (const k of ['inFeatures', 'outFeatures'] as const) {
      if (!Number.isInteger(args[k]) || args[k] < 1)
        throw new InputError(`Linear ${k} must be a positive integer, got ${describe(args[k])}`);
    }
    this.inFeatures = args.inFeatures;
    this.outFeatures = args.outFeatures;
    if (args.variables) {
      const { weight, bias } = args.variables;
      const want = `[${args.inFeatures}, ${args.outFeatures}]`;
      if (weight.shape.length !== 2 || `[${weight.shape.join(', ')}]` !== want)
        throw new InputError(`Linear weight must have shape ${want}, got [${weight.shape.join(', ')}]`);
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== args.outFeatures))
        throw new InputError(
          `Linear bias must have shape [${args.outFeatures}], got [${bias.shape.join(', ')}]`,
        );
      this.weight = this.adoptParameter('weight', weight);
      this.bias = bias ? this.adoptParameter('bias', bias) : null;
      return;
    }
    const limit = Math.sqrt(6 / (args.inFeatures + args.outFeatures));
    this.weight = this.addParameter(
      'weight',
      tf.randomUniform([args.inFeatures, args.outFeatures], -limit, limit, 'float32', args.seed),
    );
    this.bias = args.bias === false ? null : this.addParameter('bias', tf.zeros([args.outFeatures]));
  }

  /** The frozen layer alone: x·W + b over the last axis of x (any leading shape). */
  baseForward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight, this.bias);
  }

  /**
   * Called after adapters wrote into `weight` / `bias` (merge, unmerge). A no-op here; views of another
   * framework's layer whose weight is a reshaped copy write the values back into that layer.
   */
  weightsChanged(): void {}

  /** x·W + b, passed through the adapter hook when one is installed. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape.at(-1) !== this.inFeatures) {
      throw new InputError(
        `Linear expects inputs with last dimension ${this.inFeatures}, got shape [${x.shape.join(', ')}]`,
      );
    }
    const hook = this.hook;
    if (!hook) return this.baseForward(x);
    return tf.tidy(() => hook(x, this.baseForward(x), this));
  }
}
