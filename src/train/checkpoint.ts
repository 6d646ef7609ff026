/**
 * The training checkpoint: one safetensors file holding the trainable parameters (`param.<name>`), the
 * optimiser moments (`optim.<name>.m|v`) and the run state (header metadata `run`, JSON), written atomically
 * so that it is always consistent. Pretraining and fine-tuning wrote two formats before the engine existed
 * (`qpeft-pretrain-checkpoint` with `model.` tensors, `qpeft-finetune-checkpoint`); both still load.
 *
 * A checkpoint never holds a non-finite value: writing one is refused (the engine checks every update before
 * it is applied, so this is a second line), and reading one is refused too.
 */
import { existsSync } from 'node:fs';
import { describe, InputError, TrainingDivergedError } from '../errors.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';

export const TRAIN_CHECKPOINT_FORMAT = 'qpeft-train-checkpoint';
const LEGACY_FINETUNE = 'qpeft-finetune-checkpoint';
const LEGACY_PRETRAIN = 'qpeft-pretrain-checkpoint';

/** Metrics after one epoch (epoch 0: the model before training). */
export interface TrainEpoch {
  epoch: number;
  /** Optimiser steps so far (all epochs). */
  step: number;
  /** Mean training loss over the epoch's steps (NaN, saved as null, for epoch 0). */
  trainLoss: number;
  /** Training accuracy over the epoch's batches (classification tasks). */
  trainAccuracy?: number;
  evalLoss: number;
  /** The task metric: accuracy as a fraction, or bits per byte. */
  evalMetric: number;
  /** Wall time of the epoch's training and evaluation. */
  seconds: number;
}

/** Running sums of the epoch in progress (so that a resumed epoch's record covers the whole epoch). */
export interface PartialEpoch {
  lossSum: number;
  lossN: number;
  correct: number;
  count: number;
  seconds: number;
}

/** Everything about a run besides its tensors. */
export interface RunState {
  /** The options a resumed run must share with its checkpoint. */
  key: Record<string, unknown>;
  step: number;
  history: TrainEpoch[];
  /** Training + evaluation wall time, summed across resumptions. */
  seconds: number;
  /** Wall time of the training steps alone. */
  trainSeconds: number;
  /** Training examples seen. */
  samples: number;
  partial: PartialEpoch | null;
  /** The divergence guard: the run's first loss and the last few losses. */
  guard: { reference: number | null; recent: number[] };
}

type Tensors = Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;

/** A checkpoint as read: the run state, the parameters and the optimiser state by name. */
export interface StoredRun extends RunState {
  params: Tensors;
  optim: Tensors;
}

function firstNonFinite(tensors: Tensors): string | null {
  for (const [name, t] of Object.entries(tensors)) {
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) return name;
  }
  return null;
}

/**
 * Write a checkpoint atomically. Refuses (TrainingDivergedError, nothing written) when any value is not
 * finite, so that the previous checkpoint stays the last good one.
 */
export function writeCheckpoint(file: string, state: RunState, params: Tensors, optim: Tensors): void {
  const bad = firstNonFinite(params) ?? firstNonFinite(optim);
  if (bad !== null) {
    throw new TrainingDivergedError(
      `refusing to checkpoint non-finite values (in ${bad}); ${file} keeps the last finite state`,
    );
  }
  const tensors: Tensors = {};
  for (const [n, t] of Object.entries(params)) tensors[`param.${n}`] = t;
  for (const [n, t] of Object.entries(optim)) tensors[`optim.${n}`] = t;
  saveSafetensors(file, tensors as Record<string, { shape: readonly number[]; data: Float32Array }>, {
    format: TRAIN_CHECKPOINT_FORMAT,
    version: '1',
    run: JSON.stringify(state),
  });
}

function parseRun(file: string, text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InputError(`${file}: the checkpoint's run metadata is not a JSON object`);
}

