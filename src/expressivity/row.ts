/**
 * One row of an expressivity sweep: every metric for one circuit (a template at (n, L), or a given circuit).
 * A row depends only on the task and the seed, so sweeps are reproducible whatever the worker layout.
 */
import type { Circuit } from '../circuit/ir.ts';
import { makeCircuit } from '../circuit/ir.ts';
import { getTemplate } from '../circuit/templates/index.ts';
import { describe, InputError } from '../errors.ts';
import { effectiveDimension } from './capacity.ts';
import { DEFAULT_BINS, expressibility } from './expressibility.ts';
import { realStateMeyerWallach } from './meyer-wallach.ts';
import { reachability } from './reachability.ts';
import { STREAM, streamSeed } from './seeds.ts';
import { gradientVariance } from './trainability.ts';

/** Settings shared by every row of a sweep. */
export interface MetricSettings {
  /** Columns K of U (1: states). Default 1. */
  columns: number;
  /** Random parameter pairs for expressibility and entanglement, and θ draws for the gradient variance. */
  samples: number;
  seed: number;
  /** Histogram bins (default 75). */
  bins: number;
  /** Random θ at which the Jacobian rank is taken (maximum kept). */
  rankPoints: number;
  /** Relative singular-value tolerance of the rank. */
  rankTolerance: number;
  /** Reachability: targets, starts per target, Adam steps per start. 0 targets skips the metric. */
  reachTargets: number;
  reachStarts: number;
  reachSteps: number;
}

export const DEFAULT_SETTINGS: MetricSettings = {
  columns: 1,
  samples: 1000,
  seed: 0,
  bins: DEFAULT_BINS,
  rankPoints: 2,
  rankTolerance: 1e-9,
  reachTargets: 2,
  reachStarts: 2,
  reachSteps: 100,
};

/** What one row is computed for: a template at (qubits, layers), or a circuit given as data. */
export type SweepTask =
  | { readonly kind: 'template'; readonly template: string; readonly qubits: number; readonly layers: number }
  | {
      readonly kind: 'circuit';
      readonly label: string;
      readonly circuit: Circuit;
      /** Layers, when the circuit came from a family (printed in the row). */
      readonly layers?: number;
      /**
       * The dimension d of a subspace spanned by the register's first basis states that the circuit leaves
       * invariant (an adapter factor of width d, `peft/width-factor.ts`): the reference laws and the manifold
       * are then those of R^d, and reachability (random targets on the whole register) is skipped.
       */
      readonly dimension?: number;
      /** The largest K for which the first K inputs are rows of that subspace. */
      readonly maxColumns?: number;
    };

export interface ExpressivityRow {
  /** Template name, or the label of a given circuit (e.g. the QASM file). */
  readonly circuit: string;
  readonly qubits: number;
  /** Template layers L; `null` for a given circuit. */
  readonly layers: number | null;
  readonly columns: number;
  /** #θ. */
  readonly params: number;
  readonly samples: number;
  /** KL (nats) of the fidelity histogram from the real-state law (K = 1) or the St(N, K) law (K > 1). */
  readonly expressibility: number;
  /** Bootstrap standard deviation of `expressibility` (its sampling error for this circuit). */
  readonly expressibilityError: number;
  /** KL (nats) from the complex Haar law Beta(1, N−1) (K = 1 only, else null). */
  readonly expressibilityHaar: number | null;
  /** Mean KL of as many samples from the reference itself: what a perfectly random circuit scores. */
  readonly expressibilityFloor: number;
  /** Mean Meyer–Wallach Q of U(θ)|0⟩. */
  readonly entanglement: number;
  /** (N−2)/(N+2), the real random-state mean. */
  readonly entanglementReference: number;
  /** Jacobian rank of U_K. */
  readonly effectiveDimension: number;
  /** NK − K(K+1)/2. */
  readonly manifoldDimension: number;
  /** #θ − rank. */
  readonly redundancy: number;
  /** Var ∂C_G/∂θ (global cost), averaged over parameters. */
  readonly gradVariance: number;
  /** Var ∂C_L/∂θ (local cost), averaged over parameters. */
  readonly gradVarianceLocal: number;
  /** Mean best subspace fidelity to random St(N, K) targets (null when skipped). */
  readonly reachability: number | null;
}

/** Build the circuit of a task (validated; a circuit that came through a worker is rebuilt). */
export function taskCircuit(task: SweepTask): Circuit {
  if (task.kind === 'template') return getTemplate(task.template).build(task.qubits, task.layers);
  if (task.kind === 'circuit') return makeCircuit(task.circuit);
  throw new InputError(`unknown sweep task kind ${describe((task as { kind?: unknown }).kind)}`);
}

/** Compute every metric of one task. */
export function computeRow(task: SweepTask, settings: MetricSettings): ExpressivityRow {
  const circuit = taskCircuit(task);
  const n = circuit.qubits;
  const layers = task.kind === 'circuit' ? (task.layers ?? null) : task.layers;
  const sub = task.kind === 'circuit' && task.dimension !== undefined ? task.dimension : null;
  if (sub !== null && task.kind === 'circuit' && settings.columns > (task.maxColumns ?? sub)) {
    throw new InputError(
      `columns K = ${settings.columns} of ${task.label}: its first K inputs are not all rows of its ${sub}-dimensional subspace; use K ≤ ${task.maxColumns ?? sub}`,
    );
  }
  const key = [n, layers ?? 0xffff];
  const k = settings.columns;
  const e = expressibility(circuit, {
    samples: settings.samples,
    columns: k,
    bins: settings.bins,
    seed: streamSeed(settings.seed, STREAM.expressibility, ...key),
    referenceSeed: streamSeed(settings.seed, STREAM.stiefelReference, n, k),
    ...(sub !== null ? { dimension: sub } : {}),
  });
  const d = effectiveDimension(circuit, {
    columns: k,
    points: settings.rankPoints,
    tolerance: settings.rankTolerance,
    seed: streamSeed(settings.seed, STREAM.rank, ...key),
  });
  const g = gradientVariance(circuit, {
    samples: Math.max(2, settings.samples),
    seed: streamSeed(settings.seed, STREAM.trainability, ...key),
  });
  // reachability's random targets span the whole register, not the subspace: skipped there
  const r =
    settings.reachTargets > 0 && sub === null
      ? reachability(circuit, {
          columns: k,
          targets: settings.reachTargets,
          starts: settings.reachStarts,
          steps: settings.reachSteps,
          seed: streamSeed(settings.seed, STREAM.reachability, ...key),
        }).mean
      : null;
  return {
    circuit: task.kind === 'template' ? task.template : task.label,
    qubits: n,
    layers,
    columns: k,
    params: circuit.params.length,
    samples: settings.samples,
    expressibility: e.kl,
    expressibilityError: e.bootstrapError,
    expressibilityHaar: e.klHaar,
    expressibilityFloor: e.samplingFloor,
    entanglement: e.meanEntanglement,
    entanglementReference: realStateMeyerWallach(n),
    effectiveDimension: d.rank,
    manifoldDimension: sub !== null ? sub * k - (k * (k + 1)) / 2 : d.manifoldDimension,
    redundancy: d.redundancy,
    gradVariance: g.global,
    gradVarianceLocal: g.local,
    reachability: r,
  };
}
