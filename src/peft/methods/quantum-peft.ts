/**
 * Quantum-PEFT (docs/method.md §1–3): ΔW = α·P·diag(λ)·Qᵀ, P ∈ St(d_in, K) and Q ∈ St(d_out, K) the first K columns
 * of orthogonal matrices made by real circuits, λ ∈ R^K initialised to 0 (so the adapted model starts equal
 * to the base, as LoRA's B = 0 does). Trainable: θ_P, θ_Q, λ.
 *
 * The forward pass never forms ΔW: y = base + ((x·P)·(αλ))·Qᵀ costs the same B·d·K matmuls as LoRA, plus
 * building P and Q (O((2L+1)·n·d·K), in the kernels through the bridge, or the tfjs-ops path).
 */
import type { Circuit } from '../../circuit/ir.ts';
import { makeCircuit } from '../../circuit/ir.ts';
import { TEMPLATES, type TemplateName } from '../../circuit/templates/index.ts';
import { describe, FileError, InputError } from '../../errors.ts';
import { READ_LIMITS, readTextBounded } from '../../io/read.ts';
import type { Linear } from '../../nn/linear.ts';
import { tf } from '../../tf/backend.ts';
import { createRng } from '../../util/random.ts';
import type { AdapterCircuit } from '../adapter.ts';
import {
  type CircuitSource,
  type ColumnsPath,
  FACTOR_FORMS,
  type FactorForm,
  type FactorPlan,
  factorCircuit,
  factorColumns,
  factorParamCount,
  planFactor,
} from '../factor.ts';
import { parseAdapterQasm } from '../qasm-link.ts';
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

/**
 * Fine-tuning defaults of the quantum methods (the configs' own defaults are α = 1, L = 2, small angles):
 * random frames (`uniform` angles) so that P and Q mix every feature from the start, as LoRA's random A does,
 * and α = 32 so that λ, trained at the same learning rate as LoRA's B, moves ΔW at a comparable speed
 * (P and Q have unit columns, while LoRA's scale is loraAlpha / r = 8 / r with entries of A near 1/√d).
 * Chosen on MNIST from the Fashion-MNIST ViT (results/README.md); a run's options override them.
 */
export const QUANTUM_FINETUNE_DEFAULTS = { rank: 16, layers: 4, alpha: 32, angleInit: 'uniform' } as const;

/** The circuits of P and Q: one for both, or one each. */
export type CircuitPair<T> = T | { readonly p: T; readonly q: T };

/** Quantum-PEFT's config (method `quantum-peft`). */
export interface QuantumPeftConfig extends BaseAdapterConfig {
  readonly method: 'quantum-peft';
  /** K: the rank of ΔW (number of columns of P and Q). */
  readonly rank: number;
  /** α (default 1). */
  readonly alpha?: number;
  /** Circuit template for P and Q (default `simplified-two-design`). */
  readonly template?: TemplateName;
  /** Template layers L (default 2). */
  readonly layers?: number;
  /**
   * How a width that is not a power of two becomes a factor (peft/factor.ts): `auto` (default: the cheaper of
   * mixed radix and the direct sum, by closed-form count), `mixed-radix` or `direct-sum`. A saved adapter
   * without this field predates mixed radix and means `direct-sum` (`fromSaved`).
   */
  readonly factorForm?: FactorForm;
  /** Fixed circuits instead of a template (power-of-two dimensions); their parameters are θ. */
  readonly circuit?: CircuitPair<Circuit>;
  /** OpenQASM 3 programs whose `input` angles are θ (power-of-two dimensions). */
  readonly qasm?: CircuitPair<string>;
  /** OpenQASM 3 files, read once when the config is normalised (the text is what gets saved). */
  readonly qasmFile?: CircuitPair<string>;
  /**
   * Initial angles (docs/method.md §1): `small` normal(0, angleStd²) (default), `uniform` in [−π, π) (P and Q then
   * start as random frames mixing every feature, like LoRA's random A), or `zero` (signed basis vectors).
   */
  readonly angleInit?: 'small' | 'uniform' | 'zero';
  /** Standard deviation of `small` initial angles (default 0.1). */
  readonly angleStd?: number;
  /** How P and Q enter tfjs (default `kernel`, the faster on wasm/cpu by bench/adapters.bench.ts). */
  readonly path?: ColumnsPath;
}

