/**
 * BitFit (Ben Zaken et al., 2022): train only biases. Here the trainable bias is a separate Δb (d_out, zeros)
 * added to the frozen layer's output, so that it composes with the adapter API (disable, several named
 * adapters, merge into the layer's bias, save only Δb). A layer without a bias gets one this way (as a conv
 * before batch norm: the offset then acts as a shift of the norm's β); merging needs the layer to have a
 * bias and is refused otherwise.
 */
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { AdapterLayer } from '../adapter.ts';
import { type BaseAdapterConfig, commonFields, type MethodDef } from '../registry.ts';

/** BitFit's config (method `bitfit`). */
export interface BitFitConfig extends BaseAdapterConfig {
  readonly method: 'bitfit';
}

/** The trainable bias offset layer. */
export class BitFitLayer extends AdapterLayer {
  readonly method = 'bitfit';
  readonly biasDelta: tf.Variable;
  constructor(layer: Linear) {
    super(layer);
    this.biasDelta = this.addParameter('bias_delta', tf.zeros([layer.outFeatures]));
  }
  override apply(_x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => base.add(this.biasDelta) as tf.Tensor2D);
  }
  override deltaWeight(): tf.Tensor2D {
    return tf.zeros([this.inFeatures, this.outFeatures]);
  }
  override deltaBias(): tf.Tensor1D {
    return this.biasDelta.clone() as tf.Tensor1D;
  }
}

/** The `bitfit` registry entry. */
export const bitfitMethod: MethodDef<Required<BitFitConfig>> = {
  method: 'bitfit',
  description: 'BitFit: a trainable bias offset per target layer',
  label: 'BitFit',
  configKeys: [],
  // every projection of a transformer block (a bias offset is cheap enough to put everywhere)
  defaultTargets: ['query', 'key', 'value', 'output', 'fc1', 'fc2'],
  normalize: (c) => ({ method: 'bitfit', ...commonFields(c) }),
  create: (layer) => new BitFitLayer(layer),
  paramCount: (_dIn, dOut) => dOut,
};
