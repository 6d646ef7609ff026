/**
 * Quantum-PEFT's Lie/Taylor variant (docs/method.md §4): P = exp(S)·I_{d,K} with the skew generator restricted to
 * the first K columns, S = [[A, −Bᵀ], [B, 0]], A ∈ so(K), B ∈ R^{(d−K)×K}; the same for Q; ΔW = α·P·diag(λ)·Qᵀ.
 * Parameters per factor dK − K(K+1)/2; 2NK − K² per N×N adapter with λ.
 *
 * Exact form, as a 2K×2K exponential without a QR (ours; equivalent to Edelman–Arias–Smith's): with
 * V = [[I_K, 0], [0, B]] (d×2K), S·V = V·T for T = [[A, −BᵀB], [I_K, 0]], so exp(S)·I_{d,K} = V·exp(T)·I_{2K,K},
 * i.e. P = [E₁; B·E₂] with [E₁; E₂] the first K columns of exp(T). Every step is a matMul, so tfjs autodiff
 * gives exact gradients. The truncated Taylor form evaluates Σ_{j≤order} Tʲ/j! the same way, which equals
 * Σ_{j≤order} Sʲ/j! · I_{d,K} exactly — and, like it, is orthogonal only approximately (large ‖S‖, low order).
 * T is not normal; balanced by a diagonal similarity (see `columns`) the float32 ‖PᵀP − I‖ stays near 1e-6
 * up to ‖B‖ ≈ 10 (test/peft/lie.test.ts).
 */
import { InputError } from '../../errors.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import { expm, taylorApply } from '../expm.ts';
import { lieParamCount } from '../param-counts.ts';
import {
  type BaseAdapterConfig,
  commonFields,
  enumField,
  intField,
  type LayerContext,
  type MethodDef,
  numField,
} from '../registry.ts';
import { OrthogonalFactorLayer } from './orthogonal-factors.ts';
import { QUANTUM_FINETUNE_DEFAULTS } from './quantum-peft.ts';

/** The Lie/Taylor variant's config (method `quantum-peft-lie`). */
export interface QuantumPeftLieConfig extends BaseAdapterConfig {
  readonly method: 'quantum-peft-lie';
  readonly rank: number;
  readonly alpha?: number;
  /** `exact` (2K×2K exponential, default) or `taylor` (truncated series of `order`). */
  readonly form?: 'exact' | 'taylor';
  /** Taylor order (default 8; only for `form: 'taylor'`). */
  readonly order?: number;
  /** Standard deviation of B's initial entries (default 1/√d: columns of about unit norm). */
  readonly initStd?: number;
}
type Normalized = Required<Omit<QuantumPeftLieConfig, 'initStd'>> & { initStd?: number };

/** Constant map from the K(K−1)/2 upper-triangle parameters to vec(A), A = U − Uᵀ (no scatter/gather). */
function skewSelector(k: number): tf.Tensor2D {
  const m = (k * (k - 1)) / 2;
  const sel = new Float32Array(m * k * k);
  let idx = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      sel[idx * k * k + i * k + j] = 1;
      sel[idx * k * k + j * k + i] = -1;
      idx++;
    }
  }
  return tf.tensor2d(sel, [m, k * k]);
}

interface Factor {
  a: tf.Variable;
  b: tf.Variable;
  dim: number;
}

/** The Lie/Taylor layer: A and B per factor, and λ. */
export class QuantumPeftLieLayer extends OrthogonalFactorLayer {
  readonly method = 'quantum-peft-lie';
  readonly form: 'exact' | 'taylor';
  readonly order: number;
  readonly p: Factor;
  readonly q: Factor;
  readonly lambda: tf.Variable;

