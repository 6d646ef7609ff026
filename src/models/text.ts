/**
 * A small byte-level causal transformer (GPT-style, pre-LN): byte embedding (`tokenEmbed`, one-hot
 * matmul), learned positions (`position`), `blocks.<i>` as in the ViT but with causal attention, a final
 * `norm`, a language-model head `lmHead` (dim → 256 bytes) and an optional classifier `head` on the
 * mean of the valid positions' features.
 */

import { describe, InputError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import { Embedding, LayerNorm, positiveInt, seedStream, TransformerBlock } from './layers.ts';

export interface TextTransformerConfig {
  /** 256: one token per byte. */
  vocabSize: number;
  /** Longest input sequence (the number of learned positions). */
  contextLength: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  /** Classes of the classifier head; 0 for a language model only. */
  numClasses: number;
  seed: number;
}

/** Defaults sized for minutes of pretraining on two CPU cores (wasm): 64 bytes of context, dim 128, 4 blocks. */
export const TEXT_DEFAULTS: TextTransformerConfig = {
  vocabSize: 256,
  contextLength: 64,
  dim: 128,
  depth: 4,
  heads: 4,
  mlpDim: 256,
  numClasses: 0,
  seed: 0,
};

/** Complete and validate a text-transformer config. */
export function textConfig(partial: Partial<TextTransformerConfig> = {}): TextTransformerConfig {
  const unknown = Object.keys(partial).filter((k) => !(k in TEXT_DEFAULTS));
  if (unknown.length) {
    throw new InputError(
      `unknown text-transformer config keys: ${unknown.join(', ')}; expected ${Object.keys(TEXT_DEFAULTS).join(', ')}`,
    );
  }
  const c = { ...TEXT_DEFAULTS, ...partial };
  for (const k of ['vocabSize', 'contextLength', 'dim', 'depth', 'heads', 'mlpDim'] as const)
    positiveInt(`text-transformer ${k}`, c[k]);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0) {
    throw new InputError(
      `text-transformer numClasses must be 0 (no classifier) or a positive integer, got ${describe(c.numClasses)}`,
    );
  }
  if (c.dim % c.heads !== 0)
    throw new InputError(`text-transformer dim ${c.dim} must be divisible by heads, got ${c.heads}`);
  if (!Number.isInteger(c.seed))
    throw new InputError(`text-transformer seed must be an integer, got ${describe(c.seed)}`);
  return c;
}

/** The byte-level causal transformer; a language model (`forward`) and, after `resetHead`, a classifier (`classify`). */
export class TextTransformer extends Module {
  readonly kind = 'text' as const;
  config: TextTransformerConfig;
  readonly tokenEmbed: Embedding;
  readonly position: tf.Variable;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;
  readonly lmHead: Linear;
  head: Linear | null = null;

  constructor(config: Partial<TextTransformerConfig> = {}) {
    super();
    const c = textConfig(config);
    this.config = c;
    const next = seedStream(c.seed);
    this.tokenEmbed = this.addModule('tokenEmbed', new Embedding(c.vocabSize, c.dim, next()));
    this.position = this.addParameter(
      'position',
      tf.randomNormal([c.contextLength, c.dim], 0, 0.02, 'float32', next()),
    );
    this.blocks = this.addModule(
      'blocks',
      new ModuleList(
        Array.from({ length: c.depth }, () => new TransformerBlock(c.dim, c.heads, c.mlpDim, true, next)),
      ),
    );
    this.norm = this.addModule('norm', new LayerNorm(c.dim));
    this.lmHead = this.addModule(
      'lmHead',
      new Linear({ inFeatures: c.dim, outFeatures: c.vocabSize, seed: next() }),
    );
    if (c.numClasses > 0)
      this.head = this.addModule(
        'head',
        new Linear({ inFeatures: c.dim, outFeatures: c.numClasses, seed: next() }),
      );
  }

  private checkIds(ids: tf.Tensor): [number, number] {
    if (ids.rank !== 2 || ids.dtype !== 'int32') {
      throw new InputError(
        `the text transformer expects int32 ids [batch, tokens], got ${ids.dtype} [${ids.shape.join(', ')}]`,
      );
    }
    const [b, t] = ids.shape as [number, number];
    if (t < 1 || t > this.config.contextLength) {
      throw new InputError(
        `sequence length must be 1..${this.config.contextLength} (the context length), got ${t}`,
      );
    }
    return [b, t];
  }

  /** Per-position features `[B, T, dim]` after the final layer norm (position i sees bytes ≤ i only). */
  hidden(ids: tf.Tensor): tf.Tensor3D {
    const [, t] = this.checkIds(ids);
    return tf.tidy(() => {
      let x: tf.Tensor = tf.add(
        this.tokenEmbed.forward(ids),
        this.position.slice([0, 0], [t, this.config.dim]),
      );
      for (const block of this.blocks.items) x = block.forward(x);
      return this.norm.forward(x) as tf.Tensor3D;
    });
  }

  /** Next-byte logits `[B, T, vocabSize]`. */
  forward(ids: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.lmHead.forward(this.hidden(ids)) as tf.Tensor3D);
  }

  /**
   * Mean of the features of the first `lengths[i]` positions of each sequence `[B, dim]` (padding after
   * them is ignored; causal attention means valid positions never see it).
   */
  pooled(ids: tf.Tensor, lengths: ArrayLike<number>): tf.Tensor2D {
    const [b, t] = this.checkIds(ids);
    if (lengths.length !== b)
      throw new InputError(`expected ${b} lengths (one per sequence), got ${lengths.length}`);
    const mask = new Float32Array(b * t);
    for (let i = 0; i < b; i++) {
      const n = lengths[i]!;
      if (!Number.isInteger(n) || n < 1 || n > t)
        throw new InputError(`length ${i} must be an integer in 1..${t}, got ${describe(n)}`);
      mask.fill(1 / n, i * t, i * t + n);
    }
    return tf.tidy(() => tf.sum(tf.mul(this.hidden(ids), tf.tensor3d(mask, [b, t, 1])), 1) as tf.Tensor2D);
  }

  /** Class logits `[B, numClasses]` from the classifier head (see `resetHead`). */
  classify(ids: tf.Tensor, lengths: ArrayLike<number>): tf.Tensor2D {
    const head = this.head;
    if (!head)
      throw new InputError('this text transformer has no classifier head; call resetHead(numClasses) first');
    return tf.tidy(() => head.forward(this.pooled(ids, lengths)) as tf.Tensor2D);
  }

  /** Add (or replace) the classifier head with a fresh one for `numClasses` classes. */
  resetHead(numClasses: number, seed = this.config.seed + 1): Linear {
    positiveInt('numClasses', numClasses);
    const old = this.head;
    this.head = this.addModule(
      'head',
      new Linear({ inFeatures: this.config.dim, outFeatures: numClasses, seed }),
    );
    old?.dispose();
    this.config = { ...this.config, numClasses };
    return this.head;
  }
}
