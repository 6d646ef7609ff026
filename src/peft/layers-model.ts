/**
 * Adapters on a `tf.LayersModel` (loaded with `tf.loadLayersModel`, or built with `tf.sequential` /
 * `tf.model`), in place.
 *
 * `LayersModule` is a module-tree view of the model: one child per layer with weights, named by the layer's
 * name (nested models give dotted names `inner.dense_1`), so targeting by name, counting, freezing, merging
 * and saving go through the same `PeftModel` as for our own modules. Every `dense` and `conv2d` layer becomes
 * a `LayerLinear` (a `Linear` whose weight is the layer's kernel as a d_in × d_out matrix); every other layer
 * with weights a `LayerParams` that only holds its variables.
 *
 * Injection replaces the `call` of each targeted layer (an instance property; the class is untouched) with
 * one that computes the layer's pre-activation output, hands it with the input to the adapter hook, then
 * applies the layer's own activation. So `predict`, `apply`, `evaluate` and `fit` all see the adapter, and
 * nothing else about the model changes. The adapted output per layer type:
 *
 * - `dense`: rows of the input (any leading shape) against the d_in × d_out kernel, exactly as `Linear`.
 * - `conv2d` 1×1: a 1×1 convolution is the dense map C_in → C_out at every output pixel (for stride s it
 *   reads every s-th input pixel), so the adapter runs on those pixel rows, for every method.
 * - `conv2d` k×k: the layer is a linear map from the k·k·C_in values of a patch to C_out (the kernel
 *   [k, k, C_in, C_out] flattened row-major is that matrix, in tfjs's patch order). The update is added as
 *   conv(x, ΔW reshaped to the kernel) + Δb with the layer's strides, padding and dilation, so it is exact
 *   for every method whose ΔW exists (all linear ones); output-space adapters (bottleneck) are refused.
 * - `depthwiseConv2d` is not a target, on purpose: its kernel is C_in independent k×k filters (9·C scalars
 *   for k = 3), already fewer than LoRA r = 1 on the pointwise conv beside it (C_in + C_out), and its matrix
 *   view is block-diagonal, so no low-rank or orthogonal P·diag(λ)·Qᵀ factorisation of a channel map
 *   applies. Asking for one is an error that says so.
 *
 * Frozen base: every weight of the model is frozen while wrapped (tfjs `trainable` flags included), and
 * batch-normalisation layers always run in inference mode (their moving mean and variance are used and never
 * updated, also inside `fit`), because adapting a model to new data through BN statistics would change the
 * base. Adapter variables are registered as weights of their layer, so `model.trainableWeights` and
 * `model.fit` train exactly them; `model.save` is refused while wrapped (the plain architecture has no slot
 * for adapter weights): save the adapter with `saveAdapter`, or `mergeAndUnload()` first.
 */
