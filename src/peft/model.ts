/**
 * The model half of the triple: wrap a module tree, inject adapters into target `Linear`s by name (through
 * the layer's hook, so the model's own forward is unchanged), freeze everything else, and manage several
 * named adapters (add, switch, delete), merging and temporary disabling — Hugging Face PEFT's `PeftModel`
 * without its mixins.
 */
import { AdapterError, describe, InputError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import type { AdapterLayer } from './adapter.ts';
import { LayerLinear, LayersModule } from './layers-model.ts';
import './methods/index.ts';
import { SavedModuleLayer } from './modules-to-save.ts';
import { type BaseAdapterConfig, getMethod, type MethodDef, type TargetModules } from './registry.ts';
import { compileTargetPattern } from './target-pattern.ts';

/** Adapters of one target layer, by adapter name; a child of the Linear named `adapters`. */
class AdapterSlot extends Module {
  readonly byName = new Map<string, AdapterLayer>();
  add(name: string, layer: AdapterLayer): void {
    this.setModule(name, layer);
    this.byName.set(name, layer);
  }
  remove(name: string): AdapterLayer | undefined {
    const layer = this.byName.get(name);
    this.deleteModule(name);
    this.byName.delete(name);
    return layer;
  }
}

interface TargetState {
  readonly linear: Linear;
  readonly slot: AdapterSlot;
  /** Adapters whose ΔW is currently added into the layer's weights. */
  readonly merged: Set<string>;
}

const SLOT = 'adapters';

/**
 * Dotted names of the `Linear` modules of `model` that `target` selects (Hugging Face's matching rules). On a
 * wrapped `tf.LayersModel` these are its `dense` and `conv2d` layers; naming a layer that has weights but
 * cannot carry an adapter (depthwise convolution, batch norm, …) is an error that says why.
 */
export function matchTargets(model: Module, target: TargetModules, field = 'targetModules'): string[] {
  const linears = model.namedModules().filter(([, m]) => m instanceof Linear);
  // strings and RegExps alike run on the linear-time matcher: a pattern may come from an untrusted folder
  const pattern =
    target instanceof RegExp
      ? compileTargetPattern(target.source, target.flags.includes('i'))
      : typeof target === 'string'
        ? compileTargetPattern(target)
        : null;
  const matches = (name: string) =>
    pattern
      ? pattern.test(name)
      : (target as readonly string[]).some((t) => name === t || name.endsWith(`.${t}`));
  const out = linears.map(([n]) => n).filter((n) => n !== '' && matches(n));
  if (model instanceof LayersModule && Array.isArray(target)) {
    for (const [n, cls] of model.nonTargetLayers()) {
      if (matches(n))
        throw new AdapterError(
          `${field}: ${n} is a ${cls} layer, which cannot carry an adapter; ${cls === 'DepthwiseConv2D' ? 'a depthwise kernel is C independent k×k filters (k²·C scalars, block-diagonal as a matrix), too small and too structured for a low-rank or circuit factorisation: target the 1×1 (pointwise) conv2d layers beside it' : 'adapters go on dense and conv2d (channelsLast) layers'}`,
        );
    }
  }
  if (out.length === 0) {
    const names = linears.map(([n]) => n).filter(Boolean);
    throw new AdapterError(
      `${field} ${target instanceof RegExp ? String(target) : JSON.stringify(target)} matched no ${model instanceof LayersModule ? 'dense or conv2d layer' : 'Linear module'}; the model's ${model instanceof LayersModule ? 'dense and conv2d layers' : 'Linear modules'} are ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`,
    );
  }
  return out;
}

/**
 * The most trainable parameters an adapter layer may have on a d_in × d_out layer: four times the layer's
 * own parameters (room for LoRA at full rank, a bottleneck twice as wide as the layer), and at least 65,536
 * so tiny test layers can take deep circuits. A config from an untrusted folder (`layers: 1000000`,
 * `r: 1e9`) is refused here, from the method's closed-form count, before anything is allocated.
 */
export function maxAdapterParams(dIn: number, dOut: number): number {
  return Math.max(4 * (dIn * dOut + dIn + dOut), 65_536);
}

function checkAdapterSize(def: MethodDef, config: BaseAdapterConfig, target: string, linear: Linear): void {
  const count = def.paramCount(linear.inFeatures, linear.outFeatures, config);
  const limit = maxAdapterParams(linear.inFeatures, linear.outFeatures);
  if (!(count <= limit))
    throw new AdapterError(
      `${config.method} on ${target} (${linear.inFeatures}→${linear.outFeatures}) would have ${count} trainable parameters; an adapter on this layer may have at most ${limit} (4× the layer's own); check rank/layers in the config`,
    );
}

function checkAdapterName(name: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new InputError(`adapter names must match [A-Za-z0-9_]+, got ${describe(name)}`);
}

/** A stable 32-bit seed per (config seed, adapter, target) so each layer gets its own random stream. */
function layerSeed(seed: number, adapter: string, target: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of `${adapter}/${target}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Thousands separators, as Python's `{:,d}`. */
function commas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A model with named adapters injected into its target Linear layers. The wrapped model's own `forward` runs
 * the active adapter; `trainableVariables()` is what to give an optimiser.
 */
export class PeftModel<M extends Module = Module> {
  readonly model: M;
  private readonly targetsByName = new Map<string, TargetState>();
  private readonly configs = new Map<string, BaseAdapterConfig>();
  private readonly adapterTargets = new Map<string, string[]>();
  /** Per adapter, the layers of its `modulesToSave`. */
  private readonly moduleTargets = new Map<string, string[]>();
  private active: string | null = null;
  private disabled = false;
  private unloaded = false;

  /** Wrap `model` (its parameters are frozen) and add a first adapter `adapterName` from `config`. */
  constructor(model: M, config: BaseAdapterConfig | Record<string, unknown>, adapterName = 'default') {
    this.model = model;
    this.addAdapter(adapterName, config); // freezes the base (refreshTrainable) only once the adapter exists
  }

  private live(): void {
    if (this.unloaded)
      throw new AdapterError('this PeftModel was unloaded (mergeAndUnload / unload); wrap the model again');
  }

  /** The normalised config of an adapter. */
  config(name: string = this.activeAdapter): BaseAdapterConfig {
    const c = this.configs.get(name);
    if (!c)
      throw new AdapterError(
        `no adapter named ${describe(name)}; adapters: ${[...this.configs.keys()].join(', ') || '(none)'}`,
      );
    return c;
  }

  /** Names of the adapters, in the order added. */
  get adapterNames(): string[] {
    return [...this.configs.keys()];
  }

  /** The adapter used by forward passes and trained by `trainableVariables()`. */
  get activeAdapter(): string {
    if (this.active === null) throw new AdapterError('no active adapter');
    return this.active;
  }

  /** Dotted names of the layers an adapter is attached to. */
  targets(name: string = this.activeAdapter): string[] {
    this.config(name);
    return [...this.adapterTargets.get(name)!];
  }

  /** The adapter layer of `name` at `target`. */
  adapterLayer(target: string, name: string = this.activeAdapter): AdapterLayer {
    const layer = this.targetsByName.get(target)?.slot.byName.get(name);
    if (!layer) throw new AdapterError(`adapter ${describe(name)} has no layer at ${describe(target)}`);
    return layer;
  }

  /** Every layer of an adapter, with its target name. */
  adapterLayers(name: string = this.activeAdapter): [string, AdapterLayer][] {
    return this.targets(name).map((t) => [t, this.adapterLayer(t, name)]);
  }

  /** The trained copies of an adapter's `modulesToSave` layers, with their names. */
  savedModules(name: string = this.activeAdapter): [string, SavedModuleLayer][] {
    this.config(name);
    return (this.moduleTargets.get(name) ?? []).map((t) => [
      t,
      this.targetsByName.get(t)!.slot.byName.get(name) as SavedModuleLayer,
    ]);
  }

  /**
   * Add a named adapter from a config (validated by its method). It becomes active if none is; adding does
   * not switch an existing active adapter (as PEFT's `add_adapter`).
   */
  addAdapter(name: string, config: BaseAdapterConfig | Record<string, unknown>): void {
    this.live();
    checkAdapterName(name);
    if (this.configs.has(name)) throw new AdapterError(`an adapter named ${describe(name)} already exists`);
    const def = getMethod((config as { method?: unknown }).method);
    const normalized = def.normalize(config as Record<string, unknown>);
    const targets = matchTargets(this.model, normalized.targetModules);
    const modules = normalized.modulesToSave?.length
      ? matchTargets(this.model, normalized.modulesToSave, 'modulesToSave')
      : [];
    const both = modules.filter((m) => targets.includes(m));
    if (both.length)
      throw new AdapterError(
        `${both.join(', ')} ${both.length > 1 ? 'are' : 'is'} both a target and in modulesToSave; a layer is either adapted or trained in full`,
      );
    const created: [TargetState, AdapterLayer][] = [];
    try {
      for (const target of [...targets, ...modules]) {
        const linear = this.model.getModule(target) as Linear;
        let state = this.targetsByName.get(target);
        if (!state) {
          if (linear.hook) {
            throw new AdapterError(
              `${target} already has a hook (is the model wrapped by another PeftModel?)`,
            );
          }
          const slot = new AdapterSlot();
          state = { linear, slot, merged: new Set() };
          linear.setModule(SLOT, slot);
          linear.hook = (x, base) => this.forwardHook(state!, x, base);
          this.targetsByName.set(target, state);
        }
        const saveCopy = modules.includes(target);
        if (!saveCopy) checkAdapterSize(def, normalized, target, linear);
        const layer = saveCopy
          ? new SavedModuleLayer(linear)
          : def.create(linear, normalized, {
              target,
              seed: layerSeed(normalized.seed ?? 0, name, target),
            });
        created.push([state, layer]);
        if (linear instanceof LayerLinear) linear.checkAdapter(layer, target);
      }
    } catch (e) {
      for (const [, layer] of created) layer.dispose();
      this.dropEmptySlots();
      throw e;
    }
    for (const [state, layer] of created) state.slot.add(name, layer);
    this.configs.set(name, normalized);
    this.adapterTargets.set(name, targets);
    this.moduleTargets.set(name, modules);
    if (this.active === null) this.active = name;
    this.refreshTrainable();
  }

  /** Make `name` the adapter used in forward passes and the only one trainable. */
  setAdapter(name: string): void {
    this.live();
    this.config(name);
    this.active = name;
    this.refreshTrainable();
  }

  /** Remove an adapter and dispose its variables (it must not be merged). */
  deleteAdapter(name: string): void {
    this.live();
    this.config(name);
    for (const [t, s] of this.targetsByName) {
      if (s.merged.has(name))
        throw new AdapterError(`adapter ${describe(name)} is merged into ${t}; unmerge it before deleting`);
    }
    for (const s of this.targetsByName.values()) s.slot.remove(name)?.dispose();
    this.configs.delete(name);
    this.adapterTargets.delete(name);
    this.moduleTargets.delete(name);
    if (this.active === name) this.active = this.configs.size ? [...this.configs.keys()][0]! : null;
    this.dropEmptySlots();
    this.refreshTrainable();
  }

  private dropEmptySlots(): void {
    for (const [t, s] of this.targetsByName) {
      if (s.slot.byName.size === 0 && s.merged.size === 0) {
        s.linear.deleteModule(SLOT);
        s.linear.hook = null;
        this.targetsByName.delete(t);
      }
    }
  }

  private refreshTrainable(): void {
    this.model.setTrainable(false);
    if (this.active !== null) {
      for (const s of this.targetsByName.values()) {
        const layer = s.slot.byName.get(this.active);
        if (!layer) continue;
        const frozen = layer.frozenParameters();
        for (const [n, v] of layer.namedParameters()) v.trainable = !frozen.has(n);
      }
    }
    if (this.model instanceof LayersModule) this.model.sync();
  }

  private forwardHook(state: TargetState, x: tf.Tensor, base: tf.Tensor): tf.Tensor {
    const name = this.active;
    if (this.disabled || name === null || state.merged.has(name)) return base;
    const layer = state.slot.byName.get(name);
    if (!layer) return base;
    if (state.linear instanceof LayerLinear) return state.linear.adapt(layer, x, base);
    const lead = base.shape.slice(0, -1);
    const y = layer.apply(
      x.reshape([-1, state.linear.inFeatures]) as tf.Tensor2D,
      base.reshape([-1, state.linear.outFeatures]) as tf.Tensor2D,
    );
    return y.reshape([...lead, state.linear.outFeatures]);
  }

  /** Variables of the active adapter (what an optimiser should get). */
  trainableVariables(): tf.Variable[] {
    return this.model.trainableVariables();
  }

  /** Counts of trainable and all parameters (all includes every adapter, as PEFT counts). */
  countParameters(): { trainable: number; total: number } {
    return this.model.countParameters();
  }

  /** `trainable params: 1,234 || all params: 56,789 || trainable%: 2.1731` (PEFT's report). */
  trainableParametersReport(): string {
    const { trainable, total } = this.countParameters();
    return `trainable params: ${commas(trainable)} || all params: ${commas(total)} || trainable%: ${((100 * trainable) / total).toFixed(4)}`;
  }

  /** Print the report (PEFT's `print_trainable_parameters`) and return it. */
  printTrainableParameters(): string {
    const s = this.trainableParametersReport();
    console.log(s);
    return s;
  }

  /** The method's extra loss (AdaLoRA's orthogonality), averaged over the active adapter's layers, or null. */
  regularizationLoss(): tf.Scalar | null {
    const terms = this.adapterLayers()
      .map(([, l]) => l.regularizer())
      .filter((t): t is tf.Scalar => t !== null);
    if (!terms.length) return null;
    const out = tf.tidy(() => tf.addN(terms).div(terms.length) as tf.Scalar);
    tf.dispose(terms);
    return out;
  }

  /** Run `fn` with every adapter switched off (merged weights stay: unmerge first for the pure base). */
  withAdapterDisabled<T>(fn: () => T): T {
    this.live();
    for (const [t, s] of this.targetsByName) {
      if (s.merged.size)
        throw new AdapterError(
          `${t} has merged adapters (${[...s.merged].join(', ')}); unmerge before disabling`,
        );
    }
    const prev = this.disabled;
    this.disabled = true;
    try {
      return fn();
    } finally {
      this.disabled = prev;
    }
  }

  /** Switch adapters off until `enableAdapters()` (prefer `withAdapterDisabled`). */
  disableAdapters(): void {
    this.live();
    this.disabled = true;
  }

  enableAdapters(): void {
    this.disabled = false;
  }

  /** Add ΔW (and Δb) of the given adapters (default: the active one) into the frozen layers. */
  merge(names: readonly string[] = [this.activeAdapter]): void {
    this.live();
    for (const name of names) {
      this.config(name);
      for (const t of [...this.adapterTargets.get(name)!, ...this.moduleTargets.get(name)!]) {
        const s = this.targetsByName.get(t)!;
        if (s.merged.has(name)) continue;
        const layer = s.slot.byName.get(name)!;
        if (!layer.mergeable)
          throw new AdapterError(
            `${layer.method} adapters are not linear in the weight and cannot be merged (${t})`,
          );
        layer.mergeInto(s.linear, t);
        s.linear.weightsChanged();
        s.merged.add(name);
      }
    }
  }

  /** Subtract every merged adapter back out of the layers. */
  unmerge(): void {
    this.live();
    for (const [t, s] of this.targetsByName) {
      for (const name of [...s.merged].reverse()) {
        s.slot.byName.get(name)!.unmergeFrom(s.linear, t);
        s.linear.weightsChanged();
        s.merged.delete(name);
      }
    }
  }

  /** Whether any adapter is merged into any layer. */
  get merged(): boolean {
    return [...this.targetsByName.values()].some((s) => s.merged.size > 0);
  }

  /** Merge the active adapter, remove every adapter and return the plain model (as PEFT's `merge_and_unload`). */
  mergeAndUnload(): M {
    this.merge();
    return this.unloadAll();
  }

  /** Remove every adapter without merging and return the plain model (PEFT's `unload`). */
  unload(): M {
    this.live();
    this.unmerge();
    return this.unloadAll();
  }

  private unloadAll(): M {
    for (const s of this.targetsByName.values()) {
      for (const layer of s.slot.byName.values()) layer.dispose();
      s.linear.deleteModule(SLOT);
      s.linear.hook = null;
    }
    this.targetsByName.clear();
    this.configs.clear();
    this.adapterTargets.clear();
    this.moduleTargets.clear();
    this.active = null;
    this.unloaded = true;
    if (this.model instanceof LayersModule) this.model.release();
    return this.model;
  }
}

/**
 * Wrap `model` with a first adapter (PEFT's `get_peft_model`). A `tf.LayersModel` is wrapped in place
 * through a `LayersModule` view (src/peft/layers-model.ts): its `predict` / `fit` then run the adapter, and
 * `unload()` / `mergeAndUnload()` hand back that view, whose `layersModel` is the plain model again.
 */
export function getPeftModel(
  model: tf.LayersModel,
  config: BaseAdapterConfig | Record<string, unknown>,
  adapterName?: string,
): PeftModel<LayersModule>;
export function getPeftModel<M extends Module>(
  model: M,
  config: BaseAdapterConfig | Record<string, unknown>,
  adapterName?: string,
): PeftModel<M>;
export function getPeftModel(
  model: Module | tf.LayersModel,
  config: BaseAdapterConfig | Record<string, unknown>,
  adapterName = 'default',
): PeftModel<Module> {
  if (model instanceof tf.LayersModel) {
    const view = new LayersModule(model);
    try {
      return new PeftModel(view, config, adapterName);
    } catch (e) {
      view.release();
      throw e;
    }
  }
  return new PeftModel(model, config, adapterName);
}
