/**
 * Closed-form trainable-parameter counts (METHOD.md §1, §2, §4). Adapter implementations are tested to
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
