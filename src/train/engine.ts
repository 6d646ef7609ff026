/**
 * The training engine: the one loop that pretraining, fine-tuning and the MobileNet experiment run.
 *
 * It owns the learning-rate schedule (linear warm-up of `ceil(5 %)` of all steps, capped, then cosine decay to
 * a tenth), AdamW with global-norm clipping at 1, the stop on a non-finite loss or gradient norm, the check that
 * an update leaves every parameter finite before it is committed, the divergence guard, checkpoints (every
 * `checkpoint.every` steps and at every epoch's end) with bit-identical resumption, the progress bar, timing,
 * per-epoch evaluation and the per-step hooks (AdaLoRA's rank allocator is one).
 *
 * Divergence: a loss that stays finite can still explode (lr 1e6 gives losses of 1e7). The guard compares the
 * mean of the last `window` step losses with the run's first loss L0 and stops the run with a
 * `TrainingDivergedError` when the mean exceeds max(factor·L0, L0 + margin) (defaults 10, 10 nats, 10 steps):
 * a healthy run never averages ten times its starting loss, and the margin keeps near-zero starting losses from
 * tripping it. Stopping (rather than warning) is deliberate: a diverged run's numbers are not results.
 *
 * Nothing of a failing step is applied, and no checkpoint ever holds a non-finite value, so the checkpoint
 * named in the error is always one to resume from (with a lower learning rate).
 */
import { InputError, TrainingDivergedError } from '../errors.ts';
import { AdamW, NonFiniteUpdateError, warmupCosine } from '../models/optim.ts';
import { tf } from '../tf/backend.ts';
import { formatDuration, ProgressBar, type ProgressSink } from '../util/progress.ts';
import { type RunState, type StoredRun, type TrainEpoch, writeCheckpoint } from './checkpoint.ts';
import { type BatchStats, formatMetric, type Task } from './task.ts';

/** Something that runs after every applied step (AdaLoRA's rank allocator). */
export interface StepHook {
  /** Called with the optimiser's step count after the update and the step's gradients (by variable name). */
  afterStep(step: number, grads: Readonly<Record<string, tf.Tensor>>): void;
}

/** When the divergence guard stops a run (see the module comment). */
export interface DivergenceGuard {
  factor: number;
  margin: number;
  window: number;
}

export const DEFAULT_DIVERGENCE: DivergenceGuard = { factor: 10, margin: 10, window: 10 };

/** Options of `train`. */
export interface TrainOptions {
  /** The run's name in the progress bar, logs and errors (`LoRA K=4`). */
  label: string;
  task: Task;
  /** The trainable variables by dotted name (what the optimiser updates and the checkpoint holds). */
  params: readonly [string, tf.Variable][];
  epochs: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  weightDecay?: number;
  /** Warm-up steps (null or undefined: `defaultWarmup(total, warmupCap)`). */
  warmupSteps?: number | null;
  /** The most warm-up steps the default takes. */
  warmupCap: number;
  /** Stop after this many optimiser steps in all (the schedule still spans every epoch). */
  maxSteps?: number | null;
  /** An extra loss term added inside the tape (AdaLoRA's orthogonality regulariser). */
  regularizer?: () => tf.Scalar | null;
  hooks?: readonly StepHook[];
  /** The options a resumed run must share with its checkpoint (stored in it). */
  key: Record<string, unknown>;
  /** Where checkpoints go (null: none), and how often besides every epoch's end. */
  checkpoint?: { file: string; dir: string; every?: number } | null;
  /** The checkpoint to resume from (`openCheckpoint`). */
  stored?: StoredRun | null;
  /** Evaluate before training too (epoch 0). */
  evalInitial?: boolean;
  /** The divergence guard (`false`: off). */
  divergence?: DivergenceGuard | false;
  /** Progress bar sink (default stderr; null for none). */
  progress?: ProgressSink | null;
  log?: (line: string) => void;
  /** Called after each checkpoint is written, with the global step (a throw stops the run there). */
  onCheckpoint?: (step: number) => void;
  /** Called after each epoch's checkpoint (a throw stops the run there). */
  onEpoch?: (record: TrainEpoch, state: RunState) => void;
}

