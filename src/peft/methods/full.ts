/**
 * Full fine-tuning of the targeted layers, as an adapter: a dense ΔW (d_in × d_out) and Δb, both zeros.
 * Keeping it an additive update (rather than unfreezing W) lets it share the adapter API: disable,
 * merge / unmerge, several named versions, saving only what changed.
 */
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { AdapterLayer } from '../adapter.ts';
import { type BaseAdapterConfig, commonFields, type MethodDef } from '../registry.ts';

/** Full fine-tuning's config (method `full`). */
export interface FullConfig extends BaseAdapterConfig {
  readonly method: 'full';
  /** Train a bias offset too (default true; needs the layer to have a bias to merge). */
  readonly bias?: boolean;
}

/** The dense ΔW (and Δb) layer. */
export class FullLayer extends AdapterLayer {
  readonly method = 'full';
  readonly weightDelta: tf.Variable;
  readonly biasDelta: tf.Variable | null;
  constructor(layer: Linear, c: Required<FullConfig>) {
    super(layer);
    this.weightDelta = this.addParameter('weight_delta', tf.zeros([layer.inFeatures, layer.outFeatures]));
    this.biasDelta = c.bias ? this.addParameter('bias_delta', tf.zeros([layer.outFeatures])) : null;
  }
  override deltaWeight(): tf.Tensor2D {
    return this.weightDelta.clone() as tf.Tensor2D;
  }
  override deltaBias(): tf.Tensor1D | null {
    return this.biasDelta ? (this.biasDelta.clone() as tf.Tensor1D) : null;
  }
}

/** The `full` registry entry. */
export const fullMethod: MethodDef<Required<FullConfig>> = {
  method: 'full',
  description: 'full fine-tuning of the target layers (dense ΔW and Δb)',
  label: 'full fine-tuning',
  configKeys: ['bias'],
  normalize: (c) => ({ method: 'full', ...commonFields(c), bias: c.bias !== false }),
  create: (layer, c) => new FullLayer(layer, c),
  paramCount: (dIn, dOut, c) => dIn * dOut + (c.bias ? dOut : 0),
};
