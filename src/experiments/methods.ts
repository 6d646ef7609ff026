/**
 * What trains in a fine-tuning run. A `MethodSpec` names one of
 *
 * - `linear-probe`: only the task head (the base is frozen, no adapter);
 * - `full`: every parameter of the model (true full fine-tuning, not an adapter);
 * - an adapter method of the registry (`quantum-peft`, `quantum-peft-lie`, `lora`, `adalora`, `bitfit`,
 *   `houlsby`, `pfeiffer`, `dora`, `vera`, or the registry's `full`), injected into `targets` through
 *   `getPeftModel`, plus the task head (as Hugging Face PEFT's `modules_to_save` does for classifiers).
 *
 * `rank` is the method's rank (LoRA `r`, Quantum-PEFT `K`, AdaLoRA `initR`), `layers` the circuit depth L.
 */
import { AdapterError, describe, InputError } from '../errors.ts';
import type { BaseModel } from '../models/checkpoint.ts';
import { TextTransformer } from '../models/text.ts';
import type { Linear } from '../nn/linear.ts';
import type { Module } from '../nn/module.ts';
import { QUANTUM_FINETUNE_DEFAULTS } from '../peft/methods/quantum-peft.ts';
import { getPeftModel, matchTargets, type PeftModel } from '../peft/model.ts';
import { type BaseAdapterConfig, getMethod, listMethods, onlyKnobs } from '../peft/registry.ts';
import type { tf } from '../tf/backend.ts';
import type { StepHook } from '../train/engine.ts';
import type { TaskSpec } from '../train/tasks.ts';

/** The projections of every transformer block. */
export const ALL_BLOCK_LINEARS = ['query', 'key', 'value', 'output', 'fc1', 'fc2'] as const;

export interface MethodSpec {
  /** `linear-probe`, `full`, or a registered adapter method. */
  readonly method: string;
  /** Rank (LoRA r, Quantum-PEFT K, AdaLoRA initR). */
  readonly rank?: number;
  /** Circuit layers L (quantum methods). */
  readonly layers?: number;
  /** Target module names (suffixes of dotted names) or one regular expression. */
  readonly targets?: readonly string[] | string;
  /** The method's scale (LoRA `loraAlpha`, Quantum-PEFT `alpha`). */
  readonly alpha?: number;
  /** Further fields of the adapter config, passed through (validated by the method). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** A short name for tables (default derived from the method and rank). */
  readonly label?: string;
}

/**
 * The two ways to fine-tune that are not adapter methods, with their table labels: `linear-probe` trains the
 * task head alone, `full` every parameter of the model (the registry's `full`, dense ΔW on chosen targets, is
 * reached through this one's name only as a registry config).
 */
export const NON_ADAPTER_MODES = { 'linear-probe': 'linear probe', full: 'full fine-tuning' } as const;

/** Methods `finetune` accepts besides the registry's. */
export const EXTRA_METHODS = Object.keys(NON_ADAPTER_MODES) as (keyof typeof NON_ADAPTER_MODES)[];

function isMode(method: string): method is keyof typeof NON_ADAPTER_MODES {
  return Object.hasOwn(NON_ADAPTER_MODES, method);
}

/** Every method name `finetune` accepts. */
export function finetuneMethods(): string[] {
  return [...EXTRA_METHODS, ...listMethods().filter((m) => !isMode(m))];
}

/** Default targets of a method (its registry entry says; otherwise attention query and value). */
export function defaultTargets(method: string): readonly string[] {
  return getMethod(method).defaultTargets ?? ['query', 'value'];
}

/** The table label of a spec: `LoRA K=2`, `Quantum-PEFT K=4 L=2`, `BitFit`, … (the method's registry entry says how). */
export function methodLabel(spec: MethodSpec): string {
  if (spec.label) return spec.label;
  if (isMode(spec.method)) return NON_ADAPTER_MODES[spec.method];
  const def = listMethods().includes(spec.method) ? getMethod(spec.method) : null;
  if (!def) return spec.method;
  return def.label + (def.labelSuffix?.(spec) ?? '');
}

/** Check a spec's fields (typed errors naming the field, what was expected and what was given). */
export function checkMethodSpec(spec: MethodSpec): void {
  if (typeof spec !== 'object' || spec === null)
    throw new InputError(`expected a method spec object, got ${describe(spec)}`);
  const known = finetuneMethods();
  if (typeof spec.method !== 'string' || !known.includes(spec.method)) {
    throw new InputError(`unknown method ${describe(spec.method)}; expected one of ${known.join(', ')}`);
  }
  for (const k of ['rank', 'layers'] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || v < (k === 'layers' ? 0 : 1))) {
      throw new InputError(`${k} must be an integer ≥ ${k === 'layers' ? 0 : 1}, got ${describe(v)}`);
    }
  }
  if (spec.alpha !== undefined && !(Number.isFinite(spec.alpha) && spec.alpha > 0)) {
    throw new InputError(`alpha must be a positive number, got ${describe(spec.alpha)}`);
  }
  const t = spec.targets;
  if (
    t !== undefined &&
    !(typeof t === 'string' && t.length > 0) &&
    !(Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string' && x.length > 0))
  ) {
    throw new InputError(
      `targets must be a non-empty list of module names or a regular expression, got ${describe(t)}`,
    );
  }
}

/** Fine-tuning defaults of the quantum methods (kept here under their old name; see `QUANTUM_FINETUNE_DEFAULTS`). */
export const QUANTUM_DEFAULTS = QUANTUM_FINETUNE_DEFAULTS;

