/**
 * The fine-tuning loop: a saved base model + a task on real data + a method (`MethodSpec`) → a trained
 * adapter (or head, or model) and its held-out metric.
 *
 * Seeded (head and adapter initial values, batch order). AdamW with warm-up and cosine decay and gradient
 * clipping; AdaLoRA's rank allocator runs after each step and its orthogonality term joins the loss. A
 * progress bar on stderr shows the loss, the running training accuracy and the ETA. A NaN or infinite loss
 * (or gradient) stops the run with a `TrainingDivergedError` that says where and what to try; nothing of
 * the bad step is applied and the last checkpoint stays.
 *
 * With `out`, the run writes (atomically) `checkpoint.safetensors` every `checkpointEvery` steps and at the
 * end of every epoch (the trainable variables, the optimiser moments and the run state), and `resume`
 * continues from it: the same batches follow, so an interrupted and resumed run reaches the same weights
 * as an uninterrupted one. At the end it writes `result.json`, the adapter (`adapter/`, Hugging Face PEFT
 * layout, with the circuits as OpenQASM 3 under `adapter/circuits/` for quantum methods), its LoRA-layout
 * export (`adapter-lora/`, where ΔW is a low-rank product), and the trained head (`head.safetensors`) or,
 * for full fine-tuning, the whole model (`model/`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AdapterError, describe, InputError, TrainingDivergedError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';
import { type BaseModel, loadModel, saveModel } from '../models/checkpoint.ts';
import { AdamW, warmupCosine } from '../models/optim.ts';
import { formatDuration, ProgressBar, type ProgressSink } from '../models/progress.ts';
import { exportLora, saveAdapter } from '../peft/serialize.ts';
import { tf } from '../tf/backend.ts';
import { checkMethodSpec, type MethodSpec, methodLabel, setupMethod, taskHead } from './methods.ts';
import { type BatchStats, createTask, formatTaskSpec, type MetricInfo, parseTaskSpec } from './tasks.ts';

export const FINETUNE_CHECKPOINT = 'checkpoint.safetensors';
export const FINETUNE_RESULT = 'result.json';

export interface FinetuneOptions {
  /** Directory of a saved base model (`config.json` + `model.safetensors`). */
  base: string;
  /** `mnist`, `fashion-mnist`, `fortunes:<cats>` (LM) or `fortunes-classify:<cats>`. */
  data: string;
  /** `lm` or `classify` for `fortunes:<cats>` (default lm). */
  task?: string;
  method: MethodSpec;
  epochs: number;
  /** Peak learning rate (default 5e-3 for adapters and probes, 1e-3 for full fine-tuning). */
  lr?: number;
  batchSize?: number;
  seed?: number;
  weightDecay?: number;
  /** Warm-up steps (default 5% of all steps, at most 100). */
  warmupSteps?: number;
  /** Use at most this many training examples (LM: windows per epoch). */
  trainLimit?: number;
  /** Evaluate on at most this many held-out examples (LM: windows). */
  evalLimit?: number;
  /** Stop after this many optimiser steps in all (for smoke runs; the schedule still spans all epochs). */
  maxSteps?: number;
  /** Output directory (checkpoints, result, adapter); without it nothing is written. */
  out?: string;
  /**
   * Continue from `out/checkpoint.safetensors` (same options; `epochs` may grow). Exact for every method
   * except AdaLoRA, whose rank allocator's importance averages are not checkpointed and restart (its masked
   * singular values are kept, being part of the variables).
   */
  resume?: boolean;
  /** Checkpoint every this many steps (default 100) besides every epoch's end. */
  checkpointEvery?: number;
  /** Evaluate the model before training too (epoch 0). */
  evalInitial?: boolean;
  /** Progress bar sink (default stderr; null for none). */
  progress?: ProgressSink | null;
  /** Log lines (default stderr). */
  log?: (line: string) => void;
  /** Called after each checkpoint is written, with the global step (a throw stops the run there). */
  onCheckpoint?: (step: number) => void;
}

