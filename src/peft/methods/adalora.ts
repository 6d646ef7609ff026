/**
 * AdaLoRA (Zhang et al., ICLR 2023) with Hugging Face PEFT's semantics: ΔWᵀ = (α/r)·B·diag(E)·A, A (r × d_in)
 * and B (d_out × r) normal(0, 0.02), E (the singular values) zeros; an orthogonality regulariser
 * ‖AAᵀ − I‖_F + ‖BᵀB − I‖_F; and a `RankAllocator` that, under a cubic budget schedule, keeps the most
 * important singular triplets (sensitivity |w·∂L/∂w| smoothed by EMAs of importance and uncertainty) and
 * zeroes the rest of E. The training loop calls `AdaLoraAllocator.update(step, grads)` after each step.
 */
import { InputError } from '../../errors.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import { AdapterLayer, type LoraFactors, loraFactorsFromTensors } from '../adapter.ts';
import { adaloraParamCount } from '../param-counts.ts';
import {
  type BaseAdapterConfig,
  commonFields,
  intField,
  type LayerContext,
  type MethodDef,
  numField,
  onlyKnobs,
} from '../registry.ts';

/** AdaLoRA's config (method `adalora`), with PEFT's defaults. */
export interface AdaLoraConfig extends BaseAdapterConfig {
  readonly method: 'adalora';
  /** Initial rank per layer (default 12). */
  readonly initR?: number;
  /** Average rank per layer at the end of the schedule (default 8). */
  readonly targetR?: number;
  /** lora_alpha (default 8); the scale is lora_alpha / initR. */
  readonly loraAlpha?: number;
  /** Weight of the orthogonality regulariser (default 0.5). */
  readonly orthRegWeight?: number;
  /** Steps of warm-up at the full budget (default 0). */
  readonly tinit?: number;
  /** Final steps at the target budget with the mask fixed (default 0). */
  readonly tfinal?: number;
  /** Total training steps (required, as in PEFT: the schedule needs it). */
  readonly totalStep: number;
  /** Reallocate every deltaT steps (default 1). */
  readonly deltaT?: number;
  /** EMA factors of importance and uncertainty (default 0.85 each). */
  readonly beta1?: number;
  readonly beta2?: number;
}
/** What `forModel` needs of a PEFT model (structurally, so this file does not import the model: no cycle). */
export interface AdapterHost {
  readonly activeAdapter: string;
  config(adapter: string): BaseAdapterConfig;
  adapterLayers(adapter: string): [string, AdapterLayer][];
}

/** An AdaLoRA config with every default filled in. */
export type AdaLoraNormalized = Required<AdaLoraConfig>;

/** The AdaLoRA layer: lora_A, lora_B, lora_E (see the file comment). */
export class AdaLoraLayer extends AdapterLayer {
  readonly method = 'adalora';
  readonly r: number;
  readonly scaling: number;
  readonly orthRegWeight: number;
  readonly loraA: tf.Variable;
  readonly loraB: tf.Variable;
  readonly loraE: tf.Variable;

  constructor(layer: Linear, c: AdaLoraNormalized, ctx: LayerContext) {
    super(layer);
    this.r = c.initR;
    this.scaling = c.loraAlpha / c.initR;
    this.orthRegWeight = c.orthRegWeight;
    const rng = createRng(ctx.seed);
    const normal = (n: number) => Float32Array.from({ length: n }, () => 0.02 * rng.normal());
    this.loraA = this.addParameter(
      'lora_A',
      tf.tensor2d(normal(this.r * layer.inFeatures), [this.r, layer.inFeatures]),
    );
    this.loraB = this.addParameter(
      'lora_B',
      tf.tensor2d(normal(layer.outFeatures * this.r), [layer.outFeatures, this.r]),
    );
    this.loraE = this.addParameter('lora_E', tf.zeros([this.r]));
  }

  override apply(x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = tf.matMul(x, this.loraA as tf.Tensor2D, false, true).mul(this.loraE.mul(this.scaling));
      return base.add(tf.matMul(h, this.loraB as tf.Tensor2D, false, true)) as tf.Tensor2D;
    });
  }

  override deltaWeight(): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf.matMul(
          this.loraA.transpose().mul(this.loraE.mul(this.scaling)),
          this.loraB as tf.Tensor2D,
          false,
          true,
        ) as tf.Tensor2D,
    );
  }

  override loraFactors(): LoraFactors {
    // fold E into A so that the export is a plain rank-r LoRA
    const [a, b] = tf.tidy(() => [this.loraA.mul(this.loraE.reshape([-1, 1])), this.loraB.clone()]);
    return loraFactorsFromTensors(a!, b!, this.r, this.scaling * this.r);
  }

  override regularizer(): tf.Scalar {
    return tf.tidy(() => {
      const eye = tf.eye(this.r);
      const ca = tf.matMul(this.loraA as tf.Tensor2D, this.loraA as tf.Tensor2D, false, true).sub(eye);
      const cb = tf.matMul(this.loraB as tf.Tensor2D, this.loraB as tf.Tensor2D, true, false).sub(eye);
      const fro = (m: tf.Tensor) => tf.sqrt(tf.sum(tf.square(m)));
      return fro(ca)
        .add(fro(cb))
        .mul(this.orthRegWeight / 2) as tf.Scalar;
    });
  }
}