  constructor(layer: Linear, c: Normalized, ctx: LayerContext) {
    super(layer, 'quantum-peft-lie', ctx.target, c.rank, c.alpha);
    const k = c.rank;
    this.form = c.form;
    this.order = c.order;
    const rng = createRng(ctx.seed);
    const factor = (tag: string, d: number): Factor => {
      const std = c.initStd ?? 1 / Math.sqrt(d);
      const b = new Float32Array((d - k) * k);
      for (let i = 0; i < b.length; i++) b[i] = std * rng.normal();
      return {
        a: this.addParameter(`a_${tag}`, tf.zeros([(k * (k - 1)) / 2])),
        b: this.addParameter(`b_${tag}`, tf.tensor2d(b, [d - k, k])),
        dim: d,
      };
    };
    this.p = factor('p', layer.inFeatures);
    this.q = factor('q', layer.outFeatures);
    this.lambda = this.addParameter('lambda', tf.zeros([k]));
  }

  private columns(f: Factor): tf.Tensor2D {
    const k = this.rank;
    return tf.tidy(() => {
      const a = k > 1 ? tf.matMul(f.a.reshape([1, -1]), skewSelector(k)).reshape([k, k]) : tf.zeros([k, k]);
      const b = f.b as tf.Tensor2D;
      const btb = tf.matMul(b, b, true, false);
      // Balance T by V → V·diag(I, c⁻¹I) (exact for any constant c): with c = √‖BᵀB‖ both off-diagonal
      // blocks have norm c instead of ‖B‖² and 1, which keeps float32 rounding near the skew case.
      const c = Math.max(1, Math.sqrt(tf.norm(btb).dataSync()[0]!));
      const t = tf.concat(
        [tf.concat([a, btb.div(-c)], 1), tf.concat([tf.eye(k).mul(c), tf.zeros([k, k])], 1)],
        0,
      ) as tf.Tensor2D;
      const e =
        this.form === 'exact'
          ? expm(t).slice([0, 0], [2 * k, k])
          : taylorApply(t, tf.eye(2 * k, k) as tf.Tensor2D, this.order);
      const e1 = e.slice([0, 0], [k, k]);
      const e2 = e.slice([k, 0], [k, k]);
      return f.dim > k ? (tf.concat([e1, tf.matMul(b, e2).div(c)], 0) as tf.Tensor2D) : (e1 as tf.Tensor2D);
    });
  }

  /** [P, Q] as new tensors. */
  factors(): [tf.Tensor2D, tf.Tensor2D] {
    return [this.columns(this.p), this.columns(this.q)];
  }
}

/** The `quantum-peft-lie` registry entry. */
export const quantumPeftLieMethod: MethodDef<Normalized> = {
  method: 'quantum-peft-lie',
  description:
    'Quantum-PEFT Lie/Taylor form: P = exp(S)·I_{d,K}, exact (2K×2K exponential) or truncated Taylor',
  label: 'Quantum-PEFT (Lie)',
  configKeys: ['rank', 'alpha', 'form', 'order', 'initStd'],
  applyKnobs(c, k) {
    if (k.layers !== undefined) {
      throw new InputError(
        'quantum-peft-lie has no circuit layers (it parametrises the Lie algebra directly); drop --layers',
      );
    }
    c.rank = k.rank ?? c.rank ?? QUANTUM_FINETUNE_DEFAULTS.rank;
    c.alpha = k.alpha ?? c.alpha ?? QUANTUM_FINETUNE_DEFAULTS.alpha;
  },
  labelSuffix: (k) => ` K=${k.rank ?? QUANTUM_FINETUNE_DEFAULTS.rank}`,
  normalize(c) {
    const form = enumField(c, 'form', ['exact', 'taylor'] as const, 'exact');
    return {
      method: 'quantum-peft-lie',
      ...commonFields(c),
      rank: intField(c, 'rank'),
      alpha: numField(c, 'alpha', 1),
      form,
      order: intField(c, 'order', 8, 0),
      ...(c.initStd !== undefined ? { initStd: numField(c, 'initStd', undefined, 0) } : {}),
    };
  },
  create: (layer, c, ctx) => new QuantumPeftLieLayer(layer, c, ctx),
  paramCount: (dIn, dOut, c) => lieParamCount(dIn, dOut, c.rank),
};