type Normalized = Required<Omit<QuantumPeftConfig, 'circuit' | 'qasm' | 'qasmFile'>> &
  Pick<QuantumPeftConfig, 'circuit' | 'qasm'>;

function pairOf<T>(v: CircuitPair<T>, isSingle: (x: unknown) => boolean): { p: T; q: T } {
  if (isSingle(v)) return { p: v as T, q: v as T };
  const o = v as { p?: T; q?: T };
  if (o && typeof o === 'object' && o.p !== undefined && o.q !== undefined) return { p: o.p, q: o.q };
  throw new InputError(`quantum-peft config: expected one circuit or {p, q}, got ${describe(v)}`);
}

const isCircuit = (x: unknown) => typeof x === 'object' && x !== null && 'gates' in x && 'qubits' in x;

/** Circuit sources for P (d_in) and Q (d_out) from a normalised config. */
function sources(c: Normalized): { p: CircuitSource; q: CircuitSource } {
  if (c.qasm !== undefined) {
    const texts = pairOf(c.qasm, (x) => typeof x === 'string');
    return { p: { circuit: parseAdapterQasm(texts.p, 'P') }, q: { circuit: parseAdapterQasm(texts.q, 'Q') } };
  }
  if (c.circuit !== undefined) {
    const cs = pairOf(c.circuit, isCircuit);
    // JSON round trips lose the frozen IR: rebuild and validate.
    return { p: { circuit: makeCircuit(cs.p) }, q: { circuit: makeCircuit(cs.q) } };
  }
  const t = { template: c.template, layers: c.layers, form: c.factorForm };
  return { p: t, q: t };
}

function readQasmFiles(files: CircuitPair<string>): CircuitPair<string> {
  // a size-bounded read of a regular file (adapter folders resolve these paths inside the folder first)
  const read = (f: string) => {
    try {
      return readTextBounded(f, READ_LIMITS.qasm, 'OpenQASM file');
    } catch (e) {
      if (e instanceof FileError) throw new FileError(`quantum-peft config: qasmFile: ${e.message}`);
      throw e;
    }
  };
  const pair = pairOf(files, (x) => typeof x === 'string');
  return pair.p === pair.q ? read(pair.p) : { p: read(pair.p), q: read(pair.q) };
}

/** The Quantum-PEFT layer: θ_P, θ_Q, λ (see the file comment). */
export class QuantumPeftLayer extends OrthogonalFactorLayer {
  readonly method = 'quantum-peft';
  readonly path: ColumnsPath;
  readonly planP: FactorPlan;
  readonly planQ: FactorPlan;
  readonly thetaP: tf.Variable;
  readonly thetaQ: tf.Variable;
  readonly lambda: tf.Variable;

  constructor(layer: Linear, config: Normalized, context: LayerContext) {
    super(layer, 'quantum-peft', context.target, config.rank, config.alpha);
    const k = config.rank;
    this.path = config.path;
    const src = sources(config);
    const p = planFactor(layer.inFeatures, src.p, 'P');
    const q = planFactor(layer.outFeatures, src.q, 'Q');
    this.planP = p.plan;
    this.planQ = q.plan;
    const rng = createRng(context.seed);
    const angles = (n: number) => {
      const a = new Float32Array(n);
      if (config.angleInit === 'uniform')
        for (let i = 0; i < n; i++) a[i] = -Math.PI + 2 * Math.PI * rng.next();
      if (config.angleInit === 'small') for (let i = 0; i < n; i++) a[i] = config.angleStd * rng.normal();
      return tf.tensor1d(a, 'float32');
    };
    this.thetaP = this.addParameter('theta_p', angles(p.count));
    this.thetaQ = this.addParameter('theta_q', angles(q.count));
    this.lambda = this.addParameter('lambda', tf.zeros([k]));
  }

  /** [P, Q] as new tensors. */
  factors(): [tf.Tensor2D, tf.Tensor2D] {
    return [
      factorColumns(this.planP, this.thetaP as tf.Tensor1D, this.rank, this.path),
      factorColumns(this.planQ, this.thetaQ as tf.Tensor1D, this.rank, this.path),
    ];
  }

