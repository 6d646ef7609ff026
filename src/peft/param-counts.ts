/**
 * Closed-form trainable-parameter counts (docs/method.md §1, §2, §4). Adapter implementations are tested to
 * have exactly these counts in their variables.
 */
import { describe, InputError } from '../errors.ts';

function checkPositive(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new InputError(`${name} must be a positive integer, got ${describe(v)}`);
}

/** LoRA on a d_in × d_out matrix with rank K: A (K×d_in) and B (d_out×K). */
export function loraParamCount(dIn: number, dOut: number, rank: number): number {
  checkPositive('d_in', dIn);
  checkPositive('d_out', dOut);
  checkPositive('rank', rank);
  return rank * (dIn + dOut);
}

/** One simplified two-design factor on n qubits with L layers: n + 2L(n−1) angles. */
export function twoDesignParamCount(qubits: number, layers: number): number {
  return qubits + 2 * layers * (qubits - 1);
}

/**
 * Quantum-PEFT with two-design factors on a 2^nIn × 2^nOut matrix: |θ_P| + |θ_Q| + K (λ). The poster's
 * 2(2L+1)log₂N + K is the upper bound that drops the −4L.
 */
export function quantumPeftParamCount(
  qubitsIn: number,
  qubitsOut: number,
  layers: number,
  rank: number,
): number {
  checkPositive('rank', rank);
  return twoDesignParamCount(qubitsIn, layers) + twoDesignParamCount(qubitsOut, layers) + rank;
}

/** The Lie/Taylor variant on an N×N matrix: 2NK − K² (each factor dK − K(K+1)/2, plus K for λ). */
export function lieParamCount(dIn: number, dOut: number, rank: number): number {
  const factor = (d: number) => d * rank - (rank * (rank + 1)) / 2;
  return factor(dIn) + factor(dOut) + rank;
}

/**
 * A direct-sum factor of any dimension d (see peft/factor.ts): with d = Σᵢ 2^{eᵢ} in binary (e₀ > … > e_m),
 * Σ_{i<m} (2·t(eᵢ) + 1) + t(e_m), where t(e) is the circuit's parameter count on e qubits and t(0) = 0.
 * For a power of two this is t(log₂ d).
 */
export function directSumParamCount(dim: number, perCircuit: (qubits: number) => number): number {
  checkPositive('dimension', dim);
  const exps: number[] = [];
  for (let e = 30; e >= 0; e--) if (dim & (2 ** e)) exps.push(e);
  const t = (e: number) => (e === 0 ? 0 : perCircuit(e));
  let total = 0;
  exps.forEach((e, i) => {
    total += i < exps.length - 1 ? 2 * t(e) + 1 : t(e);
  });
  return total;
}

/** Quantum-PEFT with two-design factors on any d_in × d_out (direct sums where not a power of two), plus K. */
export function quantumPeftParamCountAny(dIn: number, dOut: number, layers: number, rank: number): number {
  checkPositive('rank', rank);
  const t = (n: number) => twoDesignParamCount(n, layers);
  return directSumParamCount(dIn, t) + directSumParamCount(dOut, t) + rank;
}

/** AdaLoRA at its initial rank r: A (r×d_in), B (d_out×r) and the r singular values E. */
export function adaloraParamCount(dIn: number, dOut: number, rank: number): number {
  return loraParamCount(dIn, dOut, rank) + rank;
}

/** A bottleneck adapter (Houlsby / Pfeiffer) of width m on the layer's output: down d_out×m + m, up m×d_out + d_out. */
export function bottleneckParamCount(dOut: number, width: number): number {
  checkPositive('d_out', dOut);
  checkPositive('bottleneck width', width);
  return 2 * dOut * width + width + dOut;
}