/**
 * The registry config of an adapter spec: the spec's options, then the generic knobs (rank, alpha, layers)
 * mapped by the method itself (`totalSteps` feeds AdaLoRA's budget schedule), validated strictly.
 */
export function adapterConfig(spec: MethodSpec, seed: number, totalSteps: number): BaseAdapterConfig {
  const def = getMethod(spec.method);
  const targetModules = spec.targets ?? defaultTargets(spec.method);
  const c: Record<string, unknown> = { method: spec.method, targetModules, seed, ...(spec.options ?? {}) };
  const knobs = { rank: spec.rank, alpha: spec.alpha, layers: spec.layers, totalSteps };
  if (def.applyKnobs) def.applyKnobs(c, knobs);
  else onlyKnobs(spec.method, knobs, []);
  return def.normalize(c);
}

/** A model set up for training under a spec. */
export interface TrainingSetup {
  /** The adapter wrapper (null for `linear-probe` and `full`). */
  readonly peft: PeftModel<Module> | null;
  /** Trainable parameters by dotted name (what the optimiser gets). */
  readonly trainable: [string, tf.Variable][];
  /** Scalars in trainable variables, in the adapters alone, and in the task head. */
  readonly counts: { trainable: number; adapter: number; head: number; total: number };
  /** The closed-form count (registry formula per target + head), to check `counts.trainable` against. */
  readonly closedForm: number;
  /** Dotted names of the adapted layers. */
  readonly targets: string[];
  /** What runs after each training step (AdaLoRA's rank allocator). */
  readonly hooks: readonly StepHook[];
  /** The adapter config as the registry normalised it (null without an adapter). */
  readonly config: BaseAdapterConfig | null;
}

/** The task head that trains with every method (the ViT `head`, the text classifier `head`, none for LM). */
export function taskHead(model: BaseModel, spec: TaskSpec): Linear | null {
  if (spec.kind === 'lm') return null;
  if (model instanceof TextTransformer) {
    if (!model.head) throw new InputError('the text model has no classifier head; create the task first');
    return model.head;
  }
  return model.head;
}

function size(vs: readonly [string, tf.Variable][]): number {
  return vs.reduce((a, [, v]) => a + v.size, 0);
}

/**
 * Make `model` train as `spec` says: freeze it, inject the adapter, unfreeze the task head (or, for `full`,
 * everything). Call after `createTask` (which creates the head).
 */
export function setupMethod(
  model: BaseModel,
  task: TaskSpec,
  spec: MethodSpec,
  seed: number,
  totalSteps: number,
): TrainingSetup {
  checkMethodSpec(spec);
  if (spec.method === 'linear-probe' && task.kind === 'lm') {
    throw new InputError(
      'linear-probe needs a task with a head to train (image or classify), got a language-model task',
    );
  }
  return setupModule(model, taskHead(model, task), spec, seed, totalSteps);
}

/**
 * `setupMethod` for any module: `head` (if any) is the new task head that trains with every method. Checks
 * that the trainable count equals the closed form (registry formula per target + head): a mismatch means a
 * method's layer and its `paramCount` disagree, which is a bug, so it is an error, not a warning.
 */
export function setupModule(
  model: Module,
  head: Linear | null,
  spec: MethodSpec,
  seed: number,
  totalSteps: number,
): TrainingSetup {
  checkMethodSpec(spec);
  const headParams = head ? size(head.namedParameters()) : 0;
  let peft: PeftModel<Module> | null = null;
  let config: BaseAdapterConfig | null = null;
  let targets: string[] = [];
  let closedForm: number;
  if (spec.method === 'full') {
    model.setTrainable(true);
    closedForm = model.countParameters().total;
  } else if (spec.method === 'linear-probe') {
    if (!head) throw new InputError('linear-probe needs a task head to train, and this model has none');
    model.setTrainable(false);
    head.setTrainable(true);
    closedForm = headParams;
  } else {
    config = adapterConfig(spec, seed, totalSteps);
    targets = matchTargets(model, config.targetModules);
    if (head) {
      const headName = model.namedModules().find(([, m]) => m === head)![0];
      if (targets.includes(headName)) {
        throw new InputError(
          `targets ${describe(String(config.targetModules))} include the task head ${headName}, which trains in full anyway; target the blocks' layers`,
        );
      }
    }
    peft = getPeftModel(model, config);
    head?.setTrainable(true);
    const def = getMethod(spec.method);
    closedForm = headParams;
    for (const t of targets) {
      const l = model.getModule(t) as Linear;
      closedForm += def.paramCount(l.inFeatures, l.outFeatures, config);
    }
  }
  const trainable = model.namedParameters().filter(([, v]) => v.trainable);
  const adapter = peft
    ? size(peft.adapterLayers().flatMap(([, l]) => l.namedParameters().filter(([, v]) => v.trainable)))
    : 0;
  const hooks =
    peft && config
      ? (getMethod(spec.method).trainingHooks?.(
          peft.adapterLayers().map(([, l]) => l),
          config,
        ) ?? [])
      : [];
  const trainableCount = size(trainable);
  if (trainableCount !== closedForm) {
    throw new AdapterError(
      `${spec.method}: ${trainableCount} trainable parameters, but the closed form gives ${closedForm}; the method's layer and its paramCount disagree`,
    );
  }
  return {
    peft,
    trainable,
    counts: {
      trainable: trainableCount,
      adapter,
      head: spec.method === 'full' ? 0 : headParams,
      total: model.countParameters().total,
    },
    closedForm,
    targets,
    hooks,
    config,
  };
}