import { AdapterError, describe, InputError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import type { AdapterLayer } from './adapter.ts';

/** The fields of a tfjs layer this file reads (tfjs declares them protected or on subclasses). */
interface TfLayerInternals {
  name: string;
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
  getClassName(): string;
  weights: tf.LayerVariable[];
  _trainableWeights: tf.LayerVariable[];
  kernel?: tf.LayerVariable | null;
  bias?: tf.LayerVariable | null;
  activation?: { apply(x: tf.Tensor): tf.Tensor };
  units?: number;
  filters?: number;
  kernelSize?: number[];
  strides?: number[];
  padding?: string;
  dataFormat?: string;
  dilationRate?: number | number[];
}

function internals(layer: tf.layers.Layer): TfLayerInternals {
  return layer as unknown as TfLayerInternals;
}

/** The tf.Variable behind a LayerVariable (tfjs keeps it in a protected field). */
function variableOf(lv: tf.LayerVariable): tf.Variable {
  return (lv as unknown as { val: tf.Variable }).val;
}

/** Layer and module names must be `[A-Za-z0-9_]+`; other characters become `_`. */
function moduleName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * An adapter variable as a tfjs layer weight, so `model.trainableWeights` (and thus `fit`) see it. It holds
 * the adapter's own tf.Variable (no copy) and reads its trainable flag from it, which `PeftModel` sets.
 */
class AdapterWeight extends tf.LayerVariable {
  constructor(v: tf.Variable, name: string) {
    // tfjs's constructor makes a new variable from the value (sharing its data); it is dropped right away.
    super(v, 'float32', name, true);
    const self = this as unknown as { val: tf.Variable; shape: number[] };
    self.val.dispose();
    self.val = v;
    self.shape = [...v.shape];
  }
  override get trainable(): boolean {
    return variableOf(this).trainable;
  }
  override set trainable(t: boolean) {
    variableOf(this).trainable = t;
  }
  /** The variable belongs to the adapter: disposing the weight must not free it. */
  override dispose(): void {}
}

/** Holds the variables of a tfjs layer that is not an adapter target (batch norm, depthwise, …). */
export class LayerParams extends Module {
  /** The tfjs class name (`BatchNormalization`, `DepthwiseConv2D`, …). */
  readonly className: string;
  constructor(layer: tf.layers.Layer) {
    super();
    this.className = layer.getClassName();
    for (const lv of internals(layer).weights) {
      this.adoptParameter(moduleName(lv.originalName.split('/').pop() ?? lv.name), variableOf(lv));
    }
  }
}

/**
 * A `dense` or `conv2d` tfjs layer as a `Linear` (see the file comment). For `dense` the weight is the
 * layer's kernel variable itself; for `conv2d` it is a d_in × d_out copy of the kernel that `weightsChanged`
 * writes back, so merges land in the layer.
 */
export class LayerLinear extends Linear {
  readonly layer: tf.layers.Layer;
  /** `Dense` or `Conv2D`. */
  readonly className: string;
  /** [kh, kw] for convolutions, null for dense. */
  readonly kernelSize: readonly [number, number] | null;
  private readonly kernelShape: number[];
  private readonly originalCall: TfLayerInternals['call'] | null;
  private registered: AdapterWeight[] = [];

  constructor(layer: tf.layers.Layer) {
    const l = internals(layer);
    const kernel = l.kernel;
    if (!kernel) throw new InputError(`layer ${describe(l.name)} has no kernel (is the model built?)`);
    const shape = [...kernel.shape] as number[];
    const conv = layer.getClassName() === 'Conv2D';
    const dIn = conv ? shape[0]! * shape[1]! * shape[2]! : shape[0]!;
    const dOut = shape.at(-1)!;
    const bias = l.bias ? variableOf(l.bias) : null;
    let weight = variableOf(kernel);
    if (conv) {
      const flat = weight.reshape([dIn, dOut]);
      weight = tf.variable(flat, false);
      flat.dispose();
    }
    super({ inFeatures: dIn, outFeatures: dOut, variables: { weight, bias } });
    this.layer = layer;
    this.className = layer.getClassName();
    this.kernelSize = conv ? [shape[0]!, shape[1]!] : null;
    this.kernelShape = shape;
    this.originalCall = Object.hasOwn(layer, 'call') ? l.call : null;
    const base = l.call;
    l.call = (inputs, kwargs) => {
      const hook = this.hook;
      if (!hook) return base.call(layer, inputs, kwargs);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const y = hook(x, this.baseForward(x), this);
        return l.activation ? l.activation.apply(y) : y;
      });
    };
  }

  private conv(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor4D {
    const l = internals(this.layer);
    const d = l.dilationRate ?? 1;
    return tf.conv2d(
      x as tf.Tensor4D,
      kernel as tf.Tensor4D,
      (l.strides ?? [1, 1]) as [number, number],
      (l.padding ?? 'valid') as 'same' | 'valid',
      'NHWC',
      (Array.isArray(d) ? d : [d, d]) as [number, number],
    );
  }

  /**
   * The layer's output before its activation (x·W + b, or the convolution plus bias). A 1×1 convolution is
   * computed as the matrix product it is (on the strided pixels): tfjs's wasm backend runs matMul and its
   * gradient on XNNPACK, while its conv2d input gradient is a plain loop, several times slower.
   */
  override baseForward(x: tf.Tensor): tf.Tensor {
    if (!this.kernelSize) return super.baseForward(x);
    if (this.rowWise) {
      return tf.tidy(() => {
        const rows = this.pixels(x);
        const [n, h, w] = rows.shape as number[];
        return super.baseForward(rows).reshape([n!, h!, w!, this.outFeatures]);
      });
    }
    return tf.tidy(() => {
      const y = this.conv(x, this.weight.reshape(this.kernelShape));
      return this.bias ? y.add(this.bias) : y;
    });
  }

  /** The input pixels a 1×1 convolution reads (every s-th one for stride s). */
  private pixels(x: tf.Tensor): tf.Tensor {
    const [sh, sw] = (internals(this.layer).strides ?? [1, 1]) as number[];
    return sh !== 1 || sw !== 1 ? subsample(x, sh!, sw!) : x;
  }

  /** Whether the adapter can run on rows of the input (dense, and 1×1 convolutions). */
  get rowWise(): boolean {
    return !this.kernelSize || (this.kernelSize[0] === 1 && this.kernelSize[1] === 1);
  }

  /** Refuse adapters this layer cannot run (output-space adapters on k×k convolutions). */
  checkAdapter(adapter: AdapterLayer, target: string): void {
    if (!this.rowWise && !adapter.mergeable) {
      throw new AdapterError(
        `${adapter.method} adapters act on a layer's output, not on its weight; ${target} is a ${this.kernelSize!.join('×')} convolution, where only methods with a weight update ΔW can be applied (target its 1×1 or dense layers instead)`,
      );
    }
  }

  /** The adapted pre-activation output for input `x` and base output `base` (see the file comment). */
  adapt(adapter: AdapterLayer, x: tf.Tensor, base: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.rowWise) {
        const rows = this.kernelSize ? this.pixels(x) : x;
        const out = adapter.apply(
          rows.reshape([-1, this.inFeatures]) as tf.Tensor2D,
          base.reshape([-1, this.outFeatures]) as tf.Tensor2D,
        );
        return out.reshape(base.shape);
      }
      let y = base.add(this.conv(x, adapter.deltaWeight().reshape(this.kernelShape)));
      const db = adapter.deltaBias();
      if (db) y = y.add(db);
      return y;
    });
  }

  /** Convolution weights are a reshaped copy: write them back into the layer's kernel. */
  override weightsChanged(): void {
    if (!this.kernelSize) return;
    const kernel = internals(this.layer).kernel!;
    tf.tidy(() => variableOf(kernel).assign(this.weight.reshape(this.kernelShape)));
  }

  /** Register the adapter variables under this module as weights of the tfjs layer (see `AdapterWeight`). */
  syncLayerWeights(): void {
    this.syncLayerWeightsEmpty();
    const l = internals(this.layer);
    this.registered = this.namedParameters()
      .filter(([n]) => n !== 'weight' && n !== 'bias')
      .map(([n, v]) => new AdapterWeight(v, `${l.name}/${n.replace(/\./g, '/')}`));
    l._trainableWeights.push(...this.registered);
  }

  /** Put the layer back as it was: its own `call`, no adapter weights; the conv weight copy is freed. */
  release(): void {
    this.syncLayerWeightsEmpty();
    const l = internals(this.layer);
    if (this.originalCall) l.call = this.originalCall;
    else delete (l as Partial<TfLayerInternals>).call;
    if (this.kernelSize) this.weight.dispose();
  }

  private syncLayerWeightsEmpty(): void {
    const l = internals(this.layer);
    l._trainableWeights = l._trainableWeights.filter((w) => !this.registered.includes(w as AdapterWeight));
    this.registered = [];
  }
}