/** Metrics after an epoch (epoch 0: before training). */
export interface FinetuneEpoch {
  epoch: number;
  /** Optimiser steps so far. */
  step: number;
  trainLoss: number;
  /** Training accuracy over the epoch's batches (classification tasks). */
  trainAccuracy?: number;
  evalLoss: number;
  /** The task metric: accuracy as a fraction, or bits per byte. */
  evalMetric: number;
  seconds: number;
}

export interface FinetuneResult {
  label: string;
  method: MethodSpec;
  data: string;
  base: string;
  seed: number;
  metric: MetricInfo;
  /** The final held-out metric (after the last epoch; accuracy as a fraction). */
  value: number;
  evalLoss: number;
  /** Exact trainable scalars (from the model's trainable variables), adapter-only and head-only parts. */
  trainableParams: number;
  adapterParams: number;
  headParams: number;
  /** The registry's closed form for the same setup (must equal `trainableParams`). */
  closedFormParams: number;
  totalParams: number;
  targets: string[];
  steps: number;
  /** Training + evaluation wall time, summed across resumptions. */
  seconds: number;
  /** Training samples per second of the training steps. */
  samplesPerSecond: number;
  resumedFromStep: number;
  /** The options that shaped the run (what a rerun must match to reuse this result). */
  settings: FinetuneSettings;
  history: FinetuneEpoch[];
  backend: string;
  /** Files written (relative to `out`). */
  files: string[];
}

/** Hyper-parameters and sizes of a run, as recorded in `result.json`. */
export interface FinetuneSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  warmupSteps: number | null;
  trainLimit: number | null;
  evalLimit: number | null;
  maxSteps: number | null;
}

/** The options a resumed run must share with its checkpoint. */
interface RunKey {
  base: string;
  data: string;
  method: MethodSpec;
  lr: number;
  batchSize: number;
  seed: number;
  weightDecay: number;
  warmupSteps: number | null;
  trainLimit: number | null;
  evalLimit: number | null;
}

interface RunState {
  key: RunKey;
  step: number;
  history: FinetuneEpoch[];
  seconds: number;
  trainSeconds: number;
  samples: number;
}

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new InputError(`${name} must be an integer ≥ ${min}, got ${describe(v)}`);
  }
}

/** Default hyper-parameters. */
export const FINETUNE_DEFAULTS = { batchSize: 32, lr: 5e-3, fullLr: 1e-3, weightDecay: 0 } as const;

