/**
 * The fine-tuning metric for quantized adapters: a run directory written by `qpeft finetune` (result.json,
 * head.safetensors, adapter/) gives the base model, the task, the seed and the trained head; each adapter
 * directory (float32 or quantized, loaded with the normal `loadPeftModel`) is scored on the task's held-out
 * split exactly as the fine-tuning loop scores it (`Task.evaluate`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataError, describe, InputError } from '../errors.ts';
import { readJsonBounded } from '../io/read.ts';
import { loadSafetensors } from '../io/safetensors.ts';
import { loadModel } from '../models/checkpoint.ts';
import { loadPeftModel } from '../peft/serialize.ts';
import { tf } from '../tf/backend.ts';
import { createTask, type MetricInfo, parseTaskSpec } from '../train/tasks.ts';
import { formatMetric } from './finetune.ts';
import { taskHead } from './methods.ts';

/** Scores adapters on a fine-tuning run's task. */
export interface RunEvaluator {
  readonly metric: MetricInfo;
  /** What the run reported for its own (float32) adapter, as a fraction for accuracy. */
  readonly reported: number;
  /** Held-out metric of the model with the adapter in `adapterDir` (as a fraction for accuracy). */
  evaluate(adapterDir: string): { metric: number; loss: number };
  /** `accuracy 98.12%` / `1.2345 bits/byte`. */
  format(value: number): string;
}

/** Whether `dir` is a `qpeft finetune` output with an adapter. */
export function isFinetuneRun(dir: string): boolean {
  return (
    existsSync(path.join(dir, 'result.json')) && existsSync(path.join(dir, 'adapter', 'adapter_config.json'))
  );
}

/** An evaluator for the run in `runDir` (`evalLimit`: held-out examples, default all of them). */
export function runEvaluator(runDir: string, options: { evalLimit?: number } = {}): RunEvaluator {
  if (!isFinetuneRun(runDir))
    throw new InputError(
      `${describe(runDir)} is not a fine-tuning run (expected result.json and adapter/ from 'qpeft finetune')`,
    );
  const resultFile = path.join(runDir, 'result.json');
  const result = readJsonBounded(resultFile, 'run record') as {
    data: string;
    base: string;
    seed: number;
    value: number;
    metric: MetricInfo;
  };
  if (
    typeof result !== 'object' ||
    result === null ||
    typeof result.data !== 'string' ||
    typeof result.base !== 'string' ||
    !Number.isSafeInteger(result.seed) ||
    typeof result.value !== 'number'
  )
    throw new DataError(
      `${resultFile}: expected "data" and "base" (strings), "seed" (an integer) and "value" (a number), as 'qpeft finetune' writes`,
    );
  const spec = parseTaskSpec(result.data);
  const model = loadModel(result.base);
  const task = createTask(model, spec, result.seed, { evalLimit: options.evalLimit });
  const head = taskHead(model, spec);
  if (head) {
    const file = path.join(runDir, 'head.safetensors');
    const { tensors } = loadSafetensors(file);
    const headName = model.namedModules().find(([, m]) => m === head)![0];
    for (const [n, v] of head.namedParameters()) {
      const t = tensors[`${headName}.${n}`];
      if (!t) throw new InputError(`${file} has no tensor ${headName}.${n}`);
      if (t.dtype !== 'F32' || t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
        throw new DataError(
          `${file}: ${headName}.${n} is ${t.dtype} [${t.shape.join(', ')}], the head needs F32 [${v.shape.join(', ')}]`,
        );
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, [...v.shape], 'float32')));
    }
  }
  return {
    metric: task.metric,
    reported: result.value,
    evaluate(adapterDir) {
      const peft = loadPeftModel(model, adapterDir);
      try {
        return tf.tidy(() => task.evaluate());
      } finally {
        peft.unload();
      }
    },
    format: (v) => formatMetric(task.metric, v),
  };
}