/**
 * Every s-th pixel of an NHWC tensor, as a strided 1×1 convolution reads them (it never pads). Built from
 * pad, reshape and slice because tfjs has no gradient for strided slices.
 */
function subsample(x: tf.Tensor, sh: number, sw: number): tf.Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const oh = Math.ceil(h / sh);
  const ow = Math.ceil(w / sw);
  const padded = tf.pad(x, [
    [0, 0],
    [0, oh * sh - h],
    [0, ow * sw - w],
    [0, 0],
  ]);
  return padded
    .reshape([n, oh, sh, ow, sw, c])
    .slice([0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c])
    .reshape([n, oh, ow, c]);
}

/** A nested tfjs model (a layer that has layers) as a module with one child per layer. */
class LayersGroup extends Module {}

interface Frozen {
  readonly lv: tf.LayerVariable;
  readonly trainable: boolean;
}

/**
 * A `tf.LayersModel` as a module tree (see the file comment). Build it with `getPeftModel(layersModel, …)`;
 * it is what that PeftModel's `model` is, and `layersModel` is the wrapped tfjs model.
 */
export class LayersModule extends Module {
  readonly layersModel: tf.LayersModel;
  private readonly linears: LayerLinear[] = [];
  private readonly frozen: Frozen[] = [];
  private readonly patched: [TfLayerInternals, TfLayerInternals['call'] | null][] = [];
  private readonly skipped = new Map<string, string>();
  private released = false;

