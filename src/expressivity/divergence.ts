/**
 * Histograms of values in [0, 1] and the Kullback–Leibler divergence of a histogram from a reference law,
 * the estimator of expressibility in Sim, Johnson, Aspuru-Guzik (Adv. Quantum Technol. 2, 1900070, 2019):
 *
 *     KL(P̂ ‖ Q) = Σ_i p̂_i · (log p̂_i − log q_i),   p̂_i = (count in bin i) / S,
 *
 * with natural logarithms and terms with p̂_i = 0 dropped. Even S samples drawn from Q itself give a positive
 * value (the plug-in bias, about (m − 1)/(2S) for m well-filled bins): the "sampling floor" of the metric,
 * which `klNullDistribution` measures for the actual reference and S.
 */
import { describe, InputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import { checkBins } from './beta-law.ts';

/** Counts of `values` in `bins` equal bins on [0, 1] (the value 1 falls in the last bin). */
export function histogram(values: ArrayLike<number>, bins: number): Float64Array {
  checkBins(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= -1e-12 && v <= 1 + 1e-12)) {
      throw new InputError(`histogram values must lie in [0, 1], got ${describe(v)} at index ${i}`);
    }
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]!++;
  }
  return counts;
}

/** KL(P̂ ‖ Q) in nats from bin counts and the reference's log bin probabilities (same length). */
export function klFromCounts(counts: ArrayLike<number>, logQ: ArrayLike<number>): number {
  if (counts.length !== logQ.length) {
    throw new InputError(
      `counts and reference must have the same number of bins, got ${counts.length} and ${logQ.length}`,
    );
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (!(total > 0)) throw new InputError('the histogram is empty (no samples)');
  let kl = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const p = c / total;
    kl += p * (Math.log(p) - logQ[i]!);
  }
  return Math.max(0, kl);
}

/**
 * log bin probabilities of an empirical reference histogram with a Jeffreys pseudo-count of ½ per bin,
 * q_i = (c_i + ½)/(R + bins/2), so that no bin of a sampled reference has probability 0.
 */
export function smoothedLogProbabilities(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const denom = total + counts.length / 2;
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = Math.log((counts[i]! + 0.5) / denom);
  return out;
}

/** The asymptotic plug-in bias (bins − 1)/(2S), an upper guide when every bin has probability ≫ 1/S. */
export function klSamplingFloor(bins: number, samples: number): number {
  return (bins - 1) / (2 * samples);
}

/**
 * Mean and standard deviation of KL(P̂ ‖ Q) when the S samples are drawn from Q itself (bins drawn from the
 * reference's bin probabilities), over `replicates` seeded repetitions: what a perfectly random circuit
 * would score, i.e. the metric's sampling floor and its sampling error.
 */
export function klNullDistribution(
  logQ: ArrayLike<number>,
  samples: number,
  options: { replicates?: number; seed?: number } = {},
): { mean: number; sd: number } {
  const reps = options.replicates ?? 64;
  if (!Number.isInteger(samples) || samples < 1)
    throw new InputError(`samples must be a positive integer, got ${describe(samples)}`);
  if (!Number.isInteger(reps) || reps < 2)
    throw new InputError(`replicates must be an integer ≥ 2, got ${describe(reps)}`);
  const bins = logQ.length;
  const cdf = new Float64Array(bins);
  let acc = 0;
  for (let i = 0; i < bins; i++) {
    acc += Math.exp(logQ[i]!);
    cdf[i] = acc;
  }
  const rng = createRng(options.seed ?? 0);
  const counts = new Float64Array(bins);
  let sum = 0;
  let sum2 = 0;
  for (let r = 0; r < reps; r++) {
    counts.fill(0);
    for (let s = 0; s < samples; s++) {
      const u = rng.next() * acc;
      let lo = 0;
      let hi = bins - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      counts[lo]!++;
    }
    const kl = klFromCounts(counts, logQ);
    sum += kl;
    sum2 += kl * kl;
  }
  const mean = sum / reps;
  return { mean, sd: Math.sqrt(Math.max(0, (sum2 - reps * mean * mean) / (reps - 1))) };
}
