/**
 * Expressibility (Sim, Johnson, Aspuru-Guzik, Adv. Quantum Technol. 2, 1900070, 2019): the KL divergence
 * between the histogram of fidelities F = ⟨ψ_θ|ψ_φ⟩² over independent uniformly random parameter pairs
 * (θ, φ) and the fidelity law of random states. Lower is more expressive; 0 means "as spread as random".
 *
 * RY/CZ circuits produce real states, so the matching reference is the real law Beta(1/2, (N−1)/2)
 * (docs/method.md §7). The complex Haar law Beta(1, N−1) is reported beside it for comparison with published
 * numbers; for a real circuit it has a floor above 0 however deep the circuit is.
 *
 * K-column version (the adapter's factor U_K ∈ St(N, K)): F = ‖U_θᵀ U_φ‖²_F / K against the law of the same
 * quantity for independent Haar points of St(N, K), sampled by QR of Gaussian matrices (for K = 1 the two
 * coincide with the real-state law, which is then used in closed form).
 */
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import { betaBinLogProbabilities, haarFidelityLaw, realStateFidelityLaw } from './beta-law.ts';
import { histogram, klFromCounts, klNullDistribution, smoothedLogProbabilities } from './divergence.ts';
import { meyerWallach } from './meyer-wallach.ts';
import { columnRunner, drawAngles } from './runner.ts';
import { sampleStiefelFidelities } from './stiefel.ts';

/** Default number of histogram bins (Sim et al. use 75). */
export const DEFAULT_BINS = 75;

export interface ExpressibilityOptions {
  /** Number of (θ, φ) pairs; default 1000. */
  samples?: number;
  /** Columns K of U(θ) compared (1: states); default 1. */
  columns?: number;
  /** Histogram bins on [0, 1]; default 75. */
  bins?: number;
  /** Seed of the angle draws; default 0. */
  seed?: number;
  /** Samples of the sampled St(N, K) reference when K > 1; default max(20000, 10·samples). */
  referenceSamples?: number;
  /** Seed of the sampled reference (K > 1); default `seed`. */
  referenceSeed?: number;
  /**
   * N of the reference law: the dimension of the invariant subspace the circuit's states live in (a
   * mixed-radix or direct-sum factor of width d: d); default 2^qubits.
   */
  dimension?: number;
}

export interface ExpressibilityResult {
  /** KL(P̂ ‖ real-state law) for K = 1, KL(P̂ ‖ sampled St(N, K) law) for K > 1, in nats. */
  readonly kl: number;
  /** KL(P̂ ‖ complex Haar law Beta(1, N−1)); `null` for K > 1 (no complex counterpart is defined). */
  readonly klHaar: number | null;
  /** Mean KL of `samples` draws from the reference itself: what a perfectly random circuit scores. */
  readonly samplingFloor: number;
  /** Standard deviation of that null KL: the sampling error of `kl` near the floor. */
  readonly samplingError: number;
  /**
   * Bootstrap standard deviation of `kl` (the fidelities resampled with replacement, 64 times): its
   * sampling error for this circuit, which at large N is dominated by the few fidelities in the far tail.
   */
  readonly bootstrapError: number;
  /** Mean fidelity (random-state reference: K/N). */
  readonly meanFidelity: number;
  /** Mean Meyer–Wallach Q over the 2·samples states U(θ)|0⟩ drawn (a by-product). */
  readonly meanEntanglement: number;
  /** The fidelities, one per pair. */
  readonly fidelities: Float64Array;
}

function positiveInt(name: string, v: number, max = 1e9): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new InputError(`${name} must be an integer in 1..${max}, got ${describe(v)}`);
}

const referenceCache = new Map<string, Float64Array>();

/**
 * log bin probabilities of the K-column reference: the closed-form real-state law for K = 1, else a
 * smoothed histogram of `count` sampled St(N, K) fidelities (cached per process by its arguments).
 */
export function stiefelReferenceLogProbabilities(
  dim: number,
  k: number,
  bins: number,
  count: number,
  seed: number,
): Float64Array {
  if (k === 1) return betaBinLogProbabilities(realStateFidelityLaw(dim), bins);
  const key = `${dim}/${k}/${bins}/${count}/${seed}`;
  let hit = referenceCache.get(key);
  if (!hit) {
    hit = smoothedLogProbabilities(histogram(sampleStiefelFidelities(dim, k, count, createRng(seed)), bins));
    if (referenceCache.size > 64) referenceCache.clear();
    referenceCache.set(key, hit);
  }
  return hit;
}

