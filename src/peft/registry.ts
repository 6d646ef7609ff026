/**
 * One registry of adapter methods, keyed by the config's `method` (Hugging Face PEFT's `PEFT_TYPE_TO_*`
 * mappings in one place). A method is a config normaliser, a layer factory and its closed-form parameter
 * count; the PEFT model and the contract tests go through this table only.
 */
import { AdapterError, describe, InputError } from '../errors.ts';
import type { Linear } from '../nn/linear.ts';
import type { tf } from '../tf/backend.ts';
import { assertKnownKeys } from '../util/suggest.ts';
import type { AdapterLayer } from './adapter.ts';

/**
 * Which Linear modules an adapter targets: a list of names, each matching a dotted module name exactly or
 * as its suffix after a dot (`query` matches `blocks.0.attn.query`), or a regular expression that must
 * match the whole name (a string here is read as such a pattern, as Hugging Face reads `target_modules`).
 */
export type TargetModules = readonly string[] | RegExp | string;

/** What every config has. `method` discriminates; the other fields belong to the method. */
export interface BaseAdapterConfig {
  readonly method: string;
  readonly targetModules: TargetModules;
  /** Seed for the adapter's random initial values (each target gets its own stream). */
  readonly seed?: number;
  /**
   * Layers trained in full as part of the adapter and saved with it (PEFT's `modules_to_save`, e.g. a new
   * classification head): names matched exactly or as a dotted suffix, never also a target.
   */
  readonly modulesToSave?: readonly string[];
}

/** Context a layer factory gets: the target's dotted name and a per-target seed. */
export interface LayerContext {
  readonly target: string;
  readonly seed: number;
}

/**
 * The generic knobs of a fine-tuning run (`qpeft finetune --rank --alpha --layers`), which each method maps
 * onto its own config fields (`rank` is LoRA's `r`, Quantum-PEFT's `rank`, AdaLoRA's `initR`).
 */
export interface GenericKnobs {
  readonly rank?: number;
  readonly alpha?: number;
  readonly layers?: number;
  /** Optimiser steps of the whole run (AdaLoRA's budget schedule is laid out over them). */
  readonly totalSteps: number;
}

/** Something a method runs after every training step (AdaLoRA's rank allocator). */
export interface TrainingHook {
  /** Called with the optimiser's step count after the update and the step's gradients by variable name. */
  afterStep(step: number, grads: Readonly<Record<string, tf.Tensor>>): void;
}

/** An adapter method as the registry holds it: everything the library knows about the method is here. */
export interface MethodDef<C extends BaseAdapterConfig = BaseAdapterConfig> {
  readonly method: string;
  readonly description: string;
  /** The method's name in tables and logs (`LoRA`, `Quantum-PEFT`). */
  readonly label: string;
  /**
   * The config keys the method reads besides `method`, `targetModules` and `seed`. Any other key is refused
   * (with a "did you mean" where one is close), so a misspelt or Hugging Face-spelt field never passes
   * silently.
   */
  readonly configKeys: readonly string[];
  /** Module names targeted when a fine-tuning run names none (default `query`, `value`). */
  readonly defaultTargets?: readonly string[];
  /**
   * Put the generic knobs into `config` (which holds the run's method options already) with the method's
   * fine-tuning defaults, refusing (typed error) a knob the method does not have. Absent: the method has no
   * knob, and giving one is an error.
   */
  applyKnobs?(config: Record<string, unknown>, knobs: GenericKnobs): void;
  /** What the knobs add to the table label (` K=4`, ` K=16 L=4`); default nothing. */
  labelSuffix?(knobs: Omit<GenericKnobs, 'totalSteps'>): string;
  /** Hooks to run after each training step over the method's layers (AdaLoRA's rank allocator). */
  trainingHooks?(layers: readonly AdapterLayer[], config: C): TrainingHook[];
  /** Validate a config (typed error naming the field, expected and given) and fill its defaults. */
  normalize(config: Record<string, unknown>): C;
  /** A new adapter layer for one target. */
  create(layer: Linear, config: C, context: LayerContext): AdapterLayer;
  /** The closed-form number of trainable scalars this method adds to a d_in × d_out layer. */
  paramCount(dIn: number, dOut: number, config: C): number;
  /** The config as JSON (`adapter_config.json`), inverse of `normalize`. */
  toJSON?(config: C): Record<string, unknown>;
  /** A saved config (`adapter_config.json`) made current before `normalize`: defaults that changed since. */
  fromSaved?(saved: Record<string, unknown>): Record<string, unknown>;
}

const METHODS = new Map<string, MethodDef>();

/** The keys every config may hold. */
export const COMMON_CONFIG_KEYS = ['method', 'targetModules', 'seed', 'modulesToSave'] as const;

/** Names that mean the same across methods and libraries (for "did you mean"). */
const SYNONYMS: readonly (readonly string[])[] = [
  ['r', 'rank', 'initR', 'init_r', 'K'],
  ['alpha', 'loraAlpha', 'lora_alpha', 'scale'],
  ['layers', 'depth', 'reps', 'L'],
  ['targetModules', 'targets', 'target_modules', 'modules'],
];

