/** The training engine, its tasks and checkpoints, and pretraining (the loop every trainer runs). */
export {
  openCheckpoint,
  type PartialEpoch,
  type RunState,
  readCheckpoint,
  type StoredRun,
  TRAIN_CHECKPOINT_FORMAT,
  type TrainEpoch,
  writeCheckpoint,
} from './checkpoint.ts';
export {
  DEFAULT_DIVERGENCE,
  type DivergenceGuard,
  defaultWarmup,
  runLength,
  type StepHook,
  type TrainOptions,
  type TrainResult,
  train,
} from './engine.ts';
export {
  CHECKPOINT_FILE,
  type EpochRecord,
  PRETRAIN_DEFAULTS,
  type PretrainOptions,
  type PretrainResult,
  pretrain,
  RUN_FILE,
} from './pretrain.ts';
export {
  ACCURACY,
  type BatchStats,
  BITS_PER_BYTE,
  formatMetric,
  type MetricInfo,
  type Task,
} from './task.ts';
export * from './tasks.ts';