/**
 * Expressibility of fidelities already sampled (from any source): KL against the real-state law
 * (`reference: 'real'`, default) or the complex Haar law (`'haar'`) of dimension N.
 */
export function expressibilityOfFidelities(
  fidelities: ArrayLike<number>,
  dim: number,
  options: { bins?: number; reference?: 'real' | 'haar' } = {},
): number {
  const bins = options.bins ?? DEFAULT_BINS;
  const law = (options.reference ?? 'real') === 'real' ? realStateFidelityLaw(dim) : haarFidelityLaw(dim);
  return klFromCounts(histogram(fidelities, bins), betaBinLogProbabilities(law, bins));
}

/** Standard deviation of KL(P̂* ‖ Q) over `reps` bootstrap resamples P̂* of the fidelities. */
function bootstrapKl(
  fidelities: Float64Array,
  bins: number,
  logQ: Float64Array,
  reps: number,
  seed: number,
): number {
  const rng = createRng(seed);
  const s = fidelities.length;
  const resample = new Float64Array(s);
  let sum = 0;
  let sum2 = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < s; i++) resample[i] = fidelities[rng.int(s)]!;
    const kl = klFromCounts(histogram(resample, bins), logQ);
    sum += kl;
    sum2 += kl * kl;
  }
  const mean = sum / reps;
  return Math.sqrt(Math.max(0, (sum2 - reps * mean * mean) / (reps - 1)));
}

/** Expressibility of a circuit's states (K = 1) or of its first K columns (see the module's docs). */
export function expressibility(circuit: Circuit, options: ExpressibilityOptions = {}): ExpressibilityResult {
  const samples = options.samples ?? 1000;
  const k = options.columns ?? 1;
  const bins = options.bins ?? DEFAULT_BINS;
  const seed = options.seed ?? 0;
  positiveInt('samples', samples);
  const runner = columnRunner(circuit, k);
  const dim = runner.dim;
  if (dim < 2) throw new InputError('expressibility needs at least one qubit');
  const lawDim = options.dimension ?? dim;
  if (!Number.isInteger(lawDim) || lawDim < Math.max(2, k) || lawDim > dim) {
    throw new InputError(
      `dimension must be an integer in ${Math.max(2, k)}..${dim}, got ${describe(lawDim)}`,
    );
  }
  const rng = createRng(seed);
  const theta = new Float64Array(circuit.params.length);
  const fidelities = new Float64Array(samples);
  let q = 0;
  let fSum = 0;
  for (let s = 0; s < samples; s++) {
    const a = runner.run(drawAngles(theta, rng.next));
    const b = runner.run(drawAngles(theta, rng.next));
    let f = 0;
    for (let p = 0; p < k; p++) {
      for (let r = 0; r < k; r++) {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += a.data[i * k + p]! * b.data[i * k + r]!;
        f += dot * dot;
      }
    }
    f = Math.min(1, f / k);
    fidelities[s] = f;
    fSum += f;
    q += meyerWallach(a.data, circuit.qubits, k, 0) + meyerWallach(b.data, circuit.qubits, k, 0);
  }
  const counts = histogram(fidelities, bins);
  const refCount = options.referenceSamples ?? Math.max(20_000, 10 * samples);
  positiveInt('referenceSamples', refCount);
  const logQ = stiefelReferenceLogProbabilities(lawDim, k, bins, refCount, options.referenceSeed ?? seed);
  const boot = bootstrapKl(fidelities, bins, logQ, 64, seed ^ 0x626f6f74);
  const floor = klNullDistribution(logQ, samples, { seed: (options.referenceSeed ?? seed) ^ 0x6e756c6c });
  return {
    kl: klFromCounts(counts, logQ),
    klHaar: k === 1 ? klFromCounts(counts, betaBinLogProbabilities(haarFidelityLaw(lawDim), bins)) : null,
    samplingFloor: floor.mean,
    samplingError: floor.sd,
    bootstrapError: boot,
    meanFidelity: fSum / samples,
    meanEntanglement: q / (2 * samples),
    fidelities,
  };
}
