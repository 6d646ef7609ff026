/**
 * DoRA (Liu et al., ICML 2024) with Hugging Face PEFT's semantics: the weight is split into a magnitude m
 * (one per output unit, initialised to the column norms of W₀) and a direction updated by LoRA:
 * W' = m ⊙ (W₀ + s·ΔW_LoRA) / ‖W₀ + s·ΔW_LoRA‖_col. As PEFT (and the paper's §4.3) the norm is treated as a
 * constant in the backward pass. Trainable: lora_down (d_in × r), lora_up (r × d_out), magnitude — r(d_in + d_out) + d_out.
 *
 * Merging is not additive (it rescales W), so the layer keeps the norm it merged with and unmerging
 * inverts exactly that. ΔW is not low-rank, so DoRA does not export as plain LoRA.
 */
import { AdapterError } from '../../errors.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import { AdapterLayer } from '../adapter.ts';
import {
  type BaseAdapterConfig,
  commonFields,
  intField,
  type LayerContext,
  LORA_STYLE_KNOBS,
  type MethodDef,
  numField,
} from '../registry.ts';

/** DoRA's config (method `dora`). */
export interface DoraConfig extends BaseAdapterConfig {
  readonly method: 'dora';
  readonly r: number;
  /** Default 8; the LoRA scale is loraAlpha / r. */
  readonly loraAlpha?: number;
}
type Normalized = Required<DoraConfig>;

/** The DoRA layer (see the file comment). */
export class DoraLayer extends AdapterLayer {
  readonly method = 'dora';
  readonly r: number;
  readonly scaling: number;
  /** lora_Aᵀ, d_in × r (tfjs layout; see the file comment). */
  readonly loraDown: tf.Variable;
  /** lora_Bᵀ, r × d_out. */
  readonly loraUp: tf.Variable;
  readonly magnitude: tf.Variable;
  private readonly linear: Linear;
  /** ‖W₀ + sΔW‖ per column at merge time (for an exact unmerge). */
  private mergedNorm: tf.Tensor | null = null;

  constructor(layer: Linear, c: Normalized, ctx: LayerContext) {
    super(layer);
    this.linear = layer;
    this.r = c.r;
    this.scaling = c.loraAlpha / c.r;
    const rng = createRng(ctx.seed);
    const bound = 1 / Math.sqrt(layer.inFeatures);
    const a = Float32Array.from({ length: c.r * layer.inFeatures }, () => (2 * rng.next() - 1) * bound);
    this.loraDown = this.addParameter('lora_down', tf.tensor2d(a, [layer.inFeatures, c.r]));
    this.loraUp = this.addParameter('lora_up', tf.zeros([c.r, layer.outFeatures]));
    this.magnitude = this.addParameter(
      'magnitude',
      tf.tidy(() => tf.norm(layer.weight, 'euclidean', 0)),
    );
  }

  /** s·ΔW_LoRA, d_in × d_out. */
  private loraDelta(): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf.matMul(this.loraDown as tf.Tensor2D, this.loraUp as tf.Tensor2D).mul(this.scaling) as tf.Tensor2D,
    );
  }

  /** Column norms of W + s·ΔW as a constant (no gradient), as PEFT detaches them. */
  private detachedNorm(): tf.Tensor1D {
    return tf.tidy(() => {
      const n = tf.norm(this.linear.weight.add(this.loraDelta()), 'euclidean', 0);
      return tf.tensor1d(n.dataSync() as Float32Array);
    });
  }

  override apply(x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const scale = this.magnitude.div(this.detachedNorm());
      const lora = tf
        .matMul(tf.matMul(x, this.loraDown as tf.Tensor2D), this.loraUp as tf.Tensor2D)
        .mul(this.scaling);
      const xw = tf.matMul(x, this.linear.weight as tf.Tensor2D);
      return base.add(scale.sub(1).mul(xw)).add(scale.mul(lora)) as tf.Tensor2D;
    });
  }

  /** W' − W for the layer's current W. */
  override deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const v = this.linear.weight.add(this.loraDelta());
      return v.mul(this.magnitude.div(tf.norm(v, 'euclidean', 0))).sub(this.linear.weight) as tf.Tensor2D;
    });
  }

  override mergeInto(linear: Linear, _target: string): void {
    tf.tidy(() => {
      const v = linear.weight.add(this.loraDelta());
      const norm = tf.norm(v, 'euclidean', 0);
      this.mergedNorm = tf.keep(norm);
      linear.weight.assign(v.mul(this.magnitude.div(norm)));
    });
  }

  override unmergeFrom(linear: Linear, target: string): void {
    const norm = this.mergedNorm;
    if (!norm) throw new AdapterError(`dora adapter at ${target} is not merged`);
    tf.tidy(() => linear.weight.assign(linear.weight.mul(norm.div(this.magnitude)).sub(this.loraDelta())));
    norm.dispose();
    this.mergedNorm = null;
  }

  override dispose(): void {
    this.mergedNorm?.dispose();
    this.mergedNorm = null;
    super.dispose();
  }
}

/** The `dora` registry entry. */
export const doraMethod: MethodDef<Normalized> = {
  method: 'dora',
  description: 'DoRA: weight-decomposed LoRA (magnitude and LoRA-updated direction)',
  label: 'DoRA',
  configKeys: ['r', 'loraAlpha'],
  ...LORA_STYLE_KNOBS,
  normalize: (c) => ({
    method: 'dora',
    ...commonFields(c),
    r: intField(c, 'r'),
    loraAlpha: numField(c, 'loraAlpha', 8),
  }),
  create: (layer, c, ctx) => new DoraLayer(layer, c, ctx),
  paramCount: (dIn, dOut, c) => c.r * (dIn + dOut) + dOut,
};
