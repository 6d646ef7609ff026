/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, keyed by dotted parameter name so
 * that its state saves and loads across processes (tfjs's own optimisers key state by variable order and
 * per-process variable names). Decay applies to matrices (rank ≥ 2) only, not to biases or norms.
 */

import { describe, InputError, TrainingDivergedError } from '../errors.ts';
import { tf } from '../tf/backend.ts';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value (0 or undefined: no clipping). */
  clipNorm?: number;
}

/** An update that would make a parameter (or an optimiser moment) non-finite; nothing of it was applied. */
export class NonFiniteUpdateError extends TrainingDivergedError {
  constructor(readonly parameter: string) {
    super(`the update would make ${parameter} non-finite (NaN or ±Infinity); nothing of it was applied`);
  }
}

/** AdamW over named parameters; `apply` one step from `tf.variableGrads` gradients, `stateDict` to save it. */
export class AdamW {
  readonly params: readonly [string, tf.Variable][];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  /** Number of updates applied so far (bias correction uses it). */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(params: [string, tf.Variable][], opts: AdamWOptions = {}) {
    this.params = params;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.clipNorm = opts.clipNorm ?? 0;
    for (const [name, p] of params) {
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /**
   * Apply one update with learning rate `lr` from gradients keyed by *variable* name (as
   * `tf.variableGrads` returns them). Returns the global gradient norm before clipping; a non-finite norm
   * applies nothing (the caller decides how to stop). The new parameters and moments are computed first and
   * committed only when every value is finite: otherwise nothing changes (not even the step count) and a
   * `NonFiniteUpdateError` names the first parameter that would have become NaN or infinite.
   */
  apply(grads: Record<string, tf.Tensor>, lr: number): number {
    if (!(lr >= 0)) throw new InputError(`learning rate must be ≥ 0, got ${describe(lr)}`);
    const present = this.params.filter(([, p]) => grads[p.name] !== undefined);
    const norm = tf.tidy(() => {
      const sq = present.map(([, p]) => tf.sum(tf.square(grads[p.name]!)));
      return sq.length ? Math.sqrt(tf.addN(sq).dataSync()[0]!) : 0;
    });
    if (!Number.isFinite(norm)) return norm;
    const scale = this.clipNorm > 0 && norm > this.clipNorm ? this.clipNorm / norm : 1;
    const step = this.step + 1;
    const c1 = 1 - this.beta1 ** step;
    const c2 = 1 - this.beta2 ** step;
    tf.tidy(() => {
      const next = present.map(([name, p]) => {
        const g = scale === 1 ? grads[p.name]! : tf.mul(grads[p.name]!, scale);
        const m = tf.add(tf.mul(this.m.get(name)!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v.get(name)!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        let update: tf.Tensor = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        if (this.weightDecay > 0 && p.rank >= 2) update = tf.add(update, tf.mul(p, this.weightDecay));
        return { name, p, m, v, next: tf.sub(p, tf.mul(update, lr)) };
      });
      // x·0 is 0 for finite x and NaN otherwise, so one sum per tensor finds any NaN/±Inf without overflow
      const checks = next.flatMap((u) => [u.next, u.m, u.v].map((t) => tf.sum(tf.mul(t, 0))));
      const flags = checks.length ? tf.stack(checks).dataSync() : new Float32Array(0);
      const bad = Array.from(flags).findIndex((f) => f !== 0);
      if (bad >= 0) throw new NonFiniteUpdateError(next[Math.floor(bad / 3)]!.name);
      for (const u of next) {
        this.m.get(u.name)!.assign(u.m);
        this.v.get(u.name)!.assign(u.v);
        u.p.assign(u.next);
      }
    });
    this.step = step;
    return norm;
  }

  /** Moments by `<param>.m` / `<param>.v` (float32 copies) plus the step count. */
  stateDict(): { step: number; tensors: Record<string, { shape: number[]; data: Float32Array }> } {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name] of this.params) {
      for (const [suffix, map] of [
        ['m', this.m],
        ['v', this.v],
      ] as const) {
        const t = map.get(name)!;
        tensors[`${name}.${suffix}`] = { shape: [...t.shape], data: t.dataSync() as Float32Array };
      }
    }
    return { step: this.step, tensors };
  }

  /** Restore moments saved by `stateDict` (every parameter must be present with its shape). */
  loadStateDict(state: {
    step: number;
    tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;
  }): void {
    for (const [name, p] of this.params) {
      for (const [suffix, map] of [
        ['m', this.m],
        ['v', this.v],
      ] as const) {
        const t = state.tensors[`${name}.${suffix}`];
        if (!t) throw new InputError(`optimizer state has no ${describe(`${name}.${suffix}`)}`);
        if (t.shape.length !== p.rank || t.shape.some((d, i) => d !== p.shape[i])) {
          throw new InputError(
            `optimizer state ${describe(`${name}.${suffix}`)}: expected shape [${p.shape.join(', ')}], got [${t.shape.join(', ')}]`,
          );
        }
        tf.tidy(() => map.get(name)!.assign(tf.tensor(Float32Array.from(t.data), p.shape)));
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Linear warm-up for `warmup` steps, then cosine decay from `lr` to `lr·floor` at `total` steps. */
export function warmupCosine(step: number, total: number, lr: number, warmup: number, floor = 0.1): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
