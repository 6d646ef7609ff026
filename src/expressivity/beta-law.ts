/**
 * The fidelity laws of random states, evaluated accurately enough to compare histograms with them in every
 * bin, including bins whose probability is far below 1e-300 (upper bins for 10 qubits).
 *
 * - Real random states (uniform on the unit sphere of R^N): F = ⟨ψ|φ⟩² ~ Beta(1/2, (N−1)/2), because
 *   ⟨ψ|φ⟩ is distributed as one coordinate of a uniform unit vector (a squared coordinate is
 *   χ²₁ / (χ²₁ + χ²_{N−1})). Mean 1/N, variance 2(N−1)/(N²(N+2)).
 * - Complex Haar states: F = |⟨ψ|φ⟩|² ~ Beta(1, N−1), density (N−1)(1−F)^{N−2} (Życzkowski–Sommers;
 *   the reference of Sim, Johnson, Aspuru-Guzik, Adv. Quantum Technol. 2, 1900070, 2019).
 */
import { describe, InputError } from '../errors.ts';

/** A Beta(a, b) law on [0, 1]. */
export interface BetaLaw {
  readonly a: number;
  readonly b: number;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7; relative error about 1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new InputError(`logGamma needs x > 0, got ${describe(x)}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). */
export function logBetaFunction(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/**
 * log I_x(a, b) by the continued fraction of DLMF 8.17.22 (modified Lentz evaluation); converges quickly
 * for x < (a + 1)/(a + b + 2), which is the only region it is called in.
 */
function logIncBetaCF(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const eps = 1e-16;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < eps) break;
  }
  return a * Math.log(x) + b * Math.log1p(-x) - Math.log(a) - logBetaFunction(a, b) + Math.log(h);
}

/** log(1 − e^v) for v ≤ 0, accurate near both ends. */
function log1mexp(v: number): number {
  if (v === 0) return Number.NEGATIVE_INFINITY;
  return v > -Math.LN2 ? Math.log(-Math.expm1(v)) : Math.log1p(-Math.exp(v));
}

/** log(e^p − e^q) for p ≥ q. */
function logDiffExp(p: number, q: number): number {
  if (p === Number.NEGATIVE_INFINITY || q >= p) return Number.NEGATIVE_INFINITY;
  return p + log1mexp(q - p);
}

function checkLaw(law: BetaLaw): void {
  if (!(law.a > 0) || !(law.b > 0) || !Number.isFinite(law.a) || !Number.isFinite(law.b)) {
    throw new InputError(
      `a Beta law needs finite a > 0 and b > 0, got a = ${describe(law.a)}, b = ${describe(law.b)}`,
    );
  }
}

/** log P(F ≤ x) for F ~ Beta(a, b). */
export function betaLogCdf(law: BetaLaw, x: number): number {
  checkLaw(law);
  const { a, b } = law;
  if (x <= 0) return Number.NEGATIVE_INFINITY;
  if (x >= 1) return 0;
  return x < (a + 1) / (a + b + 2) ? logIncBetaCF(x, a, b) : log1mexp(logIncBetaCF(1 - x, b, a));
}

/** log P(F > x) for F ~ Beta(a, b) (accurate in the far upper tail). */
export function betaLogSf(law: BetaLaw, x: number): number {
  return betaLogCdf({ a: law.b, b: law.a }, 1 - x);
}

/** P(F ≤ x): the regularized incomplete beta function I_x(a, b). */
export function betaCdf(law: BetaLaw, x: number): number {
  return Math.exp(betaLogCdf(law, x));
}

/** The density x^{a−1}(1−x)^{b−1}/B(a, b) on (0, 1). */
export function betaPdf(law: BetaLaw, x: number): number {
  checkLaw(law);
  if (x <= 0 || x >= 1) return 0;
  return Math.exp((law.a - 1) * Math.log(x) + (law.b - 1) * Math.log1p(-x) - logBetaFunction(law.a, law.b));
}

/** Mean a/(a+b) and variance ab/((a+b)²(a+b+1)). */
export function betaMoments(law: BetaLaw): { mean: number; variance: number } {
  checkLaw(law);
  const s = law.a + law.b;
  return { mean: law.a / s, variance: (law.a * law.b) / (s * s * (s + 1)) };
}

/**
 * log of the probability of each of `bins` equal bins on [0, 1] under the law. Bins below the mode side
 * are differences of log CDFs, bins above of log survival functions, so neither end loses precision.
 */
export function betaBinLogProbabilities(law: BetaLaw, bins: number): Float64Array {
  checkLaw(law);
  checkBins(bins);
  const out = new Float64Array(bins);
  const split = (law.a + 1) / (law.a + law.b + 2);
  for (let i = 0; i < bins; i++) {
    const lo = i / bins;
    const hi = (i + 1) / bins;
    if (hi <= split) out[i] = logDiffExp(betaLogCdf(law, hi), betaLogCdf(law, lo));
    else if (lo >= split) out[i] = logDiffExp(betaLogSf(law, lo), betaLogSf(law, hi));
    else out[i] = Math.log1p(-Math.exp(betaLogCdf(law, lo)) - Math.exp(betaLogSf(law, hi)));
  }
  return out;
}

/** Validate a bin count (an integer in 1..100000). */
export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1 || bins > 100_000) {
    throw new InputError(`bins must be an integer in 1..100000, got ${describe(bins)}`);
  }
}

function checkDim(dim: number): void {
  if (!Number.isInteger(dim) || dim < 2)
    throw new InputError(`state dimension N must be an integer ≥ 2, got ${describe(dim)}`);
}

/** Fidelity law of two independent uniformly random real unit vectors in R^N: Beta(1/2, (N−1)/2). */
export function realStateFidelityLaw(dim: number): BetaLaw {
  checkDim(dim);
  return { a: 0.5, b: (dim - 1) / 2 };
}

/** Fidelity law of two independent Haar-random complex states in C^N: Beta(1, N−1). */
export function haarFidelityLaw(dim: number): BetaLaw {
  checkDim(dim);
  return { a: 1, b: dim - 1 };
}
