/**
 * The layer half of Hugging Face PEFT's config + layer + model triple: an adapter attached to one frozen
 * `Linear`. Its variables live in the module tree (under `<target>.adapters.<name>`), so the model's own
 * `namedParameters()`, `trainableVariables()` and `countParameters()` see them.
 */
import type { Circuit } from '../circuit/ir.ts';
import { AdapterError } from '../errors.ts';
import type { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';

/** A circuit of an adapter with its current angles, for QASM export. */
export interface AdapterCircuit {
  /** A file-name-safe label (`P`, `Q`, `P.pre` …). */
  readonly name: string;
  readonly circuit: Circuit;
  readonly theta: Float64Array;
  /**
   * The register basis state of each of the factor's rows (the factor is the circuit's matrix read on these
   * rows and its first K of them as columns); absent: the first d basis states.
   */
  readonly rowBasis?: Int32Array;
  /** Whether θ → θ + 4π leaves the circuit's matrix unchanged for every parameter (absent: not known). */
  readonly periodic?: boolean;
}

/** ΔW as a rank-r LoRA product in the Hugging Face layout: ΔWᵀ = (loraAlpha / r) · B · A. */
export interface LoraFactors {
  /** r × d_in, row-major. */
  readonly a: Float32Array;
  /** d_out × r, row-major. */
  readonly b: Float32Array;
  readonly r: number;
  readonly loraAlpha: number;
}

/**
 * One adapter on one Linear. Subclasses declare their variables with `addParameter` and override `apply`
 * (and `deltaWeight` when ΔW is linear, `loraFactors` when it is low-rank).
 */
export abstract class AdapterLayer extends Module {
  /** The registry name of the method. */
  abstract readonly method: string;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(layer: Linear) {
    super();
    this.inFeatures = layer.inFeatures;
    this.outFeatures = layer.outFeatures;
  }

  /** Whether ΔW (and Δb) exist: a linear update that merges into the frozen layer. */
  get mergeable(): boolean {
    return true;
  }

  /**
   * The adapted output for inputs `x` [M, d_in] and the frozen layer's output `base` [M, d_out]. The default
   * adds x·ΔW + Δb, which is right for every linear method; methods override it with a cheaper factored form.
   */
  apply(x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let y = base.add(tf.matMul(x, this.deltaWeight()));
      const db = this.deltaBias();
      if (db) y = y.add(db);
      return y as tf.Tensor2D;
    });
  }

  /** ΔW, d_in × d_out (tfjs Dense convention), as a new tensor the caller disposes. */
  deltaWeight(): tf.Tensor2D {
    throw new AdapterError(
      `${this.method} adapters are not a linear update of the weight; they cannot be merged`,
    );
  }

  /** Δb (d_out) for methods that train a bias, else null. */
  deltaBias(): tf.Tensor1D | null {
    return null;
  }

  /** Fold this adapter into the frozen layer (default: W += ΔW, b += Δb). */
  mergeInto(linear: Linear, target: string): void {
    this.addDelta(linear, target, 1);
  }

  /** Undo `mergeInto` (default: W −= ΔW, b −= Δb, with ΔW recomputed from the unchanged variables). */
  unmergeFrom(linear: Linear, target: string): void {
    this.addDelta(linear, target, -1);
  }

  private addDelta(linear: Linear, target: string, sign: 1 | -1): void {
    tf.tidy(() => {
      const db = this.deltaBias();
      if (db && !linear.bias)
        throw new AdapterError(`${this.method} trains a bias but ${target} has none; it cannot be merged`);
      linear.weight.assign(linear.weight.add(this.deltaWeight().mul(sign)));
      if (db && linear.bias) linear.bias.assign(linear.bias.add(db.mul(sign)));
    });
  }

  /** ΔW as LoRA factors for export; methods without a low-rank ΔW refuse. */
  loraFactors(): LoraFactors {
    throw new AdapterError(
      `${this.method} adapters have no low-rank ΔW = B·A; they cannot be exported as LoRA`,
    );
  }

  /** The matrices that must keep orthonormal columns (quantum methods' P and Q), as new tensors. */
  orthogonalFactors(): tf.Tensor2D[] {
    return [];
  }

  /** Names of this layer's variables that stay frozen while it is active (VeRA's shared projections). */
  frozenParameters(): ReadonlySet<string> {
    return new Set();
  }

  /** An extra loss term the method asks the training loop to add (AdaLoRA's orthogonality), or null. */
  regularizer(): tf.Scalar | null {
    return null;
  }

  /** The adapter's circuits with their current angles (quantum methods). */
  circuits(): AdapterCircuit[] {
    return [];
  }
}

/**
 * LoRA export from tensors already in Hugging Face's layout: `a` (r×d_in) and `b` (d_out×r). Reads them and
 * disposes both, so callers can build them in a `tf.tidy` and hand them over.
 */
export function loraFactorsFromTensors(
  a: tf.Tensor,
  b: tf.Tensor,
  r: number,
  loraAlpha: number,
): LoraFactors {
  try {
    return { a: Float32Array.from(a.dataSync()), b: Float32Array.from(b.dataSync()), r, loraAlpha };
  } finally {
    tf.dispose([a, b]);
  }
}

/** Factor a d_in×d_out ΔW given as (left d_in×r, right d_out×r) with ΔW = s·left·rightᵀ into LoRA layout. */
export function loraFromFactors(
  left: Float32Array,
  right: Float32Array,
  dIn: number,
  dOut: number,
  r: number,
  scale: number,
): LoraFactors {
  if (left.length !== dIn * r || right.length !== dOut * r) {
    throw new AdapterError(
      `LoRA factors must be ${dIn}×${r} and ${dOut}×${r}, got ${left.length} and ${right.length} values`,
    );
  }
  // ΔWᵀ = s · right · leftᵀ: B = right (d_out×r), A = leftᵀ (r×d_in); lora_alpha / r = s.
  const a = new Float32Array(r * dIn);
  for (let i = 0; i < dIn; i++) for (let k = 0; k < r; k++) a[k * dIn + i] = left[i * r + k]!;
  return { a, b: Float32Array.from(right), r, loraAlpha: scale * r };
}
