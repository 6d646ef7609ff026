/**
 * The training engine as an attacker and an unlucky user would drive it: learning rates that overflow or make
 * the loss explode, runs killed between checkpoints, checkpoints that hold NaN, legacy checkpoint formats.
 * Every failure must be a typed error with a one-line message, and nothing on disk may change.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, TrainingDivergedError } from '../../src/errors.ts';
import { saveSafetensors } from '../../src/io/safetensors.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import {
  ACCURACY,
  defaultWarmup,
  openCheckpoint,
  readCheckpoint,
  type Task,
  type TrainOptions,
  train,
  writeCheckpoint,
} from '../../src/train/index.ts';
import { createRng } from '../../src/util/random.ts';

let root: string;
beforeAll(async () => {
  await initBackend('wasm');
  root = mkdtempSync(path.join(os.tmpdir(), 'qpeft-engine-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const QUIET = { progress: null, log: () => {} } as const;

/** Every file under `dir` with its SHA-256 (to show that a failure changed nothing). */
function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    try {
      out[f] = createHash('sha256').update(readFileSync(p)).digest('hex');
    } catch {
      out[f] = 'dir';
    }
  }
  return out;
}

/** Softmax regression on 64 seeded points of 4 features in 3 classes (the labels are a linear rule). */
function classifier(seed = 1) {
  const rng = createRng(seed);
  const n = 64;
  const x = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const y = Int32Array.from({ length: n }, (_, i) => {
    const s = x[i * 4]! + 0.5 * x[i * 4 + 1]! - x[i * 4 + 2]!;
    return s > 0.5 ? 2 : s > -0.5 ? 1 : 0;
  });
  const w = tf.variable(tf.zeros([4, 3]), true, `w${seed}_${Math.random()}`);
  const batchOf = (idx: Int32Array) => {
    const xb = new Float32Array(idx.length * 4);
    for (let r = 0; r < idx.length; r++) xb.set(x.subarray(idx[r]! * 4, idx[r]! * 4 + 4), r * 4);
    return { xb: tf.tensor2d(xb, [idx.length, 4]), yb: Int32Array.from(idx, (j) => y[j]!) };
  };
  const task: Task = {
    metric: ACCURACY,
    batches(epoch, bs) {
      const order = Int32Array.from({ length: n }, (_, i) => i);
      const r = createRng(seed * 1000 + epoch);
      for (let i = n - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const out: Int32Array[] = [];
      for (let i = 0; i < n; i += bs) out.push(order.subarray(i, i + bs));
      return out;
    },
    loss(batch, stats) {
      const { xb, yb } = batchOf(batch);
      const logits = tf.matMul(xb, w);
      if (stats) {
        const pred = Array.from(logits.argMax(1).dataSync());
        stats.correct += pred.reduce((a, p, i) => a + (p === yb[i] ? 1 : 0), 0);
        stats.count += batch.length;
      }
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(yb, 'int32'), 3), logits) as tf.Scalar;
    },
    evaluate() {
      const all = Int32Array.from({ length: n }, (_, i) => i);
      const { xb, yb } = batchOf(all);
      const logits = tf.matMul(xb, w);
      const pred = Array.from(logits.argMax(1).dataSync());
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(yb, 'int32'), 3), logits);
      return {
        loss: loss.dataSync()[0]!,
        metric: pred.reduce((a, p, i) => a + (p === yb[i] ? 1 : 0), 0) / n,
      };
    },
  };
  return { task, w, dispose: () => w.dispose() };
}

function options(
  c: ReturnType<typeof classifier>,
  dir: string | null,
  extra: Partial<TrainOptions> = {},
): TrainOptions {
  return {
    label: 'probe',
    task: c.task,
    params: [['w', c.w]],
    epochs: 2,
    batchSize: 8,
    lr: 0.05,
    warmupCap: 100,
    key: { lr: extra.lr ?? 0.05 },
    checkpoint: dir ? { file: path.join(dir, 'checkpoint.safetensors'), dir, every: 3 } : null,
    ...QUIET,
    ...extra,
  };
}