/** Fine-tune a base model (see the module comment). */
export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  checkInt('epochs', opts.epochs, 1);
  checkInt('batch size', opts.batchSize, 1);
  checkInt('seed', opts.seed, 0);
  checkInt('train limit', opts.trainLimit, 1);
  checkInt('eval limit', opts.evalLimit, 1);
  checkInt('max steps', opts.maxSteps, 1);
  checkInt('checkpoint interval', opts.checkpointEvery, 1);
  checkInt('warm-up steps', opts.warmupSteps, 0);
  checkMethodSpec(opts.method);
  const spec = parseTaskSpec(opts.data, opts.task);
  const key: RunKey = {
    base: path.resolve(opts.base),
    data: formatTaskSpec(spec),
    method: opts.method,
    lr: opts.lr ?? (opts.method.method === 'full' ? FINETUNE_DEFAULTS.fullLr : FINETUNE_DEFAULTS.lr),
    batchSize: opts.batchSize ?? FINETUNE_DEFAULTS.batchSize,
    seed: opts.seed ?? 0,
    weightDecay: opts.weightDecay ?? FINETUNE_DEFAULTS.weightDecay,
    warmupSteps: opts.warmupSteps ?? null,
    trainLimit: opts.trainLimit ?? null,
    evalLimit: opts.evalLimit ?? null,
  };
  if (!(key.lr > 0 && Number.isFinite(key.lr)))
    throw new InputError(`learning rate must be a positive number, got ${describe(key.lr)}`);
  if (!(key.weightDecay >= 0))
    throw new InputError(`weight decay must be ≥ 0, got ${describe(key.weightDecay)}`);

  const ckptFile = opts.out ? path.join(opts.out, FINETUNE_CHECKPOINT) : null;
  let stored:
    | (RunState & { tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> })
    | null = null;
  if (opts.resume) {
    if (!ckptFile) throw new InputError('resume needs an output directory (--out) holding a checkpoint');
    if (!existsSync(ckptFile)) {
      throw new InputError(
        `--resume: no checkpoint in ${describe(opts.out)} (${FINETUNE_CHECKPOINT} is missing); run without --resume to start`,
      );
    }
    stored = readCheckpoint(ckptFile);
    const diff = (Object.keys(key) as (keyof RunKey)[]).filter(
      (k) => JSON.stringify(key[k]) !== JSON.stringify(stored!.key[k]),
    );
    if (diff.length) {
      throw new InputError(
        `--resume: the checkpoint in ${opts.out} was made with different options: ${diff.map((k) => `${k} ${JSON.stringify(stored!.key[k])} (now ${JSON.stringify(key[k])})`).join('; ')}`,
      );
    }
  } else if (ckptFile && existsSync(ckptFile)) {
    throw new InputError(
      `${describe(opts.out)} already holds a fine-tuning checkpoint; pass --resume to continue it or choose another --out`,
    );
  }

  const model = loadModel(opts.base);
  let opt: AdamW | null = null;
  try {
    const task = createTask(model, spec, key.seed, {
      trainLimit: opts.trainLimit,
      evalLimit: opts.evalLimit,
    });
    const stepsPerEpoch = task.batches(1, key.batchSize).length;
    const totalSteps = stepsPerEpoch * opts.epochs;
    const setup = setupMethod(model, spec, opts.method, key.seed, totalSteps);
    if (setup.counts.trainable !== setup.closedForm) {
      log(
        `warning: ${setup.counts.trainable} trainable parameters, but the closed form gives ${setup.closedForm}`,
      );
    }
    const label = methodLabel(opts.method);
    opt = new AdamW(setup.trainable, { weightDecay: key.weightDecay, clipNorm: 1 });
    const state: RunState = stored
      ? {
          key,
          step: stored.step,
          history: [...stored.history],
          seconds: stored.seconds,
          trainSeconds: stored.trainSeconds,
          samples: stored.samples,
        }
      : { key, step: 0, history: [], seconds: 0, trainSeconds: 0, samples: 0 };
    if (stored) {
      restore(model, opt, setup.trainable, stored);
      log(`resuming ${label} from step ${stored.step} of ${totalSteps} (${opts.out})`);
    }
    const resumedFromStep = state.step;
    log(`data: ${task.summary}`);
    log(
      `method: ${label}; trainable params ${setup.counts.trainable} (adapter ${setup.counts.adapter}, head ${setup.counts.head}) of ${setup.counts.total}` +
        `${setup.targets.length ? ` on ${setup.targets.length} layers (${shortTargets(setup.targets)})` : ''}; ${stepsPerEpoch} steps per epoch of batch ${key.batchSize}, lr ${key.lr}`,
    );
    const warmup = key.warmupSteps ?? Math.min(100, Math.ceil(totalSteps * 0.05));
    const varList = setup.trainable.map(([, v]) => v);
    const lastStep = Math.min(totalSteps, opts.maxSteps ?? totalSteps);

    const save = () => {
      if (!ckptFile) return;
      writeCheckpoint(ckptFile, setup.trainable, opt!, state);
      opts.onCheckpoint?.(state.step);
    };

    if (opts.evalInitial && state.history.length === 0) {
      const t0 = performance.now();
      const ev = tf.tidy(() => task.evaluate());
      state.history.push({
        epoch: 0,
        step: 0,
        trainLoss: Number.NaN,
        evalLoss: ev.loss,
        evalMetric: ev.metric,
        seconds: (performance.now() - t0) / 1000,
      });
      state.seconds += (performance.now() - t0) / 1000;
      log(`epoch 0 (before training): ${formatMetric(task.metric, ev.metric)}, loss ${ev.loss.toFixed(4)}`);
    }

    let lastCkptStep = state.step;
    for (
      let epoch = Math.floor(state.step / stepsPerEpoch) + 1;
      epoch <= opts.epochs && state.step < lastStep;
      epoch++
    ) {
      const t0 = performance.now();
      const batches = task.batches(epoch, key.batchSize);
      const first = state.step - (epoch - 1) * stepsPerEpoch;
      const bar =
        opts.progress === null
          ? null
          : new ProgressBar(`${label} epoch ${epoch}/${opts.epochs}`, batches.length, {
              sink: opts.progress,
            });
      const stats: BatchStats = { correct: 0, count: 0 };
      let lossSum = 0;
      let lossN = 0;
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
      for (let b = first; b < batches.length && state.step < lastStep; b++) {
        const batch = batches[b]!;
        const lr = warmupCosine(state.step, totalSteps, key.lr, warmup);
        const s0 = performance.now();
        const { loss, norm } = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const l = task.loss(batch, stats);
            const reg = setup.peft?.regularizationLoss() ?? null;
            return (reg ? l.add(reg) : l) as tf.Scalar;
          }, varList);
          const loss = value.dataSync()[0]!;
          if (!Number.isFinite(loss)) return { loss, norm: Number.NaN };
          const norm = opt!.apply(grads, lr);
          if (Number.isFinite(norm)) setup.allocator?.update(opt!.step, grads);
          return { loss, norm };
        });
        if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
          bar?.finish();
          throw new TrainingDivergedError(
            `${label}: the ${Number.isFinite(loss) ? `gradient norm is ${norm}` : `loss is ${loss}`} at step ${state.step + 1} (epoch ${epoch}, batch ${b + 1}, lr ${lr.toExponential(2)}); ` +
              `nothing of this step was applied${ckptFile ? ` and the checkpoint in ${opts.out} is at step ${lastCkptStep}` : ''}. Try a lower --lr (now ${key.lr}) or check the data for NaN/Inf values`,
          );
        }
        trainMs += performance.now() - s0;
        state.step++;
        state.samples += batch.length;
        lossSum += loss;
        lossN++;
        const fields: Record<string, string> = { loss: (lossSum / lossN).toFixed(4) };
        if (stats.count > 0) fields.acc = `${((100 * stats.correct) / stats.count).toFixed(1)}%`;
        bar?.update(b + 1, fields);
        if (ckptFile && state.step % (opts.checkpointEvery ?? 100) === 0 && b + 1 < batches.length) {
          account();
          save();
          lastCkptStep = state.step;
        }
      }
      const ev = tf.tidy(() => task.evaluate());
      const seconds = (performance.now() - t0) / 1000;
      bar?.finish();
      account();
      const rec: FinetuneEpoch = {
        epoch,
        step: state.step,
        trainLoss: lossN ? lossSum / lossN : Number.NaN,
        ...(stats.count > 0 ? { trainAccuracy: stats.correct / stats.count } : {}),
        evalLoss: ev.loss,
        evalMetric: ev.metric,
        seconds,
      };
      state.history.push(rec);
      log(
        `${label} epoch ${epoch}: train loss ${rec.trainLoss.toFixed(4)}${rec.trainAccuracy !== undefined ? `, train acc ${(100 * rec.trainAccuracy).toFixed(1)}%` : ''}; held-out ${formatMetric(task.metric, ev.metric)}, loss ${ev.loss.toFixed(4)} (${formatDuration(seconds)})`,
      );
      save();
      lastCkptStep = state.step;
    }

    const last = state.history.at(-1);
    if (!last) throw new InputError('no epoch was run (maxSteps or epochs is 0?)');
    const files: string[] = [];
    if (opts.out) files.push(...writeArtifacts(opts.out, model, spec, setup, opts.method, log));
    const result: FinetuneResult = {
      label,
      method: opts.method,
      data: key.data,
      base: opts.base,
      seed: key.seed,
      metric: task.metric,
      value: last.evalMetric,
      evalLoss: last.evalLoss,
      trainableParams: setup.counts.trainable,
      adapterParams: setup.counts.adapter,
      headParams: setup.counts.head,
      closedFormParams: setup.closedForm,
      totalParams: setup.counts.total,
      targets: setup.targets,
      steps: state.step,
      seconds: state.seconds,
      samplesPerSecond: state.trainSeconds > 0 ? state.samples / state.trainSeconds : Number.NaN,
      resumedFromStep,
      settings: {
        epochs: opts.epochs,
        lr: key.lr,
        batchSize: key.batchSize,
        weightDecay: key.weightDecay,
        warmupSteps: key.warmupSteps,
        trainLimit: key.trainLimit,
        evalLimit: key.evalLimit,
        maxSteps: opts.maxSteps ?? null,
      },
      history: state.history,
      backend: tf.getBackend(),
      files,
    };
    if (opts.out) {
      writeFileAtomic(path.join(opts.out, FINETUNE_RESULT), `${JSON.stringify(result, null, 2)}\n`);
      files.push(FINETUNE_RESULT);
    }
    return result;
  } finally {
    opt?.dispose();
    model.dispose();
  }
}

