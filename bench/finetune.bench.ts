/**
 * Fine-tuning benchmark: training throughput (samples/s) and peak tensor memory of one training
 * step per method of experiment 1 (the ViT pretrained on Fashion-MNIST, fine-tuned on MNIST, batch 32),
 * measured side by side in one run. Uses the shipped checkpoint when present, else a fresh ViT of the same
 * shape (the speed does not depend on the weights).
 *
 * Peak memory is tfjs's `peakBytes` of one full step (forward, backward, AdamW update) from `tf.profile`:
 * tensor memory, not the process's resident set (also printed, for the whole run).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { getExperiment, PACKAGE_ROOT } from '../src/experiments/experiment.ts';
import { methodLabel, setupMethod } from '../src/experiments/methods.ts';
import { createModel, loadModel } from '../src/models/checkpoint.ts';
import { AdamW } from '../src/models/optim.ts';
import { initBackend, tf } from '../src/tf/backend.ts';
import { createTask, parseTaskSpec } from '../src/train/tasks.ts';

const BATCH = 32;
const STEPS = 12;

export default async function bench(): Promise<void> {
  const backend = await initBackend();
  const shipped = path.join(PACKAGE_ROOT, 'checkpoints', 'vit-fashion-mnist');
  const haveShipped = existsSync(path.join(shipped, 'config.json'));
  const def = getExperiment('vision');
  const spec = parseTaskSpec('mnist');
  console.log(
    `backend ${backend}; ${haveShipped ? 'shipped ViT' : 'fresh ViT (no shipped checkpoint)'}; batch ${BATCH}; median of ${STEPS} steps after 2 warm-up steps`,
  );
  const rows: string[][] = [['method', 'trainable', 'ms/step', 'samples/s', 'peak tensor MB']];
  for (const method of def.methods) {
    const model = haveShipped ? loadModel(shipped) : createModel('vit', {});
    const task = createTask(model, spec, 0, { trainLimit: BATCH * (STEPS + 2), evalLimit: 1 });
    const setup = setupMethod(model, spec, method, 0, STEPS + 2);
    const opt = new AdamW(setup.trainable, { clipNorm: 1 });
    const vars = setup.trainable.map(([, v]) => v);
    const batches = task.batches(1, BATCH);
    const step = (b: Int32Array) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const l = task.loss(b);
          const reg = setup.peft?.regularizationLoss() ?? null;
          return (reg ? l.add(reg) : l) as tf.Scalar;
        }, vars);
        opt.apply(grads, method.method === 'full' ? 1e-3 : 5e-3);
        value.dataSync();
      });
    step(batches[0]!);
    const prof = await tf.profile(() => step(batches[1]!));
    const times: number[] = [];
    for (let i = 2; i < 2 + STEPS; i++) {
      const t0 = performance.now();
      step(batches[i]!);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)]!;
    rows.push([
      methodLabel(method),
      String(setup.counts.trainable),
      ms.toFixed(1),
      ((1000 * BATCH) / ms).toFixed(0),
      (prof.peakBytes / 2 ** 20).toFixed(1),
    ]);
    opt.dispose();
    setup.peft?.unload();
    model.dispose();
  }
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows)
    console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  '));
  console.log(`process resident set at the end: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
}
