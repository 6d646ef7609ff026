/**
 * One registry of adapter methods, keyed by the config's `method` (Hugging Face PEFT's `PEFT_TYPE_TO_*`
 * mappings in one place). A method is a config normaliser, a layer factory and its closed-form parameter
 * count; the PEFT model and the contract tests go through this table only.
 */
import { AdapterError, describe, InputError } from '../errors.ts';
import type { Linear } from '../nn/linear.ts';
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
}

/** Context a layer factory gets: the target's dotted name and a per-target seed. */
export interface LayerContext {
  readonly target: string;
  readonly seed: number;
}

/** An adapter method as the registry holds it. */
export interface MethodDef<C extends BaseAdapterConfig = BaseAdapterConfig> {
  readonly method: string;
  readonly description: string;
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

/** Add a method to the registry (a second registration under the same name is an error). */
export function registerMethod<C extends BaseAdapterConfig>(def: MethodDef<C>): void {
  if (METHODS.has(def.method))
    throw new AdapterError(`adapter method ${describe(def.method)} is already registered`);
  METHODS.set(def.method, def as unknown as MethodDef);
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

/** The common fields (`targetModules`, `seed`) validated. */
export function commonFields(c: Record<string, unknown>): { targetModules: TargetModules; seed: number } {
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
  return { targetModules: t as TargetModules, seed: intField(c, 'seed', 0, 0) };
}
