/**
 * How an experiment makes its runs: each definition carries a strategy, so `runExperiment` treats every
 * experiment alike (the per-run directories, skipping finished runs, resuming unfinished ones, the report)
 * and never asks which experiment it is. `finetuneStrategy` (experiment.ts) fine-tunes a saved base model;
 * `mobilenetStrategy` (mobilenet.ts) trains on cached MobileNetV2 features.
 */

import { QpeftError } from '../errors.ts';
import type { ProgressSink } from '../util/progress.ts';
import type { FinetuneResult } from './finetune.ts';
import type { MethodSpec } from './methods.ts';

/** Sizes of a run: data limits, epochs, seeds. */
export interface ExperimentSize {
  readonly trainLimit?: number;
  readonly evalLimit?: number;
  readonly epochs: number;
  readonly seeds: readonly number[];
  readonly batchSize?: number;
  /** Stop each run after this many steps (smoke size only). */
  readonly maxSteps?: number;
  /** Side of the square images an image experiment resizes its inputs to (experiment 4). */
  readonly imageSide?: number;
}

/** One (method, seed) run of an experiment. */
export interface RunRequest {
  readonly method: MethodSpec;
  readonly seed: number;
  readonly lr: number;
  readonly size: ExperimentSize;
  /** The run's directory (checkpoint and `result.json`). */
  readonly dir: string;
  /** Continue from the checkpoint in `dir`. */
  readonly resume: boolean;
  readonly progress?: ProgressSink | null;
  readonly log: (line: string) => void;
}

/** What a strategy's `prepare` returns: the base it uses and how to make one run. */
export interface ExperimentSession {
  /** The base model as the report records it. */
  readonly base: string;
  run(req: RunRequest): Promise<FinetuneResult>;
  /** Free what the session holds (models, cached features). */
  dispose(): void;
}

/** How an experiment's runs are made (see the module comment). */
export interface ExperimentStrategy {
  /**
   * Check what the runs need (dependencies, the base model, `base` as given by the user) before any run
   * starts, with typed errors; heavy loading may wait for the first `run`.
   */
  prepare(def: ExperimentPlan, base: string | undefined): ExperimentSession;
}

/** What a strategy may read of an experiment's definition. */
export interface ExperimentPlan {
  readonly name: string;
  readonly data: string;
  readonly bases: readonly string[];
  readonly pretrainCommand: string;
  readonly evalInitial?: boolean;
}

/** Error of an experiment whose dependency (an npm package) is not installed. */
export class MissingDependencyError extends QpeftError {
  readonly dependency: string;
  constructor(dependency: string, message: string) {
    super('E_MISSING_DEPENDENCY', message);
    this.dependency = dependency;
  }
}