function shortTargets(targets: string[]): string {
  const names = [...new Set(targets.map((t) => t.split('.').at(-1)))];
  return names.join(', ');
}

/** `accuracy 97.12%` or `2.134 bits/byte`. */
export function formatMetric(metric: MetricInfo, value: number): string {
  return metric.name === 'accuracy'
    ? `accuracy ${(100 * value).toFixed(2)}%`
    : `${value.toFixed(4)} bits/byte`;
}

function writeCheckpoint(
  file: string,
  trainable: [string, tf.Variable][],
  opt: AdamW,
  state: RunState,
): void {
  const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const [n, v] of trainable)
    tensors[`param.${n}`] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
  const o = opt.stateDict();
  for (const [n, t] of Object.entries(o.tensors)) tensors[`optim.${n}`] = t;
  saveSafetensors(file, tensors, {
    format: 'qpeft-finetune-checkpoint',
    run: JSON.stringify({ ...state, step: o.step }),
  });
}

function readCheckpoint(file: string) {
  const { tensors, metadata } = loadSafetensors(file);
  if (metadata.format !== 'qpeft-finetune-checkpoint' || !metadata.run) {
    throw new InputError(
      `${file} is not a qpeft fine-tuning checkpoint (format ${describe(metadata.format)})`,
    );
  }
  return { ...(JSON.parse(metadata.run) as RunState), tensors };
}