/** What `train` returns. */
export interface TrainResult {
  state: RunState;
  /** The step this process started from (0 for a fresh run). */
  resumedFromStep: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

/** The default warm-up: 5 % of all steps, rounded up, at most `cap`. */
export function defaultWarmup(totalSteps: number, cap: number): number {
  return Math.min(cap, Math.ceil(totalSteps * 0.05));
}

/** The step at which a run of `epochs` stops (`maxSteps` caps it), given the task's batches. */
export function runLength(
  task: Task,
  epochs: number,
  batchSize: number,
  maxSteps?: number | null,
): { stepsPerEpoch: number; totalSteps: number; lastStep: number } {
  const stepsPerEpoch = task.batches(1, batchSize).length;
  const totalSteps = stepsPerEpoch * epochs;
  return { stepsPerEpoch, totalSteps, lastStep: Math.min(totalSteps, maxSteps ?? totalSteps) };
}

function freshState(key: Record<string, unknown>): RunState {
  return {
    key,
    step: 0,
    history: [],
    seconds: 0,
    trainSeconds: 0,
    samples: 0,
    partial: null,
    guard: { reference: null, recent: [] },
  };
}

function restore(
  params: readonly [string, tf.Variable][],
  opt: AdamW,
  stored: StoredRun,
  where: string,
): void {
  const names = new Set(params.map(([n]) => n));
  const missing = [...names].filter((n) => !(n in stored.params));
  const extra = Object.keys(stored.params).filter((n) => !names.has(n));
  if (missing.length || extra.length) {
    throw new InputError(
      `the checkpoint in ${where} does not match this run's parameters:${missing.length ? ` missing ${missing.slice(0, 4).join(', ')}` : ''}${extra.length ? ` unexpected ${extra.slice(0, 4).join(', ')}` : ''}`,
    );
  }
  for (const [n, v] of params) {
    const t = stored.params[n]!;
    if (t.shape.length !== v.rank || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new InputError(
        `the checkpoint in ${where}: ${n} has shape [${t.shape.join(', ')}], this run's is [${v.shape.join(', ')}]`,
      );
    }
  }
  for (const [n, v] of params)
    tf.tidy(() => v.assign(tf.tensor(Float32Array.from(stored.params[n]!.data), v.shape)));
  opt.loadStateDict({ step: stored.step, tensors: stored.optim });
}

function tensorsOf(params: readonly [string, tf.Variable][]) {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [n, v] of params) out[n] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
  return out;
}

