/**
 * Trainability: the variance over uniformly random θ of the partial derivatives of a cost (McClean et al.,
 * Nat. Commun. 9:4812, 2018; Cerezo et al., Nat. Commun. 12:1791, 2021). With ψ = U(θ)|0…0⟩:
 *
 *     global cost  C_G = 1 − ⟨ψ|0…0⟩²                      (observable diag(e₀))
 *     local cost   C_L = 1 − (1/n) Σ_k ⟨ψ| |0⟩⟨0|_k |ψ⟩    (observable diag(#zero bits of i / n))
 *
 * Gradients are exact (adjoint method). The reported figure is Var_θ[∂C/∂θ_p] averaged over the parameters
 * p (per-parameter values are returned too). Cerezo et al. show that the global cost's variance vanishes
 * exponentially in n at any depth while the local cost's decays only polynomially at depth O(log n).
 * Closed form at L = 0 (an RY layer): Var ∂C_G/∂θ_p = (1/8)(3/8)^{n−1} and Var ∂C_L/∂θ_p = 1/(8n²).
 */
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { adjointPass } from '../sim/adjoint.ts';
import { assertReal, runProgram } from '../sim/kernels.ts';
import { compile, gateAngles } from '../sim/program.ts';
import { createRng } from '../util/random.ts';
import { drawAngles } from './runner.ts';

export interface GradientVarianceResult {
  /** Var ∂C_G/∂θ_p, averaged over p. */
  readonly global: number;
  /** Var ∂C_L/∂θ_p, averaged over p. */
  readonly local: number;
  readonly globalPerParam: Float64Array;
  readonly localPerParam: Float64Array;
  readonly samples: number;
}

/** The diagonal of the local cost's observable (1/n) Σ_k |0⟩⟨0|_k. */
export function localObservable(qubits: number): Float64Array {
  const dim = 2 ** qubits;
  const h = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let zeros = 0;
    for (let k = 0; k < qubits; k++) if (((i >> k) & 1) === 0) zeros++;
    h[i] = zeros / qubits;
  }
  return h;
}

/** Sample variances (unbiased) of ∂C_G/∂θ and ∂C_L/∂θ over `samples` random θ (default 1000). */
export function gradientVariance(
  circuit: Circuit,
  options: { samples?: number; seed?: number } = {},
): GradientVarianceResult {
  const samples = options.samples ?? 1000;
  if (!Number.isInteger(samples) || samples < 2)
    throw new InputError(`samples must be an integer ≥ 2, got ${describe(samples)}`);
  const prog = compile(circuit);
  assertReal(prog);
  const dim = prog.dim;
  const nP = prog.nParams;
  const hL = localObservable(circuit.qubits);
  const rng = createRng(options.seed ?? 0);
  const theta = new Float64Array(nP);
  const angles = new Float64Array(prog.nGates);
  const psi = new Float64Array(dim);
  const start = new Float64Array(dim);
  const lam = new Float64Array(dim);
  const grad = new Float64Array(nP);
  const stats = [new Float64Array(nP), new Float64Array(nP), new Float64Array(nP), new Float64Array(nP)];
  for (let s = 0; s < samples; s++) {
    gateAngles(prog, drawAngles(theta, rng.next), angles);
    start.fill(0);
    start[0] = 1;
    runProgram(prog, angles, start, 1);
    for (let which = 0; which < 2; which++) {
      psi.set(start);
      // upstream of ⟨ψ|H|ψ⟩ is 2·h∘ψ; the cost is 1 − ⟨H⟩, whose gradient has the same variance
      if (which === 0) {
        lam.fill(0);
        lam[0] = 2 * psi[0]!;
      } else {
        for (let i = 0; i < dim; i++) lam[i] = 2 * hL[i]! * psi[i]!;
      }
      grad.fill(0);
      adjointPass(prog, angles, psi, lam, 1, grad);
      const sum = stats[2 * which]!;
      const sum2 = stats[2 * which + 1]!;
      for (let p = 0; p < nP; p++) {
        sum[p]! += grad[p]!;
        sum2[p]! += grad[p]! * grad[p]!;
      }
    }
  }
  const variance = (sum: Float64Array, sum2: Float64Array) =>
    sum.map((v, p) => Math.max(0, (sum2[p]! - (v * v) / samples) / (samples - 1)));
  const globalPerParam = variance(stats[0]!, stats[1]!);
  const localPerParam = variance(stats[2]!, stats[3]!);
  const mean = (a: Float64Array) => (a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length);
  return { global: mean(globalPerParam), local: mean(localPerParam), globalPerParam, localPerParam, samples };
}