/** Read a checkpoint of any of the three formats (typed error naming the file on anything else). */
export function readCheckpoint(file: string): StoredRun {
  // non-finite values are let through here so that the check below names the variable and refuses the resume
  const { tensors, metadata } = loadSafetensors(file, { allowNonFinite: true });
  const format = metadata.format;
  if (
    (format !== TRAIN_CHECKPOINT_FORMAT && format !== LEGACY_FINETUNE && format !== LEGACY_PRETRAIN) ||
    !metadata.run
  ) {
    throw new InputError(
      `${file} is not a qpeft training checkpoint (expected format ${TRAIN_CHECKPOINT_FORMAT}, got ${describe(format)})`,
    );
  }
  const run = parseRun(file, metadata.run);
  const params: Tensors = {};
  const optim: Tensors = {};
  const paramPrefix = format === LEGACY_PRETRAIN ? 'model.' : 'param.';
  for (const [n, t] of Object.entries(tensors)) {
    if (n.startsWith(paramPrefix)) params[n.slice(paramPrefix.length)] = t;
    else if (n.startsWith('optim.')) optim[n.slice(6)] = t;
  }
  const bad = firstNonFinite(params) ?? firstNonFinite(optim);
  if (bad !== null) throw new InputError(`${file}: ${bad} holds non-finite values; not resuming from it`);
  if (
    typeof run.step !== 'number' ||
    !Number.isInteger(run.step) ||
    run.step < 0 ||
    !Array.isArray(run.history)
  )
    throw new InputError(`${file}: the run metadata has no valid step and history`);
  if (format === LEGACY_PRETRAIN) {
    // pretraining recorded steps per epoch and the metric under its own name
    let step = 0;
    const history = (run.history as Record<string, number>[]).map((h) => {
      step += h.steps ?? 0;
      return {
        epoch: h.epoch!,
        step,
        trainLoss: h.trainLoss ?? Number.NaN,
        evalLoss: h.evalLoss!,
        evalMetric: h.evalAccuracy ?? h.evalBitsPerByte!,
        seconds: h.seconds ?? 0,
      };
    });
    const seconds = history.reduce((a, h) => a + h.seconds, 0);
    return {
      key: run.key as Record<string, unknown>,
      step: run.step,
      history,
      seconds,
      trainSeconds: seconds,
      samples: 0,
      partial: null,
      guard: { reference: null, recent: [] },
      params,
      optim,
    };
  }
  return {
    key: run.key as Record<string, unknown>,
    step: run.step,
    history: run.history as TrainEpoch[],
    seconds: (run.seconds as number) ?? 0,
    trainSeconds: (run.trainSeconds as number) ?? 0,
    samples: (run.samples as number) ?? 0,
    partial: (run.partial as PartialEpoch | undefined) ?? null,
    guard: (run.guard as RunState['guard'] | undefined) ?? { reference: null, recent: [] },
    params,
    optim,
  };
}

/**
 * The checkpoint a run starts from: with `resume`, the one in `file` (which must exist and have been made
 * with the same `key`); without it, none, and an existing checkpoint is an error (so a run never silently
 * overwrites another). `what` names the kind of run in messages (`fine-tuning`).
 */
export function openCheckpoint(opts: {
  file: string | null;
  dir?: string;
  resume: boolean;
  key: Record<string, unknown>;
  what: string;
}): StoredRun | null {
  const { file, resume, key } = opts;
  const name = file ? file.split(/[\\/]/).at(-1) : '';
  if (resume) {
    if (!file) throw new InputError('resume needs an output directory (--out) holding a checkpoint');
    if (!existsSync(file)) {
      throw new InputError(
        `--resume: no checkpoint in ${describe(opts.dir)} (${name} is missing); run without --resume to start`,
      );
    }
    const stored = readCheckpoint(file);
    const diff = Object.keys(key).filter((k) => JSON.stringify(key[k]) !== JSON.stringify(stored.key?.[k]));
    if (diff.length) {
      throw new InputError(
        `--resume: the checkpoint in ${opts.dir} was made with different options: ${diff.map((k) => `${k} ${JSON.stringify(stored.key?.[k])} (now ${JSON.stringify(key[k])})`).join('; ')}`,
      );
    }
    return stored;
  }
  if (file && existsSync(file)) {
    throw new InputError(
      `${describe(opts.dir)} already holds a ${opts.what} checkpoint; pass --resume to continue it or choose another --out`,
    );
  }
  return null;
}