/**
 * Train `params` on `task` (see the module comment). Resolves with the run state when every epoch (or
 * `maxSteps`) is done; throws `TrainingDivergedError` on a non-finite loss, gradient or update, or divergence.
 * The caller owns the optimiser-free parts: building the model and task, and writing its artifacts.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { task, label, batchSize } = opts;
  const guard = opts.divergence === false ? null : (opts.divergence ?? DEFAULT_DIVERGENCE);
  const ckpt = opts.checkpoint ?? null;
  const { stepsPerEpoch, totalSteps, lastStep } = runLength(task, opts.epochs, batchSize, opts.maxSteps);
  const warmup = opts.warmupSteps ?? defaultWarmup(totalSteps, opts.warmupCap);
  const opt = new AdamW([...opts.params], { weightDecay: opts.weightDecay ?? 0, clipNorm: 1 });
  try {
    const stored = opts.stored ?? null;
    const state: RunState = stored
      ? {
          key: opts.key,
          step: stored.step,
          history: [...stored.history],
          seconds: stored.seconds,
          trainSeconds: stored.trainSeconds,
          samples: stored.samples,
          partial: stored.partial,
          guard: { reference: stored.guard.reference, recent: [...stored.guard.recent] },
        }
      : freshState(opts.key);
    if (stored) {
      restore(opts.params, opt, stored, ckpt?.dir ?? 'the checkpoint');
      log(`resuming ${label} from step ${stored.step} of ${lastStep}${ckpt ? ` (${ckpt.dir})` : ''}`);
    }
    const resumedFromStep = state.step;
    let lastCkptStep = stored ? stored.step : null;
    const save = () => {
      if (!ckpt) return;
      const o = opt.stateDict();
      writeCheckpoint(ckpt.file, { ...state, step: o.step }, tensorsOf(opts.params), o.tensors);
      lastCkptStep = state.step;
      opts.onCheckpoint?.(state.step);
    };
    const whereCkpt = () =>
      ckpt
        ? lastCkptStep === null
          ? 'no checkpoint was written yet'
          : `the last checkpoint (step ${lastCkptStep}, all values finite) is ${ckpt.file}`
        : 'nothing was saved (no output directory)';

    if (opts.evalInitial && state.history.length === 0) {
      const t0 = performance.now();
      const ev = tf.tidy(() => task.evaluate());
      const seconds = (performance.now() - t0) / 1000;
      state.history.push({
        epoch: 0,
        step: 0,
        trainLoss: Number.NaN,
        evalLoss: ev.loss,
        evalMetric: ev.metric,
        seconds,
      });
      state.seconds += seconds;
      log(
        `${label} epoch 0 (before training): held-out ${formatMetric(task.metric, ev.metric)}, loss ${ev.loss.toFixed(4)}`,
      );
    }

    const varList = opts.params.map(([, v]) => v);
    for (
      let epoch = Math.floor(state.step / stepsPerEpoch) + 1;
      epoch <= opts.epochs && state.step < lastStep;
      epoch++
    ) {
      const t0 = performance.now();
      const batches = task.batches(epoch, batchSize);
      const first = state.step - (epoch - 1) * stepsPerEpoch;
      // a checkpoint in the middle of this epoch carries its running sums
      const carried = first > 0 ? state.partial : null;
      const stats: BatchStats = { correct: carried?.correct ?? 0, count: carried?.count ?? 0 };
      let lossSum = carried?.lossSum ?? 0;
      let lossN = carried?.lossN ?? 0;
      const epochSecondsBefore = carried?.seconds ?? 0;
      const bar =
        opts.progress === null
          ? null
          : new ProgressBar(`${label} epoch ${epoch}/${opts.epochs}`, batches.length, {
              sink: opts.progress,
            });
      let trainMs = 0;
      let mark = t0;
      /** Move the time since the last call into the run state (so checkpoints carry it). */
      const account = () => {
        const now = performance.now();
        state.seconds += (now - mark) / 1000;
        state.trainSeconds += trainMs / 1000;
        trainMs = 0;
        mark = now;
      };
      const fail = (what: string, lr: number, b: number): never => {
        bar?.finish();
        throw new TrainingDivergedError(
          `${label}: ${what} at step ${state.step + 1} (epoch ${epoch}, batch ${b + 1}, lr ${lr.toExponential(2)}); ` +
            `nothing of this step was applied; ${whereCkpt()}. Try a lower --lr (now ${opts.lr}) or check the data for NaN/Inf values`,
        );
      };
      for (let b = first; b < batches.length && state.step < lastStep; b++) {
        const batch = batches[b]!;
        const lr = warmupCosine(state.step, totalSteps, opts.lr, warmup);
        const s0 = performance.now();
        // the divergence window with this step's loss (the run state takes it only if the step is applied)
        const { loss, failure, recent } = tf.tidy((): { loss: number; failure: string; recent: number[] } => {
          const { value, grads } = tf.variableGrads(() => {
            const l = task.loss(batch, stats);
            const reg = opts.regularizer?.() ?? null;
            return (reg ? l.add(reg) : l) as tf.Scalar;
          }, varList);
          const loss = value.dataSync()[0]!;
          if (!Number.isFinite(loss)) return { loss, failure: `the loss is ${loss}`, recent: [] };
          const recent = guard ? [...state.guard.recent, loss].slice(-guard.window) : [];
          if (guard && state.guard.reference !== null) {
            const mean = recent.reduce((a, x) => a + x, 0) / recent.length;
            const ref = state.guard.reference;
            const limit = Math.max(guard.factor * ref, ref + guard.margin);
            if (mean > limit) {
              const failure = `the loss diverged: the mean of the last ${recent.length} step losses is ${mean.toPrecision(4)}, above ${limit.toPrecision(4)} (${guard.factor}× the run's first loss ${ref.toPrecision(4)})`;
              return { loss, failure, recent };
            }
          }
          let norm: number;
          try {
            norm = opt.apply(grads, lr);
          } catch (e) {
            if (!(e instanceof NonFiniteUpdateError)) throw e;
            return { loss, failure: `the update would make ${e.parameter} non-finite`, recent };
          }
          if (!Number.isFinite(norm)) return { loss, failure: `the gradient norm is ${norm}`, recent };
          for (const h of opts.hooks ?? []) h.afterStep(opt.step, grads);
          return { loss, failure: '', recent };
        });
        if (failure) fail(failure, lr, b);
        trainMs += performance.now() - s0;
        state.step++;
        state.samples += batch.length;
        state.guard.reference ??= loss;
        state.guard.recent = recent;
        lossSum += loss;
        lossN++;
        const fields: Record<string, string> = { loss: (lossSum / lossN).toFixed(4) };
        if (stats.count > 0) fields.acc = `${((100 * stats.correct) / stats.count).toFixed(1)}%`;
        fields.lr = lr.toExponential(1);
        bar?.update(b + 1, fields);
        if (ckpt?.every && state.step % ckpt.every === 0 && b + 1 < batches.length) {
          account();
          state.partial = {
            lossSum,
            lossN,
            correct: stats.correct,
            count: stats.count,
            seconds: epochSecondsBefore + (performance.now() - t0) / 1000,
          };
          save();
        }
      }
      const ev = tf.tidy(() => task.evaluate());
      const seconds = epochSecondsBefore + (performance.now() - t0) / 1000;
      bar?.finish();
      account();
      const rec: TrainEpoch = {
        epoch,
        step: state.step,
        trainLoss: lossN ? lossSum / lossN : Number.NaN,
        ...(stats.count > 0 ? { trainAccuracy: stats.correct / stats.count } : {}),
        evalLoss: ev.loss,
        evalMetric: ev.metric,
        seconds,
      };
      state.history.push(rec);
      state.partial = null;
      log(
        `${label} epoch ${epoch}/${opts.epochs}: train loss ${rec.trainLoss.toFixed(4)}${rec.trainAccuracy !== undefined ? `, train acc ${(100 * rec.trainAccuracy).toFixed(1)}%` : ''}; held-out ${formatMetric(task.metric, ev.metric)}, loss ${ev.loss.toFixed(4)} (${formatDuration(seconds)})`,
      );
      save();
      opts.onEpoch?.(rec, state);
    }
    return { state, resumedFromStep, stepsPerEpoch, totalSteps };
  } finally {
    opt.dispose();
  }
}