describe('the training engine', () => {
  it('uses one warm-up rule: ceil(5 % of all steps), capped', () => {
    expect(defaultWarmup(100, 100)).toBe(5);
    expect(defaultWarmup(101, 100)).toBe(6); // 5.05 rounds up, never down
    expect(defaultWarmup(19, 100)).toBe(1);
    expect(defaultWarmup(10_000, 200)).toBe(200);
  });

  it('learns the rule and records per-epoch metrics', async () => {
    const c = classifier();
    const before = tf.memory().numTensors;
    const r = await train(options(c, null, { epochs: 3, evalInitial: true }));
    expect(r.state.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
    expect(r.state.history.at(-1)!.evalLoss).toBeLessThan(r.state.history[0]!.evalLoss);
    expect(r.state.step).toBe(24);
    expect(tf.memory().numTensors).toBe(before);
    c.dispose();
  });

  it('refuses an update that would make a parameter non-finite, before it is applied or checkpointed', async () => {
    const dir = path.join(root, 'overflow');
    const c = classifier();
    const err = await train(options(c, dir, { lr: 1e300 })).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(
      /^probe: the update would make w non-finite at step 1 \(epoch 1, batch 1, lr .*\); nothing of this step was applied; no checkpoint was written yet\./,
    );
    expect(c.w.dataSync().every((v) => v === 0)).toBe(true); // the initial zeros, untouched
    expect(snapshot(dir)).toEqual({});
    c.dispose();
  });

  it('names the last finite checkpoint when a later update overflows, and leaves that checkpoint alone', async () => {
    // w starts at 3e38 and is pushed up: lr = 1e39·(s + 1)/100 keeps it finite for two steps, the third
    // would overflow float32 (3.4e38)
    const dir = path.join(root, 'later');
    const w = tf.variable(tf.fill([1], 3e38), true, `big_${Math.random()}`);
    const task: Task = {
      metric: ACCURACY,
      batches: () => [Int32Array.of(0), Int32Array.of(1), Int32Array.of(2), Int32Array.of(3)],
      loss: () => tf.neg(tf.sum(w)) as tf.Scalar,
      evaluate: () => ({ loss: 0, metric: 0 }),
    };
    const opts: TrainOptions = {
      label: 'push',
      task,
      params: [['w', w]],
      epochs: 1,
      batchSize: 1,
      lr: 1e39,
      warmupSteps: 100,
      warmupCap: 100,
      key: {},
      checkpoint: { file: path.join(dir, 'checkpoint.safetensors'), dir, every: 2 },
      divergence: false,
      ...QUIET,
    };
    const err = await train(opts).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.message).toMatch(
      /the update would make w non-finite at step 3 .*the last checkpoint \(step 2, all values finite\) is .*checkpoint\.safetensors/,
    );
    const ck = readCheckpoint(path.join(dir, 'checkpoint.safetensors'));
    expect(ck.step).toBe(2);
    // two Adam steps of size lr_s (the first moment is the gradient's sign): 3e38 + 1e37 + 2e37
    expect(ck.params.w!.data[0]).toBeCloseTo(Math.fround(Math.fround(3e38 + 1e37) + 2e37), -32);
    expect(Number.isFinite(w.dataSync()[0]!)).toBe(true);
    w.dispose();
  });

  it('stops a run whose loss explodes while staying finite (lr 1e6)', async () => {
    const c = classifier();
    const err = await train(options(c, null, { lr: 1e6, warmupSteps: 0 })).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(
      /^probe: the loss diverged: the mean of the last \d+ step losses is \S+, above \S+ \(10× the run's first loss 1\.099\) at step \d+/,
    );
    c.dispose();
  });

  it('resumes a run killed mid-epoch to the same weights and the same whole-epoch metrics', async () => {
    const a = classifier(5);
    const full = await train(options(a, path.join(root, 'full'), { epochs: 2 }));
    const wa = Array.from(a.w.dataSync());
    a.dispose();

    const cutDir = path.join(root, 'cut');
    const b = classifier(5);
    await expect(
      train(
        options(b, cutDir, {
          onCheckpoint: (s) => {
            if (s === 3) throw new Error('killed');
          },
        }),
      ),
    ).rejects.toThrow('killed');
    b.dispose();
    const c = classifier(5);
    const stored = openCheckpoint({
      file: path.join(cutDir, 'checkpoint.safetensors'),
      dir: cutDir,
      resume: true,
      key: { lr: 0.05 },
      what: 'test',
    });
    expect(stored!.step).toBe(3);
    const resumed = await train(options(c, cutDir, { stored }));
    expect(resumed.resumedFromStep).toBe(3);
    expect(Array.from(c.w.dataSync())).toEqual(wa);
    const strip = (h: typeof full.state.history) => h.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(resumed.state.history)).toEqual(strip(full.state.history));
    expect(resumed.state.samples).toBe(full.state.samples);
    c.dispose();
  });
});

