/** Fine-tuning on real data and the experiments of issue 5 (tables, plots, the main job). */
export * from './experiment.ts';
export * from './finetune.ts';
export * from './methods.ts';
export * from './quant-eval.ts';
export * from './quant-sweep.ts';
export * from './quickstart.ts';
export * from './report.ts';
export * from './tasks.ts';
