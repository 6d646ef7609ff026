/**
 * Reachability: how close the circuit's first K columns can get to a random target T ∈ St(N, K), measured
 * by the subspace fidelity
 *
 *     f(θ) = ‖Tᵀ U_K(θ)‖²_F / K ∈ [0, 1]      (1: same column space; for K = 1 the state fidelity ⟨t|ψ⟩²),
 *
 * maximised by Adam with exact gradients (∂f/∂U_K = (2/K)·T·TᵀU_K pulled back by the adjoint method) from
 * several random starts. Reported: the best f per target, averaged over targets. A random circuit's f is
 * about K/N; a circuit that can reach every point of St(N, K) up to a K×K rotation gets 1. Targets are
 * Haar-random (QR of Gaussian matrices), so the figure says how much of the manifold the circuit covers.
 */
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { adjointPass } from '../sim/adjoint.ts';
import { assertReal, runProgram } from '../sim/kernels.ts';
import { compile, gateAngles } from '../sim/program.ts';
import type { Matrix } from '../util/matrix.ts';
import { createRng } from '../util/random.ts';
import { checkColumnCount, drawAngles } from './runner.ts';
import { randomStiefel } from './stiefel.ts';

export interface ReachabilityOptions {
  columns?: number;
  /** Random targets; default 3. */
  targets?: number;
  /** Random starts per target; default 3. */
  starts?: number;
  /** Adam steps per start; default 150. */
  steps?: number;
  /** Adam step size; default 0.1. */
  learningRate?: number;
  seed?: number;
}

export interface ReachabilityResult {
  /** Mean over targets of the best f. */
  readonly mean: number;
  /** Best f for each target. */
  readonly perTarget: Float64Array;
}

function checkCount(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new InputError(`${name} must be an integer in 1..${max}, got ${describe(v)}`);
}

/**
 * Maximise ‖TᵀU_K(θ)‖²_F / K over θ from the start `theta0` (Adam, β = (0.9, 0.999)); returns the best f
 * seen and the θ that gave it.
 */
export function fitTarget(
  circuit: Circuit,
  target: Matrix,
  theta0: ArrayLike<number>,
  options: { steps?: number; learningRate?: number } = {},
): { fidelity: number; theta: Float64Array } {
  const prog = compile(circuit);
  assertReal(prog);
  const dim = prog.dim;
  const k = target.cols;
  checkColumnCount(circuit.qubits, k);
  if (target.rows !== dim)
    throw new InputError(`target must have ${dim} rows (2^${circuit.qubits}), got ${target.rows}`);
  if (theta0.length !== prog.nParams)
    throw new InputError(`expected ${prog.nParams} start values, got ${theta0.length}`);
  const steps = options.steps ?? 150;
  const lr = options.learningRate ?? 0.1;
  checkCount('steps', steps, 1e6);
  if (!(lr > 0)) throw new InputError(`learningRate must be > 0, got ${describe(lr)}`);
  const nP = prog.nParams;
  const theta = Float64Array.from(theta0);
  const best = Float64Array.from(theta0);
  const m = new Float64Array(nP);
  const v = new Float64Array(nP);
  const grad = new Float64Array(nP);
  const angles = new Float64Array(prog.nGates);
  const psi = new Float64Array(dim * k);
  const lam = new Float64Array(dim * k);
  const tu = new Float64Array(k * k);
  const t = target.data;
  let bestF = -1;
  for (let step = 0; step <= steps; step++) {
    gateAngles(prog, theta, angles);
    psi.fill(0);
    for (let j = 0; j < k; j++) psi[j * k + j] = 1;
    runProgram(prog, angles, psi, k);
    tu.fill(0);
    for (let i = 0; i < dim; i++) {
      for (let a = 0; a < k; a++) {
        const ta = t[i * k + a]!;
        for (let b = 0; b < k; b++) tu[a * k + b]! += ta * psi[i * k + b]!;
      }
    }
    let f = 0;
    for (let i = 0; i < k * k; i++) f += tu[i]! * tu[i]!;
    f /= k;
    if (f > bestF) {
      bestF = f;
      best.set(theta);
    }
    if (step === steps || nP === 0) break;
    // ∂f/∂U = (2/K)·T·(TᵀU)
    for (let i = 0; i < dim; i++) {
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let a = 0; a < k; a++) s += t[i * k + a]! * tu[a * k + b]!;
        lam[i * k + b] = (2 / k) * s;
      }
    }
    grad.fill(0);
    adjointPass(prog, angles, psi, lam, k, grad);
    const c1 = 1 - 0.9 ** (step + 1);
    const c2 = 1 - 0.999 ** (step + 1);
    for (let p = 0; p < nP; p++) {
      const g = grad[p]!;
      m[p] = 0.9 * m[p]! + 0.1 * g;
      v[p] = 0.999 * v[p]! + 0.001 * g * g;
      theta[p]! += (lr * (m[p]! / c1)) / (Math.sqrt(v[p]! / c2) + 1e-12);
    }
  }
  return { fidelity: Math.min(1, bestF), theta: best };
}

/** Reachability of random St(N, K) targets (see the module's docs). */
export function reachability(circuit: Circuit, options: ReachabilityOptions = {}): ReachabilityResult {
  const k = options.columns ?? 1;
  const targets = options.targets ?? 3;
  const starts = options.starts ?? 3;
  checkColumnCount(circuit.qubits, k);
  checkCount('targets', targets, 10_000);
  checkCount('starts', starts, 10_000);
  const rng = createRng(options.seed ?? 0);
  const dim = 2 ** circuit.qubits;
  const perTarget = new Float64Array(targets);
  const theta0 = new Float64Array(circuit.params.length);
  for (let tIndex = 0; tIndex < targets; tIndex++) {
    const target = randomStiefel(dim, k, rng);
    let best = 0;
    for (let s = 0; s < starts; s++) {
      const fit = fitTarget(circuit, target, drawAngles(theta0, rng.next), options);
      best = Math.max(best, fit.fidelity);
    }
    perTarget[tIndex] = best;
  }
  return { mean: perTarget.reduce((a, b) => a + b, 0) / targets, perTarget };
}
