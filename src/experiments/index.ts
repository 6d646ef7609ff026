/** Fine-tuning on real data, the four experiments (tables, plots), quantization sweeps, the main job. */
export * from './experiment.ts';
export * from './finetune.ts';
export * from './finetune-config.ts';
export * from './hardware-eval.ts';
export * from './methods.ts';
export * from './quant-eval.ts';
export * from './quant-sweep.ts';
export * from './quickstart.ts';
export * from './report.ts';
export type { ExperimentPlan, ExperimentSession, ExperimentStrategy, RunRequest } from './strategy.ts';
