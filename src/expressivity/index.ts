/** Expressivity of circuits against depth: metrics, references, sweeps. */

export { defaultWorkers } from '../util/worker-pool.ts';
export {
  type BetaLaw,
  betaBinLogProbabilities,
  betaCdf,
  betaLogCdf,
  betaLogSf,
  betaMoments,
  betaPdf,
  haarFidelityLaw,
  logBetaFunction,
  logGamma,
  realStateFidelityLaw,
} from './beta-law.ts';
export {
  type EffectiveDimensionResult,
  effectiveDimension,
  jacobian,
  jacobianByAdjoint,
  manifoldDimension,
} from './capacity.ts';
export {
  histogram,
  klFromCounts,
  klNullDistribution,
  klSamplingFloor,
  smoothedLogProbabilities,
} from './divergence.ts';
export { entanglingCapability } from './entanglement.ts';
export {
  DEFAULT_BINS,
  type ExpressibilityOptions,
  type ExpressibilityResult,
  expressibility,
  expressibilityOfFidelities,
  stiefelReferenceLogProbabilities,
} from './expressibility.ts';
export { numericalRank, RANK_TOLERANCE, singularValues } from './linalg.ts';
export { haarMeyerWallach, meyerWallach, realStateMeyerWallach } from './meyer-wallach.ts';
export { progressBar } from './progress.ts';
export {
  fitTarget,
  type ReachabilityOptions,
  type ReachabilityResult,
  reachability,
} from './reachability.ts';
export {
  computeRow,
  DEFAULT_SETTINGS,
  type ExpressivityRow,
  type MetricSettings,
  type SweepTask,
  taskCircuit,
} from './row.ts';
export { randomStiefel, sampleStiefelFidelities, subspaceFidelity } from './stiefel.ts';
export {
  resolveSettings,
  runSweep,
  type SweepOptions,
  type SweepProgress,
  templateTasks,
} from './sweep.ts';
export { type GradientVarianceResult, gradientVariance, localObservable } from './trainability.ts';
