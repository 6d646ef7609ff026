/**
 * Transformer building blocks over `src/nn`. Every projection is a `Linear` child with a stable name
 * (`attn.query`, `attn.key`, `attn.value`, `attn.output`, `mlp.fc1`, `mlp.fc2`) so that adapters can
 * target it by dotted name. Embeddings multiply a one-hot matrix instead of gathering rows because the
 * wasm backend has no gradient for `gather`.
 */

import { describe, InputError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import { attention, gelu as fusedGelu, layerNorm } from '../tf/fused-ops.ts';
import { createRng } from '../util/random.ts';

/** Integer seeds for a model's initialisers, drawn in construction order from one model seed. */
export function seedStream(seed: number): () => number {
  const rng = createRng(seed);
  return () => Math.floor(rng.next() * 2 ** 31);
}

/** Check that `value` is a positive integer (config validation with the usual message). */
export function positiveInt(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InputError(`${what} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/** Layer normalisation over the last axis with a learned scale (`weight`) and shift (`bias`). */
export class LayerNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(dim: number, eps = 1e-5) {
    super();
    this.dim = positiveInt('LayerNorm dim', dim);
    this.eps = eps;
    this.weight = this.addParameter('weight', tf.ones([dim]));
    this.bias = this.addParameter('bias', tf.zeros([dim]));
  }

  /** Normalise `x` (any leading shape, last axis `dim`). */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape.at(-1) !== this.dim)
      throw new InputError(`LayerNorm expects last dimension ${this.dim}, got shape [${x.shape.join(', ')}]`);
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** A token embedding table `weight` (vocab × dim), looked up as one-hot · weight so it has a gradient on wasm. */
export class Embedding extends Module {
  readonly vocabSize: number;
  readonly dim: number;
  readonly weight: tf.Variable;

  constructor(vocabSize: number, dim: number, seed?: number) {
    super();
    this.vocabSize = positiveInt('Embedding vocabSize', vocabSize);
    this.dim = positiveInt('Embedding dim', dim);
    this.weight = this.addParameter('weight', tf.randomNormal([vocabSize, dim], 0, 0.02, 'float32', seed));
  }

  /** Integer ids of any shape → embeddings with one more axis of size `dim`. */
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new InputError(`Embedding expects int32 ids, got ${ids.dtype}`);
    return tf.tidy(() => {
      const oneHot = tf.oneHot(ids.flatten() as tf.Tensor1D, this.vocabSize).toFloat();
      return tf.matMul(oneHot, this.weight as tf.Tensor2D).reshape([...ids.shape, this.dim]);
    });
  }
}

/**
 * GELU (tanh approximation, as in GPT-2 and ViT implementations); tfjs has no built-in op. One fused kernel
 * forward and backward on wasm (src/tf/fused-ops.ts), else x·σ(2z) from tfjs's primitives.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x);
}

/** The transformer feed-forward block: `fc2(gelu(fc1(x)))`. */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, nextSeed: () => number) {
    super();
    this.fc1 = this.addModule('fc1', new Linear({ inFeatures: dim, outFeatures: hidden, seed: nextSeed() }));
    this.fc2 = this.addModule('fc2', new Linear({ inFeatures: hidden, outFeatures: dim, seed: nextSeed() }));
  }

  /** `[…, dim]` → `[…, dim]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

export { causalMask } from '../tf/fused-ops.ts';

/**
 * Multi-head self-attention with separate `query`, `key`, `value` and `output` Linears (dim × dim each).
 * With `causal`, position i attends only to positions ≤ i.
 */
export class MultiHeadSelfAttention extends Module {
  readonly dim: number;
  readonly heads: number;
  readonly causal: boolean;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;

  constructor(dim: number, heads: number, causal: boolean, nextSeed: () => number) {
    super();
    this.dim = positiveInt('attention dim', dim);
    this.heads = positiveInt('attention heads', heads);
    if (dim % heads !== 0)
      throw new InputError(
        `attention dim ${dim} must be divisible by the number of heads, got ${heads} heads`,
      );
    this.causal = causal;
    this.query = this.addModule('query', new Linear({ inFeatures: dim, outFeatures: dim, seed: nextSeed() }));
    this.key = this.addModule('key', new Linear({ inFeatures: dim, outFeatures: dim, seed: nextSeed() }));
    this.value = this.addModule('value', new Linear({ inFeatures: dim, outFeatures: dim, seed: nextSeed() }));
    this.output = this.addModule(
      'output',
      new Linear({ inFeatures: dim, outFeatures: dim, seed: nextSeed() }),
    );
  }

  /** `x` is `[B, T, dim]`; returns `[B, T, dim]`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new InputError(
        `attention expects [batch, tokens, ${this.dim}], got shape [${x.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const ctx = attention(
        this.query.forward(x),
        this.key.forward(x),
        this.value.forward(x),
        this.heads,
        this.causal,
      );
      return this.output.forward(ctx);
    });
  }
}

/** A pre-LN transformer block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))`. */
export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(dim: number, heads: number, mlpDim: number, causal: boolean, nextSeed: () => number) {
    super();
    this.norm1 = this.addModule('norm1', new LayerNorm(dim));
    this.attn = this.addModule('attn', new MultiHeadSelfAttention(dim, heads, causal, nextSeed));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim));
    this.mlp = this.addModule('mlp', new Mlp(dim, mlpDim, nextSeed));
  }

  /** `[B, T, dim]` → `[B, T, dim]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.add(x, this.attn.forward(this.norm1.forward(x)));
      return tf.add(y, this.mlp.forward(this.norm2.forward(y)));
    });
  }
}

/**
 * Cut images `[B, H, W]` or `[B, H, W, C]` into non-overlapping `p × p` patches, flattened row-major:
 * `[B, (H/p)·(W/p), p·p·C]`. A `Linear` on the result is the usual strided-convolution patch embedding.
 */
export function patchify(images: tf.Tensor, patchSize: number): tf.Tensor3D {
  if (images.rank !== 3 && images.rank !== 4) {
    throw new InputError(
      `patchify expects [batch, height, width] or [batch, height, width, channels], got shape [${images.shape.join(', ')}]`,
    );
  }
  const [b, hh, ww] = images.shape as [number, number, number];
  const c = images.rank === 4 ? images.shape[3]! : 1;
  const p = patchSize;
  if (hh % p !== 0 || ww % p !== 0)
    throw new InputError(`image size ${hh}×${ww} is not divisible by the patch size ${p}`);
  return tf.tidy(
    () =>
      images
        .reshape([b, hh / p, p, ww / p, p, c])
        .transpose([0, 1, 3, 2, 4, 5])
        .reshape([b, (hh / p) * (ww / p), p * p * c]) as tf.Tensor3D,
  );
}