  /**
   * Each factor as ONE circuit on ⌈log₂d⌉ qubits with its trained angles (`factorCircuit`: a mixed-radix
   * circuit, a template circuit, or a flattened direct sum); a 1-wide factor has none.
   */
  override circuits(): AdapterCircuit[] {
    const out: AdapterCircuit[] = [];
    for (const [name, plan, v] of [
      ['P', this.planP, this.thetaP],
      ['Q', this.planQ, this.thetaQ],
    ] as const) {
      if (plan.dim === 1) continue;
      const { circuit, rowBasis } = factorCircuit(plan);
      out.push({ name, circuit, theta: Float64Array.from(v.dataSync()), rowBasis, periodic: true });
    }
    return out;
  }
}

/** The `quantum-peft` registry entry. */
export const quantumPeftMethod: MethodDef<Normalized> = {
  method: 'quantum-peft',
  description: 'ΔW = α·P·diag(λ)·Qᵀ with P, Q the first K columns of real circuits (docs/method.md §1–3)',
  normalize(c) {
    const common = commonFields(c);
    const template = enumField(
      c,
      'template',
      Object.keys(TEMPLATES) as TemplateName[],
      'simplified-two-design',
    );
    const given = ['circuit', 'qasm', 'qasmFile'].filter((k) => c[k] !== undefined);
    if (given.length > 1) {
      throw new InputError(
        `quantum-peft config: give one of circuit, qasm, qasmFile; got ${given.join(' and ')}`,
      );
    }
    const qasm = c.qasmFile !== undefined ? readQasmFiles(c.qasmFile as CircuitPair<string>) : c.qasm;
    return {
      method: 'quantum-peft',
      ...common,
      rank: intField(c, 'rank'),
      alpha: numField(c, 'alpha', 1),
      template,
      layers: intField(c, 'layers', 2, 0),
      factorForm: enumField(c, 'factorForm', FACTOR_FORMS, 'auto'),
      angleInit: enumField(c, 'angleInit', ['small', 'uniform', 'zero'] as const, 'small'),
      angleStd: numField(c, 'angleStd', 0.1, 0),
      path: enumField(c, 'path', ['kernel', 'ops'] as const, 'kernel'),
      ...(c.circuit !== undefined ? { circuit: c.circuit as CircuitPair<Circuit> } : {}),
      ...(qasm !== undefined ? { qasm: qasm as CircuitPair<string> } : {}),
    };
  },
  label: 'Quantum-PEFT',
  configKeys: [
    'rank',
    'alpha',
    'template',
    'layers',
    'circuit',
    'qasm',
    'qasmFile',
    'angleInit',
    'angleStd',
    'path',
    'factorForm',
  ],
  applyKnobs(c, k) {
    c.rank = k.rank ?? c.rank ?? QUANTUM_FINETUNE_DEFAULTS.rank;
    c.alpha = k.alpha ?? c.alpha ?? QUANTUM_FINETUNE_DEFAULTS.alpha;
    c.layers = k.layers ?? c.layers ?? QUANTUM_FINETUNE_DEFAULTS.layers;
    c.angleInit ??= QUANTUM_FINETUNE_DEFAULTS.angleInit;
    // the published experiment tables were made with direct-sum factors; keep them reproducible
    c.factorForm ??= 'direct-sum';
  },
  labelSuffix: (k) =>
    ` K=${k.rank ?? QUANTUM_FINETUNE_DEFAULTS.rank} L=${k.layers ?? QUANTUM_FINETUNE_DEFAULTS.layers}`,
  create: (layer, config, context) => new QuantumPeftLayer(layer, config, context),
  paramCount(dIn, dOut, config) {
    if (config.qasm !== undefined || config.circuit !== undefined) {
      const src = sources(config);
      const count = (s: CircuitSource) => ('circuit' in s ? s.circuit.params.length : 0);
      return count(src.p) + count(src.q) + config.rank;
    }
    const count = (d: number) => factorParamCount(d, config.template, config.layers, config.factorForm);
    return count(dIn) + count(dOut) + config.rank;
  },
  fromSaved(saved) {
    // adapters saved before mixed radix existed have no factorForm: their factors are direct sums
    return saved.factorForm === undefined ? { ...saved, factorForm: 'direct-sum' } : saved;
  },
};