/** The budget (total rank over layers) and whether to mask at `step`: PEFT's cubic schedule. */
export function adaloraBudget(
  c: AdaLoraNormalized,
  layers: number,
  step: number,
): { budget: number; mask: boolean } {
  const init = c.initR * layers;
  const target = c.targetR * layers;
  if (step <= c.tinit) return { budget: init, mask: false };
  if (step > c.totalStep - c.tfinal) return { budget: target, mask: true };
  const coeff = 1 - (step - c.tinit) / (c.totalStep - c.tfinal - c.tinit);
  return { budget: Math.floor((init - target) * coeff ** 3 + target), mask: step % c.deltaT === 0 };
}

/**
 * Importance-based rank allocation over a set of AdaLoRA layers. `update` takes the gradients of the step
 * (by variable name, as `tf.variableGrads` returns them) and, when the schedule says so, zeroes the E
 * entries of the least important triplets so that at most `budget` stay.
 */
export class AdaLoraAllocator {
  private readonly ipt = new Map<string, Float32Array>();
  private readonly unc = new Map<string, Float32Array>();
  private finalMask: Map<AdaLoraLayer, Float32Array> | null = null;

  constructor(
    readonly layers: readonly AdaLoraLayer[],
    readonly config: AdaLoraNormalized,
  ) {
    if (layers.length === 0) throw new InputError('AdaLoraAllocator needs at least one adalora layer');
  }

  /** The allocator for every layer of a PEFT model's AdaLoRA adapter (default: the active one). */
  static forModel(peft: AdapterHost, adapter: string = peft.activeAdapter): AdaLoraAllocator {
    const config = peft.config(adapter);
    if (config.method !== 'adalora')
      throw new InputError(`adapter ${adapter} is ${config.method}, not adalora`);
    const layers = peft.adapterLayers(adapter).map(([, l]) => l as AdaLoraLayer);
    return new AdaLoraAllocator(layers, config as AdaLoraNormalized);
  }

  private score(v: tf.Variable, grad: tf.Tensor | undefined): Float32Array {
    const w = v.dataSync();
    const g = grad ? grad.dataSync() : new Float32Array(w.length);
    const b1 = this.config.beta1;
    const b2 = this.config.beta2;
    let avg = this.ipt.get(v.name);
    let un = this.unc.get(v.name);
    if (!avg || !un) {
      avg = new Float32Array(w.length);
      un = new Float32Array(w.length);
      this.ipt.set(v.name, avg);
      this.unc.set(v.name, un);
    }
    const s = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const ipt = Math.abs(w[i]! * g[i]!);
      avg[i] = b1 * avg[i]! + (1 - b1) * ipt;
      un[i] = b2 * un[i]! + (1 - b2) * Math.abs(ipt - avg[i]!);
      s[i] = avg[i]! * un[i]!;
    }
    return s;
  }

  /** Triplet scores of one layer: s(E_i) + mean_j s(A_ij) + mean_j s(B_ji). */
  private tripletScores(layer: AdaLoraLayer, grads: Readonly<Record<string, tf.Tensor>>): Float32Array {
    const r = layer.r;
    const sa = this.score(layer.loraA, grads[layer.loraA.name]);
    const sb = this.score(layer.loraB, grads[layer.loraB.name]);
    const se = this.score(layer.loraE, grads[layer.loraE.name]);
    const out = new Float32Array(r);
    const dIn = layer.inFeatures;
    const dOut = layer.outFeatures;
    for (let i = 0; i < r; i++) {
      let a = 0;
      for (let j = 0; j < dIn; j++) a += sa[i * dIn + j]!;
      let b = 0;
      for (let j = 0; j < dOut; j++) b += sb[j * r + i]!;
      out[i] = se[i]! + a / dIn + b / dOut;
    }
    return out;
  }

  /** Update the importance estimates and apply the schedule's mask; returns the budget used. */
  update(step: number, grads: Readonly<Record<string, tf.Tensor>>): { budget: number; masked: number } {
    const { budget, mask } = adaloraBudget(this.config, this.layers.length, step);
    if (this.finalMask && step > this.config.totalStep - this.config.tfinal) {
      for (const [layer, m] of this.finalMask) applyMask(layer, m);
      return { budget, masked: countZeros(this.finalMask) };
    }
    const scores = this.layers.map((l) => this.tripletScores(l, grads));
    if (!mask) return { budget, masked: 0 };
    const all = Float32Array.from(scores.flatMap((s) => [...s])).sort();
    const drop = all.length - budget;
    const masks = new Map<AdaLoraLayer, Float32Array>();
    const threshold = drop > 0 ? all[drop - 1]! : Number.NEGATIVE_INFINITY;
    this.layers.forEach((layer, li) => {
      const m = Float32Array.from(scores[li]!, (s) => (s <= threshold ? 0 : 1));
      masks.set(layer, m);
      applyMask(layer, m);
    });
    if (step > this.config.totalStep - this.config.tfinal) this.finalMask = masks;
    return { budget, masked: countZeros(masks) };
  }
}

