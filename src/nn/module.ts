/**
 * A small PyTorch-like module system over TensorFlow.js variables. Models are trees of modules with dotted
 * names (`blocks.0.attn.query`), which is what adapter injection targets by name (Hugging Face PEFT's
 * `target_modules`). Parameters are `tf.Variable`s; `trainable` is the variable's own flag, so an
 * optimiser given `trainableVariables()` touches only what is meant to train.
 */

import { describe, InputError } from '../errors.ts';
import { tf } from '../tf/backend.ts';

let uid = 0;

/** The base of every layer and model: named children and parameters (see the file comment). */
export abstract class Module {
  private readonly children = new Map<string, Module>();
  private readonly params = new Map<string, tf.Variable>();
  /** Dropout and similar layers read this; `train()` / `eval()` set it on the whole tree. */
  training = true;

  /** Register (or replace) a child module under `name`; returns it. */
  protected addModule<M extends Module>(name: string, module: M): M {
    checkName(name);
    this.children.set(name, module);
    return module;
  }

  /** Create a parameter from an initial tensor (the tensor is kept by the variable, not disposed). */
  protected addParameter(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    checkName(name);
    const v = tf.variable(init, trainable, `p${uid++}_${name}`);
    init.dispose();
    this.params.set(name, v);
    return v;
  }

  /** Register an existing variable as a parameter (it is not copied; `dispose` will dispose it). */
  protected adoptParameter(name: string, v: tf.Variable): tf.Variable {
    checkName(name);
    this.params.set(name, v);
    return v;
  }

  /**
   * Attach (or replace) a child from outside the module, as adapter injection does: the child's parameters
   * then appear in `namedParameters()` under `<this>.<name>.…`, like Hugging Face PEFT's injected layers.
   */
  setModule<M extends Module>(name: string, module: M): M {
    return this.addModule(name, module);
  }

  /** Detach a child by local name; returns it (or `undefined` when there is none). Its variables are kept. */
  deleteModule(name: string): Module | undefined {
    const m = this.children.get(name);
    this.children.delete(name);
    return m;
  }

  /** Child modules by local name, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every module of the tree with its dotted name (`''` for this one), depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.children) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Every parameter of the tree with its dotted name. */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, v] of this.params) out.push([prefix ? `${prefix}.${n}` : n, v]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** This module's own parameters (not its children's). */
  ownParameters(): [string, tf.Variable][] {
    return [...this.params];
  }

  /** The module at a dotted path. */
  getModule(path: string): Module {
    let m: Module = this;
    for (const part of path ? path.split('.') : []) {
      const next = m.children.get(part);
      if (!next) throw new InputError(`no module ${describe(path)} (missing ${describe(part)})`);
      m = next;
    }
    return m;
  }

  /** Variables whose `trainable` flag is set. */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .map(([, v]) => v)
      .filter((v) => v.trainable);
  }

  /** Number of scalars in all parameters, and in trainable ones. */
  countParameters(): { total: number; trainable: number } {
    let total = 0;
    let trainable = 0;
    for (const [, v] of this.namedParameters()) {
      total += v.size;
      if (v.trainable) trainable += v.size;
    }
    return { total, trainable };
  }

  /** Set `trainable` on every parameter of the tree. */
  setTrainable(flag: boolean): this {
    for (const [, v] of this.namedParameters()) v.trainable = flag;
    return this;
  }

  train(flag = true): this {
    for (const [, m] of this.namedModules()) m.training = flag;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** A copy of every parameter's values by dotted name (float32 arrays with shapes). */
  stateDict(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [n, v] of this.namedParameters())
      out[n] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
    return out;
  }

  /**
   * Assign parameter values by dotted name. With `strict` (default) every parameter must be present with
   * its exact shape and no unknown names may appear.
   */
  loadStateDict(
    state: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>,
    strict = true,
  ): void {
    const params = new Map(this.namedParameters());
    if (strict) {
      const missing = [...params.keys()].filter((k) => !(k in state));
      const unknown = Object.keys(state).filter((k) => !params.has(k));
      if (missing.length || unknown.length) {
        throw new InputError(
          `state does not match the model: ${missing.length ? `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` : ''}` +
            `${missing.length && unknown.length ? '; ' : ''}${unknown.length ? `unexpected ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}` : ''}`,
        );
      }
    }
    for (const [name, t] of Object.entries(state)) {
      const v = params.get(name);
      if (!v) continue;
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new InputError(
          `parameter ${describe(name)}: expected shape [${v.shape.join(', ')}], got [${t.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from(t.data), [...v.shape], 'float32')));
    }
  }

  /** Dispose every variable of the tree. */
  dispose(): void {
    for (const [, v] of this.namedParameters()) v.dispose();
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new InputError(`module and parameter names must match [A-Za-z0-9_]+, got ${describe(name)}`);
}

/** A list of modules named `0`, `1`, … (like torch.nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => {
      this.addModule(String(i), m);
    });
  }
}
