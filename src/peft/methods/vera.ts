/**
 * VeRA (Kopiczko et al., ICLR 2024) with Hugging Face PEFT's semantics: frozen random projections A (r × d_in)
 * and B (d_out × r), Kaiming-uniform from a shared seed (`projectionSeed`), so that layers of the same shape
 * share the same A and B; trainable scaling vectors λ_d (r, initialised to `dInitial` = 0.1) and λ_b (d_out,
 * zeros): ΔWᵀ = diag(λ_b)·B·diag(λ_d)·A. Trainable scalars per layer: r + d_out.
 *
 * (ours) PEFT slices one A, B of the largest layer shape; here each shape draws its own from the shared
 * seed, which keeps the defining property (shared frozen projections, per-layer vectors). A and B are
 * saved with the adapter (PEFT's `save_projection = true`).
 */
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import { AdapterLayer, type LoraFactors, loraFactorsFromTensors } from '../adapter.ts';
import {
  type BaseAdapterConfig,
  commonFields,
  intField,
  type LayerContext,
  LORA_STYLE_KNOBS,
  type MethodDef,
  numField,
  onlyKnobs,
} from '../registry.ts';

/** VeRA's config (method `vera`), with PEFT's defaults. */
export interface VeraConfig extends BaseAdapterConfig {
  readonly method: 'vera';
  /** Rank of the shared projections (default 256, PEFT's default). */
  readonly r?: number;
  /** Seed of the shared projections (default 0). */
  readonly projectionSeed?: number;
  /** Initial value of λ_d (default 0.1). */
  readonly dInitial?: number;
}
type Normalized = Required<VeraConfig>;

/** r × cols Kaiming-uniform (bound 1/√cols), the same for every layer with the same (seed, r, cols, tag). */
function projection(seed: number, tag: number, rows: number, cols: number, fanIn: number): tf.Tensor2D {
  const rng = createRng((seed * 7919 + tag * 104729 + rows * 31 + cols) >>> 0);
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => (2 * rng.next() - 1) * bound),
    [rows, cols],
  );
}

/** The VeRA layer: frozen vera_A, vera_B; trainable lambda_d, lambda_b. */
export class VeraLayer extends AdapterLayer {
  readonly method = 'vera';
  readonly r: number;
  readonly veraA: tf.Variable;
  readonly veraB: tf.Variable;
  readonly lambdaD: tf.Variable;
  readonly lambdaB: tf.Variable;

  constructor(layer: Linear, c: Normalized, _ctx: LayerContext) {
    super(layer);
    this.r = c.r;
    this.veraA = this.addParameter(
      'vera_A',
      projection(c.projectionSeed, 1, c.r, layer.inFeatures, layer.inFeatures),
      false,
    );
    this.veraB = this.addParameter(
      'vera_B',
      projection(c.projectionSeed, 2, layer.outFeatures, c.r, c.r),
      false,
    );
    this.lambdaD = this.addParameter('lambda_d', tf.fill([c.r], c.dInitial));
    this.lambdaB = this.addParameter('lambda_b', tf.zeros([layer.outFeatures]));
  }

  override frozenParameters(): ReadonlySet<string> {
    return new Set(['vera_A', 'vera_B']);
  }

  override apply(x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = tf.matMul(x, this.veraA as tf.Tensor2D, false, true).mul(this.lambdaD);
      return base.add(tf.matMul(h, this.veraB as tf.Tensor2D, false, true).mul(this.lambdaB)) as tf.Tensor2D;
    });
  }

  override deltaWeight(): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf
          .matMul(this.veraA.transpose().mul(this.lambdaD), this.veraB as tf.Tensor2D, false, true)
          .mul(this.lambdaB) as tf.Tensor2D,
    );
  }

  override loraFactors(): LoraFactors {
    const [a, b] = tf.tidy(() => [
      this.veraA.mul(this.lambdaD.reshape([-1, 1])),
      this.veraB.mul(this.lambdaB.reshape([-1, 1])),
    ]);
    return loraFactorsFromTensors(a!, b!, this.r, this.r);
  }
}

/** The `vera` registry entry. */
export const veraMethod: MethodDef<Normalized> = {
  method: 'vera',
  description: 'VeRA: shared frozen random projections, trainable per-layer scaling vectors',
  label: 'VeRA',
  configKeys: ['r', 'projectionSeed', 'dInitial'],
  // VeRA has no lora_alpha (its trainable vectors are the scale), so a run's alpha is refused
  applyKnobs(c, k) {
    onlyKnobs('vera', k, ['rank']);
    c.r = k.rank ?? c.r ?? 4;
  },
  labelSuffix: LORA_STYLE_KNOBS.labelSuffix,
  normalize: (c) => ({
    method: 'vera',
    ...commonFields(c),
    r: intField(c, 'r', 256),
    projectionSeed: intField(c, 'projectionSeed', 0, 0),
    dInitial: numField(c, 'dInitial', 0.1),
  }),
  create: (layer, c, ctx) => new VeraLayer(layer, c, ctx),
  paramCount: (_dIn, dOut, c) => c.r + dOut,
};
