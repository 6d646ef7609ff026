/**
 * Bottleneck adapters (Houlsby et al., 2019; Pfeiffer et al., 2021) on a target layer's output h:
 * y = h + act(h·W_down + b_down)·W_up + b_up, with W_up = 0 so the model starts unchanged. At the level of one
 * Linear the two differ in their defaults, as in AdapterHub: Houlsby uses swish and is meant for two places
 * per block (attention output and FFN output), Pfeiffer uses ReLU and one place (the FFN output); the
 * placement is the choice of `targetModules`. Non-linear, so they cannot be merged or exported as LoRA.
 */
import { InputError } from '../../errors.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import { AdapterLayer } from '../adapter.ts';
import { bottleneckParamCount } from '../param-counts.ts';
import {
  type BaseAdapterConfig,
  commonFields,
  enumField,
  intField,
  type LayerContext,
  type MethodDef,
} from '../registry.ts';

const ACTIVATIONS = ['relu', 'swish', 'gelu', 'tanh'] as const;
/** The bottleneck's non-linearity. */
export type BottleneckActivation = (typeof ACTIVATIONS)[number];

/** The config of `houlsby` and `pfeiffer` adapters. */
export interface BottleneckConfig extends BaseAdapterConfig {
  readonly method: 'houlsby' | 'pfeiffer';
  /** Width m = ⌈d_out / reductionFactor⌉ (default 16) unless `bottleneck` is given. */
  readonly reductionFactor?: number;
  /** Explicit width m. */
  readonly bottleneck?: number;
  /** Default swish (houlsby) or relu (pfeiffer). */
  readonly activation?: BottleneckActivation;
}
type Normalized = Required<Omit<BottleneckConfig, 'bottleneck'>> & { bottleneck?: number };

/** The bottleneck width for a layer with `dOut` outputs. */
export function bottleneckWidth(c: Normalized, dOut: number): number {
  return c.bottleneck ?? Math.max(1, Math.ceil(dOut / c.reductionFactor));
}

function act(name: BottleneckActivation, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'swish':
      return x.mul(tf.sigmoid(x));
    case 'tanh':
      return tf.tanh(x);
    case 'gelu':
      // tanh approximation (as in BERT's reference implementation)
      return x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  }
}

/** The bottleneck layer: down, down_bias, up, up_bias. */
export class BottleneckLayer extends AdapterLayer {
  readonly method: 'houlsby' | 'pfeiffer';
  readonly activation: BottleneckActivation;
  readonly down: tf.Variable;
  readonly downBias: tf.Variable;
  readonly up: tf.Variable;
  readonly upBias: tf.Variable;

  constructor(layer: Linear, c: Normalized, ctx: LayerContext) {
    super(layer);
    this.method = c.method;
    this.activation = c.activation;
    const m = bottleneckWidth(c, layer.outFeatures);
    const rng = createRng(ctx.seed);
    const bound = 1 / Math.sqrt(layer.outFeatures);
    const w = new Float32Array(layer.outFeatures * m);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * bound;
    this.down = this.addParameter('down', tf.tensor2d(w, [layer.outFeatures, m]));
    this.downBias = this.addParameter('down_bias', tf.zeros([m]));
    this.up = this.addParameter('up', tf.zeros([m, layer.outFeatures]));
    this.upBias = this.addParameter('up_bias', tf.zeros([layer.outFeatures]));
  }

  override get mergeable(): boolean {
    return false;
  }

  override apply(_x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = act(this.activation, tf.matMul(base, this.down as tf.Tensor2D).add(this.downBias));
      return base.add(tf.matMul(h as tf.Tensor2D, this.up as tf.Tensor2D).add(this.upBias)) as tf.Tensor2D;
    });
  }
}

function bottleneckMethod(
  method: 'houlsby' | 'pfeiffer',
  activation: BottleneckActivation,
): MethodDef<Normalized> {
  return {
    method,
    description: `${method === 'houlsby' ? 'Houlsby' : 'Pfeiffer'} bottleneck adapter on the layer output (${activation} by default)`,
    label: method === 'houlsby' ? 'Houlsby' : 'Pfeiffer',
    configKeys: ['bottleneck', 'reductionFactor', 'activation'],
    // Houlsby: after the attention output and the FFN; Pfeiffer: after the FFN only (as in the papers)
    defaultTargets: method === 'houlsby' ? ['output', 'fc2'] : ['fc2'],
    normalize(c) {
      if (c.bottleneck !== undefined) intField(c, 'bottleneck');
      const out: Normalized = {
        method,
        ...commonFields(c),
        reductionFactor: intField(c, 'reductionFactor', 16),
        activation: enumField(c, 'activation', ACTIVATIONS, activation),
        ...(c.bottleneck !== undefined ? { bottleneck: c.bottleneck as number } : {}),
      };
      if (out.reductionFactor < 1) throw new InputError(`${method} config: reductionFactor must be ≥ 1`);
      return out;
    },
    create: (layer, c, ctx) => new BottleneckLayer(layer, c, ctx),
    paramCount: (_dIn, dOut, c) => bottleneckParamCount(dOut, bottleneckWidth(c, dOut)),
  };
}

/** The `houlsby` registry entry (swish). */
export const houlsbyMethod = bottleneckMethod('houlsby', 'swish');
/** The `pfeiffer` registry entry (ReLU). */
export const pfeifferMethod = bottleneckMethod('pfeiffer', 'relu');