describe('training checkpoints', () => {
  it('are never written with a non-finite value, and the file on disk stays the last good one', () => {
    const dir = path.join(root, 'ck');
    const file = path.join(dir, 'checkpoint.safetensors');
    const state = {
      key: {},
      step: 1,
      history: [],
      seconds: 0,
      trainSeconds: 0,
      samples: 0,
      partial: null,
      guard: { reference: null, recent: [] },
    };
    writeCheckpoint(file, state, { w: { shape: [2], data: Float32Array.of(1, 2) } }, {});
    const before = snapshot(dir);
    const err = (() => {
      try {
        writeCheckpoint(
          file,
          { ...state, step: 2 },
          { w: { shape: [2], data: Float32Array.of(1, Number.NaN) } },
          {},
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err!.message).toMatch(
      /^refusing to checkpoint non-finite values \(in w\); .* keeps the last finite state$/,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuse to load one holding NaN (typed, naming the file)', () => {
    const file = path.join(root, 'nan.safetensors');
    saveSafetensors(
      file,
      { 'param.w': { shape: [1], data: Float32Array.of(Number.NaN) } },
      {
        format: 'qpeft-train-checkpoint',
        run: JSON.stringify({ key: {}, step: 1, history: [] }),
      },
    );
    expect(() => readCheckpoint(file)).toThrow(InputError);
    expect(() => readCheckpoint(file)).toThrow(
      /nan\.safetensors: w holds non-finite values; not resuming from it/,
    );
  });

  it('read the two formats written before the engine', () => {
    const file = path.join(root, 'legacy-pretrain.safetensors');
    saveSafetensors(
      file,
      {
        'model.a': { shape: [2], data: Float32Array.of(1, 2) },
        'optim.a.m': { shape: [2], data: Float32Array.of(0, 0) },
      },
      {
        format: 'qpeft-pretrain-checkpoint',
        run: JSON.stringify({
          key: { seed: 3 },
          step: 8,
          history: [
            { epoch: 0, steps: 0, trainLoss: null, evalLoss: 2.3, evalAccuracy: 0.1, seconds: 1 },
            { epoch: 1, steps: 8, trainLoss: 1.5, evalLoss: 1.2, evalAccuracy: 0.6, seconds: 2 },
          ],
        }),
      },
    );
    const p = readCheckpoint(file);
    expect(Object.keys(p.params)).toEqual(['a']);
    expect(Object.keys(p.optim)).toEqual(['a.m']);
    expect(p.history.map((h) => [h.epoch, h.step, h.evalMetric])).toEqual([
      [0, 0, 0.1],
      [1, 8, 0.6],
    ]);
    const f2 = path.join(root, 'legacy-finetune.safetensors');
    saveSafetensors(
      f2,
      { 'param.b': { shape: [1], data: Float32Array.of(3) } },
      {
        format: 'qpeft-finetune-checkpoint',
        run: JSON.stringify({
          key: { lr: 1 },
          step: 5,
          history: [],
          seconds: 4,
          trainSeconds: 3,
          samples: 40,
        }),
      },
    );
    const q = readCheckpoint(f2);
    expect([q.step, q.samples, q.partial, Object.keys(q.params)]).toEqual([5, 40, null, ['b']]);
  });

  it('compare the key of a resumed run field by field', () => {
    const dir = path.join(root, 'ck');
    const err = (() => {
      try {
        openCheckpoint({
          file: path.join(dir, 'checkpoint.safetensors'),
          dir,
          resume: true,
          key: { lr: 2 },
          what: 'x',
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toMatch(/different options: lr undefined \(now 2\)$/);
  });
});