/** Refuse keys a method does not read (typed error naming the key, a suggestion and the accepted keys). */
export function checkConfigKeys(c: Record<string, unknown>, method: string, keys: readonly string[]): void {
  const accepted = [...COMMON_CONFIG_KEYS, ...keys];
  const aliases: Record<string, string> = {};
  for (const group of SYNONYMS) {
    const meant = group.find((g) => accepted.includes(g));
    if (meant) for (const g of group) if (!accepted.includes(g)) aliases[g] = meant;
  }
  assertKnownKeys(c, accepted, `${method} config`, aliases);
}

/**
 * Add a method to the registry (a second registration under the same name is an error). The registry's copy
 * refuses unknown config keys before the method's own `normalize` runs.
 */
export function registerMethod<C extends BaseAdapterConfig>(def: MethodDef<C>): void {
  if (METHODS.has(def.method))
    throw new AdapterError(`adapter method ${describe(def.method)} is already registered`);
  const strict: MethodDef<C> = {
    ...def,
    normalize(c) {
      if (typeof c !== 'object' || c === null || Array.isArray(c))
        throw new InputError(`${def.method} config: expected an object, got ${describe(c)}`);
      checkConfigKeys(c, def.method, def.configKeys);
      return def.normalize(c);
    },
  };
  METHODS.set(def.method, strict as unknown as MethodDef);
}

/** The method registered under `name`; the error lists the known ones. */
export function getMethod(name: unknown): MethodDef {
  const def = typeof name === 'string' ? METHODS.get(name) : undefined;
  if (!def)
    throw new InputError(
      `unknown adapter method ${describe(name)}; expected one of ${[...METHODS.keys()].join(', ')}`,
    );
  return def;
}

/** Names of every registered method, in registration order. */
export function listMethods(): string[] {
  return [...METHODS.keys()];
}

// ---- small validators shared by the methods' normalisers ----

/** A positive integer field (or its default). */
export function intField(c: Record<string, unknown>, key: string, def?: number, min = 1): number {
  const v = c[key] ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InputError(
      `${String(c.method)} config: ${key} must be an integer ≥ ${min}, got ${describe(v)}`,
    );
  }
  return v;
}

/** A finite number field (or its default). */
export function numField(
  c: Record<string, unknown>,
  key: string,
  def?: number,
  min = Number.NEGATIVE_INFINITY,
): number {
  const v = c[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InputError(
      `${String(c.method)} config: ${key} must be a finite number${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ''}, got ${describe(v)}`,
    );
  }
  return v;
}

/** One of a set of strings (or its default). */
export function enumField<T extends string>(
  c: Record<string, unknown>,
  key: string,
  options: readonly T[],
  def: T,
): T {
  const v = c[key] ?? def;
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    throw new InputError(
      `${String(c.method)} config: ${key} must be one of ${options.join(', ')}, got ${describe(v)}`,
    );
  }
  return v as T;
}

/** The common fields (`targetModules`, `seed`, `modulesToSave`) validated. */
export function commonFields(c: Record<string, unknown>): {
  targetModules: TargetModules;
  seed: number;
  modulesToSave: readonly string[];
} {
  const t = c.targetModules;
  const ok =
    t instanceof RegExp ||
    (typeof t === 'string' && t.length > 0) ||
    (Array.isArray(t) && t.length > 0 && t.every((s) => typeof s === 'string' && s.length > 0));
  if (!ok) {
    throw new InputError(
      `${String(c.method)} config: targetModules must be a non-empty list of module names or a regular expression, got ${describe(t)}`,
    );
  }
  const m = c.modulesToSave ?? [];
  if (!Array.isArray(m) || !m.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InputError(
      `${String(c.method)} config: modulesToSave must be a list of module names, got ${describe(m)}`,
    );
  }
  return { targetModules: t as TargetModules, seed: intField(c, 'seed', 0, 0), modulesToSave: [...m] };
}

/**
 * The knobs of LoRA-style methods (LoRA, DoRA, VeRA): rank → `r` (4 when neither the run nor the options
 * give one), alpha → `loraAlpha`; no circuit layers.
 */
export const LORA_STYLE_KNOBS: Pick<MethodDef, 'applyKnobs' | 'labelSuffix'> = {
  applyKnobs(c, k) {
    onlyKnobs(String(c.method), k, ['rank', 'alpha']);
    c.r = k.rank ?? c.r ?? 4;
    if (k.alpha !== undefined) c.loraAlpha = k.alpha;
  },
  labelSuffix: (k) => (k.rank !== undefined ? ` K=${k.rank}` : ''),
};

/** A knob the method has no field for: a typed error saying so. */
export function refuseKnob(method: string, knob: string, why: string): never {
  throw new InputError(`${method} has no ${knob} (${why}); drop --${knob}`);
}

/** Refuse the knobs a method does not take (those of `knobs` that are set and not in `takes`). */
export function onlyKnobs(
  method: string,
  knobs: Omit<GenericKnobs, 'totalSteps'>,
  takes: readonly ('rank' | 'alpha' | 'layers')[],
): void {
  for (const k of ['rank', 'alpha', 'layers'] as const) {
    if (knobs[k] !== undefined && !takes.includes(k)) {
      refuseKnob(
        method,
        k,
        takes.length ? `it takes ${takes.join(', ')}` : 'it takes none of rank, alpha, layers',
      );
    }
  }
}