function applyMask(layer: AdaLoraLayer, m: Float32Array): void {
  tf.tidy(() => layer.loraE.assign(layer.loraE.mul(tf.tensor1d(m))));
}

function countZeros(masks: Map<AdaLoraLayer, Float32Array>): number {
  let n = 0;
  for (const m of masks.values()) for (const v of m) if (v === 0) n++;
  return n;
}

/** The `adalora` registry entry. */
export const adaloraMethod: MethodDef<AdaLoraNormalized> = {
  method: 'adalora',
  description: 'AdaLoRA: P·Λ·Q with an orthogonality regulariser and importance-based rank allocation',
  label: 'AdaLoRA',
  configKeys: [
    'initR',
    'targetR',
    'loraAlpha',
    'orthRegWeight',
    'tinit',
    'tfinal',
    'totalStep',
    'deltaT',
    'beta1',
    'beta2',
  ],
  /**
   * rank → initR (default 6) with targetR = round(2·initR/3); the budget schedule spans the run (warm-up of a
   * tenth at the full budget, the last fifth at the target) unless the options say otherwise.
   */
  applyKnobs(c, k) {
    onlyKnobs('adalora', k, ['rank', 'alpha']);
    const r = k.rank ?? (c.initR as number | undefined) ?? 6;
    c.initR = r;
    c.targetR ??= Math.max(1, Math.round((2 * r) / 3));
    c.totalStep ??= Math.max(2, k.totalSteps);
    c.tinit ??= Math.floor(k.totalSteps / 10);
    c.tfinal ??= Math.floor(k.totalSteps / 5);
    if ((c.tinit as number) + (c.tfinal as number) >= (c.totalStep as number)) {
      c.tinit = 0;
      c.tfinal = 0;
    }
    if (k.alpha !== undefined) c.loraAlpha = k.alpha;
  },
  labelSuffix: (k) => (k.rank !== undefined ? ` K=${k.rank}` : ''),
  trainingHooks(layers, config) {
    const allocator = new AdaLoraAllocator(layers as AdaLoraLayer[], config);
    return [{ afterStep: (step, grads) => allocator.update(step, grads) }];
  },
  normalize(c) {
    const out: AdaLoraNormalized = {
      method: 'adalora',
      ...commonFields(c),
      initR: intField(c, 'initR', 12),
      targetR: intField(c, 'targetR', 8, 0),
      loraAlpha: numField(c, 'loraAlpha', 8),
      orthRegWeight: numField(c, 'orthRegWeight', 0.5, 0),
      tinit: intField(c, 'tinit', 0, 0),
      tfinal: intField(c, 'tfinal', 0, 0),
      totalStep: intField(c, 'totalStep'),
      deltaT: intField(c, 'deltaT', 1),
      beta1: numField(c, 'beta1', 0.85, 0),
      beta2: numField(c, 'beta2', 0.85, 0),
    };
    if (out.targetR > out.initR)
      throw new InputError(`adalora config: targetR (${out.targetR}) must not exceed initR (${out.initR})`);
    if (out.tinit + out.tfinal >= out.totalStep) {
      throw new InputError(
        `adalora config: tinit + tfinal (${out.tinit + out.tfinal}) must be below totalStep (${out.totalStep})`,
      );
    }
    return out;
  },
  create: (layer, c, ctx) => new AdaLoraLayer(layer, c, ctx),
  paramCount: (dIn, dOut, c) => adaloraParamCount(dIn, dOut, c.initR),
};