function restore(
  model: BaseModel,
  opt: AdamW,
  trainable: [string, tf.Variable][],
  stored: RunState & { tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> },
): void {
  const params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
  const optim: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
  for (const [n, t] of Object.entries(stored.tensors)) {
    if (n.startsWith('param.')) params[n.slice(6)] = t;
    else if (n.startsWith('optim.')) optim[n.slice(6)] = t;
  }
  const names = new Set(trainable.map(([n]) => n));
  const missing = [...names].filter((n) => !(n in params));
  const extra = Object.keys(params).filter((n) => !names.has(n));
  if (missing.length || extra.length) {
    throw new InputError(
      `the checkpoint's parameters do not match this run: ${missing.length ? `missing ${missing.slice(0, 4).join(', ')}` : ''}${extra.length ? ` unexpected ${extra.slice(0, 4).join(', ')}` : ''}`,
    );
  }
  model.loadStateDict(params, false);
  opt.loadStateDict({ step: stored.step, tensors: optim });
}

function writeArtifacts(
  out: string,
  model: BaseModel,
  spec: ReturnType<typeof parseTaskSpec>,
  setup: ReturnType<typeof setupMethod>,
  method: MethodSpec,
  log: (l: string) => void,
): string[] {
  const files: string[] = [];
  if (method.method === 'full') {
    saveModel(path.join(out, 'model'), model, { source: 'qpeft finetune --method full' });
    return ['model/'];
  }
  const head = taskHead(model, spec);
  if (head) {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const headName = model.namedModules().find(([, m]) => m === head)![0];
    for (const [n, v] of head.namedParameters())
      tensors[`${headName}.${n}`] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
    saveSafetensors(path.join(out, 'head.safetensors'), tensors, { format: 'qpeft-head' });
    files.push('head.safetensors');
  }
  if (setup.peft) {
    saveAdapter(setup.peft, path.join(out, 'adapter'));
    files.push('adapter/');
    try {
      exportLora(setup.peft, path.join(out, 'adapter-lora'));
      files.push('adapter-lora/');
    } catch (e) {
      if (!(e instanceof AdapterError)) throw e;
      log(`note: ${e.message} (no LoRA-layout export)`);
    }
  }
  return files;
}
