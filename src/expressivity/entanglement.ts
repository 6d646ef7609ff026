import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import { meyerWallach, realStateMeyerWallach } from './meyer-wallach.ts';
import { columnRunner, drawAngles } from './runner.ts';

/**
 * Entangling capability (Sim et al. 2019, §II.B): the Meyer–Wallach Q of U(θ)|0⟩ averaged over `samples`
 * uniformly random θ ∈ [−π, π)^P, with its standard error, next to the real random-state value (N−2)/(N+2).
 */
export function entanglingCapability(
  circuit: Circuit,
  options: { samples?: number; seed?: number } = {},
): { mean: number; standardError: number; reference: number } {
  const samples = options.samples ?? 1000;
  if (!Number.isInteger(samples) || samples < 2)
    throw new InputError(`samples must be an integer ≥ 2, got ${describe(samples)}`);
  const runner = columnRunner(circuit, 1);
  const rng = createRng(options.seed ?? 0);
  const theta = new Float64Array(circuit.params.length);
  let sum = 0;
  let sum2 = 0;
  for (let s = 0; s < samples; s++) {
    const q = meyerWallach(runner.run(drawAngles(theta, rng.next)).data, circuit.qubits);
    sum += q;
    sum2 += q * q;
  }
  const mean = sum / samples;
  const variance = Math.max(0, (sum2 - samples * mean * mean) / (samples - 1));
  return {
    mean,
    standardError: Math.sqrt(variance / samples),
    reference: realStateMeyerWallach(circuit.qubits),
  };
}
