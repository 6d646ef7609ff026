/**
 * One row of an expressivity sweep: every metric for one circuit (a template at (n, L), or a given circuit).
 * A row depends only on the task and the seed, so sweeps are reproducible whatever the worker layout.
 */
import type { Circuit } from '../circuit/ir.ts';
import { makeCircuit } from '../circuit/ir.ts';
import { getTemplate } from '../circuit/templates/index.ts';
import { describe, InputError } from '../errors.ts';
import type { FactorForm } from '../peft/factor.ts';
import { widthFactor } from '../peft/width-factor.ts';
import { leadingBasis } from '../sim/simulate.ts';
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
  | { readonly kind: 'circuit'; readonly label: string; readonly circuit: Circuit }
  | {
      /** An adapter factor of any width (peft/width-factor.ts), measured on its d-dimensional subspace. */
      readonly kind: 'width';
      readonly width: number;
      readonly layers: number;
      readonly form?: FactorForm;
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
  if (task.kind === 'width')
    return widthFactor(task.width, task.layers, { form: task.form ?? 'auto' }).circuit;
  throw new InputError(`unknown sweep task kind ${describe((task as { kind?: unknown }).kind)}`);
}

/** Compute every metric of one task. */
export function computeRow(task: SweepTask, settings: MetricSettings): ExpressivityRow {
  const circuit = taskCircuit(task);
  const n = circuit.qubits;
  const layers = task.kind === 'circuit' ? null : task.layers;
  // a factor of width d lives on d basis states: the reference laws and the manifold are those of R^d, and
  // its first K inputs must be its first K rows (true for direct sums, and for mixed radix while K ≤ 2·2^a)
  const factor =
    task.kind === 'width' ? widthFactor(task.width, task.layers, { form: task.form ?? 'auto' }) : null;
  if (factor && !leadingBasis(factor.rowBasis, settings.columns)) {
    throw new InputError(
      `columns K = ${settings.columns} of the ${factor.width}-wide ${factor.form} factor: its first K rows are not the register's first K basis states; use K ≤ ${firstRun(factor.rowBasis)}`,
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
    ...(factor ? { dimension: factor.width } : {}),
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
  // reachability's random targets span the whole register, not the factor's subspace: skipped for factors
  const r =
    settings.reachTargets > 0 && !factor
      ? reachability(circuit, {
          columns: k,
          targets: settings.reachTargets,
          starts: settings.reachStarts,
          steps: settings.reachSteps,
          seed: streamSeed(settings.seed, STREAM.reachability, ...key),
        }).mean
      : null;
  return {
    circuit:
      task.kind === 'template'
        ? task.template
        : task.kind === 'circuit'
          ? task.label
          : `${factor!.form} d=${task.width}`,
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
    manifoldDimension: factor ? factor.width * k - (k * (k + 1)) / 2 : d.manifoldDimension,
    redundancy: d.redundancy,
    gradVariance: g.global,
    gradVarianceLocal: g.local,
    reachability: r,
  };
}

/** Length of the leading run basis[i] = i. */
function firstRun(basis: Int32Array): number {
  let i = 0;
  while (i < basis.length && basis[i] === i) i++;
  return i;
}