  constructor(model: tf.LayersModel) {
    super();
    if (!(model instanceof tf.LayersModel))
      throw new InputError(`expected a tf.LayersModel, got ${describe(model)}`);
    const owner = model as unknown as { __qpeftWrapped?: boolean };
    if (owner.__qpeftWrapped)
      throw new AdapterError('this tf.LayersModel is already wrapped by a PeftModel; unload that one first');
    this.layersModel = model;
    this.addLayers(this, model.layers, '');
    for (const lv of model.weights) {
      this.frozen.push({ lv, trainable: lv.trainable });
      lv.trainable = false;
    }
    const self = model as unknown as { save: unknown; __qpeftWrapped?: boolean };
    self.save = async () => {
      throw new AdapterError(
        'model.save is refused while adapters are attached (the plain architecture has no slot for adapter weights): save the adapter with saveAdapter, or call mergeAndUnload() / unload() first',
      );
    };
    owner.__qpeftWrapped = true;
  }

  private addLayers(parent: Module, layers: tf.layers.Layer[], prefix: string): void {
    for (const layer of layers) {
      const l = internals(layer);
      const name = moduleName(l.name);
      const full = prefix ? `${prefix}.${name}` : name;
      const sub = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      const cls = layer.getClassName();
      if (Array.isArray(sub)) {
        const group = parent.setModule(name, new LayersGroup());
        this.addLayers(group, sub, full);
        continue;
      }
      if (cls === 'BatchNormalization') this.freezeBatchNorm(l);
      if (l.weights.length === 0) continue;
      if ((cls === 'Dense' || cls === 'Conv2D') && (l.dataFormat ?? 'channelsLast') === 'channelsLast') {
        const linear = parent.setModule(name, new LayerLinear(layer));
        this.linears.push(linear);
      } else {
        parent.setModule(name, new LayerParams(layer));
        this.skipped.set(full, cls === 'Conv2D' ? 'Conv2D (channelsFirst)' : cls);
      }
    }
  }

  /** Batch norm in inference mode whatever `training` says: its statistics stay those of the base. */
  private freezeBatchNorm(l: TfLayerInternals): void {
    const own = Object.hasOwn(l, 'call') ? l.call : null;
    const base = l.call;
    l.call = (inputs, kwargs) => base.call(l, inputs, { ...kwargs, training: false });
    this.patched.push([l, own]);
  }

  /**
   * Layers (dotted names) that have weights but cannot carry adapters, with their tfjs class; used to say
   * why a name matched nothing.
   */
  nonTargetLayers(): ReadonlyMap<string, string> {
    return this.skipped;
  }

  /** Register adapter variables as tfjs layer weights and refresh a compiled model's trainable list. */
  sync(): void {
    for (const l of this.linears) l.syncLayerWeights();
    this.refreshCompiled();
  }

  /** Undo everything the wrap did: calls, batch-norm patches, trainable flags, `save`. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const l of this.linears) l.release();
    for (const [l, own] of this.patched) {
      if (own) l.call = own;
      else delete (l as Partial<TfLayerInternals>).call;
    }
    for (const f of this.frozen) f.lv.trainable = f.trainable;
    const self = this.layersModel as unknown as { save?: unknown; __qpeftWrapped?: boolean };
    delete self.save;
    delete self.__qpeftWrapped;
    this.refreshCompiled();
  }

  /** A compiled model caches its trainable weights: recollect them after the set changed. */
  private refreshCompiled(): void {
    const m = this.layersModel as unknown as { collectedTrainableWeights?: tf.LayerVariable[] | null };
    if (m.collectedTrainableWeights != null) m.collectedTrainableWeights = this.layersModel.trainableWeights;
  }

  /** The wrapped model's variables belong to it: disposing the view must not free them. */
  override dispose(): void {}
}
