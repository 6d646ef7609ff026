/**
 * A small Vision Transformer (Dosovitskiy et al.): a `Linear` patch embedding, a learned position
 * embedding, pre-LN transformer blocks and a classification `head` on the class token (or the mean of
 * the patch tokens). Module names: `patchEmbed`, `blocks.<i>.{norm1,attn.{query,key,value,output},norm2,
 * mlp.{fc1,fc2}}`, `norm`, `head`; parameters `clsToken` and `position`.
 */

import { describe, InputError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import { LayerNorm, patchify, positiveInt, seedStream, TransformerBlock } from './layers.ts';

export interface ViTConfig {
  /** Image side (square images). */
  imageSize: number;
  patchSize: number;
  channels: number;
  /** Hidden size (a power of two suits Quantum-PEFT's circuits). */
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  numClasses: number;
  pooling: 'cls' | 'mean';
  /** Seed of the initial weights. */
  seed: number;
}

/**
 * Defaults sized for minutes of pretraining on two CPU cores with the wasm backend: 28×28 images in 16
 * patches of 7×7, hidden size 64, 4 blocks of 4 heads, MLP 128 (about 140k parameters).
 */
export const VIT_DEFAULTS: ViTConfig = {
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  dim: 64,
  depth: 4,
  heads: 4,
  mlpDim: 128,
  numClasses: 10,
  pooling: 'cls',
  seed: 0,
};

/** Complete and validate a ViT config (unknown keys and bad values are `InputError`s). */
export function vitConfig(partial: Partial<ViTConfig> = {}): ViTConfig {
  const unknown = Object.keys(partial).filter((k) => !(k in VIT_DEFAULTS));
  if (unknown.length)
    throw new InputError(
      `unknown ViT config keys: ${unknown.join(', ')}; expected ${Object.keys(VIT_DEFAULTS).join(', ')}`,
    );
  const c = { ...VIT_DEFAULTS, ...partial };
  for (const k of [
    'imageSize',
    'patchSize',
    'channels',
    'dim',
    'depth',
    'heads',
    'mlpDim',
    'numClasses',
  ] as const)
    positiveInt(`ViT ${k}`, c[k]);
  if (c.imageSize % c.patchSize !== 0)
    throw new InputError(`ViT imageSize ${c.imageSize} must be divisible by patchSize, got ${c.patchSize}`);
  if (c.dim % c.heads !== 0)
    throw new InputError(`ViT dim ${c.dim} must be divisible by heads, got ${c.heads}`);
  if (c.pooling !== 'cls' && c.pooling !== 'mean')
    throw new InputError(`ViT pooling must be "cls" or "mean", got ${describe(c.pooling)}`);
  if (!Number.isInteger(c.seed)) throw new InputError(`ViT seed must be an integer, got ${describe(c.seed)}`);
  return c;
}

/** The Vision Transformer; build with a partial `ViTConfig` (defaults `VIT_DEFAULTS`), seeded by `config.seed`. */
export class ViT extends Module {
  readonly kind = 'vit' as const;
  config: ViTConfig;
  readonly numPatches: number;
  readonly patchEmbed: Linear;
  readonly clsToken: tf.Variable | null;
  readonly position: tf.Variable;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;
  head: Linear;

  constructor(config: Partial<ViTConfig> = {}) {
    super();
    const c = vitConfig(config);
    this.config = c;
    const next = seedStream(c.seed);
    this.numPatches = (c.imageSize / c.patchSize) ** 2;
    const tokens = this.numPatches + (c.pooling === 'cls' ? 1 : 0);
    this.patchEmbed = this.addModule(
      'patchEmbed',
      new Linear({ inFeatures: c.patchSize * c.patchSize * c.channels, outFeatures: c.dim, seed: next() }),
    );
    this.clsToken =
      c.pooling === 'cls'
        ? this.addParameter('clsToken', tf.randomNormal([1, 1, c.dim], 0, 0.02, 'float32', next()))
        : null;
    this.position = this.addParameter(
      'position',
      tf.randomNormal([tokens, c.dim], 0, 0.02, 'float32', next()),
    );
    this.blocks = this.addModule(
      'blocks',
      new ModuleList(
        Array.from({ length: c.depth }, () => new TransformerBlock(c.dim, c.heads, c.mlpDim, false, next)),
      ),
    );
    this.norm = this.addModule('norm', new LayerNorm(c.dim));
    this.head = this.addModule(
      'head',
      new Linear({ inFeatures: c.dim, outFeatures: c.numClasses, seed: next() }),
    );
  }

  /** Accept `[B, H, W]`, `[B, H, W, C]` or flattened `[B, H·W·C]` images; return `[B, H, W, C]`. */
  private asImages(x: tf.Tensor): tf.Tensor4D {
    const { imageSize: s, channels: c } = this.config;
    const ok =
      (x.rank === 2 && x.shape[1] === s * s * c) ||
      (x.rank === 3 && c === 1 && x.shape[1] === s && x.shape[2] === s) ||
      (x.rank === 4 && x.shape[1] === s && x.shape[2] === s && x.shape[3] === c);
    if (!ok) {
      throw new InputError(
        `ViT expects images [batch, ${s}, ${s}${c === 1 ? '' : `, ${c}`}] (or flattened [batch, ${s * s * c}]), got shape [${x.shape.join(', ')}]`,
      );
    }
    return x.reshape([x.shape[0]!, s, s, c]) as tf.Tensor4D;
  }

  /** The pooled representation `[B, dim]` that the head reads (after the final layer norm). */
  features(images: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const x4 = this.asImages(images);
      const b = x4.shape[0];
      let x: tf.Tensor = this.patchEmbed.forward(patchify(x4, this.config.patchSize));
      if (this.clsToken) x = tf.concat([tf.tile(this.clsToken, [b, 1, 1]), x], 1);
      x = tf.add(x, this.position);
      for (const block of this.blocks.items) x = block.forward(x);
      x = this.norm.forward(x);
      return (
        this.clsToken ? x.slice([0, 0, 0], [b, 1, this.config.dim]).reshape([b, this.config.dim]) : x.mean(1)
      ) as tf.Tensor2D;
    });
  }

  /** Class logits `[B, numClasses]`. */
  forward(images: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.features(images)) as tf.Tensor2D);
  }

  /** Replace the head with a fresh one for `numClasses` classes (for transfer to a new label set). */
  resetHead(numClasses: number, seed = this.config.seed + 1): Linear {
    positiveInt('numClasses', numClasses);
    const old = this.head;
    this.head = this.addModule(
      'head',
      new Linear({ inFeatures: this.config.dim, outFeatures: numClasses, seed }),
    );
    old.dispose();
    this.config = { ...this.config, numClasses };
    return this.head;
  }
}
