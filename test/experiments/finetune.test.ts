import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, InputError, TrainingDivergedError } from '../../src/errors.ts';
import { finetune } from '../../src/experiments/finetune.ts';
import { loadSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/checkpoint.ts';
import { loadPeftModel } from '../../src/peft/serialize.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createTask, parseTaskSpec } from '../../src/train/tasks.ts';
import { HAVE_FORTUNES, QUIET, saveTiny, tempDir } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let vit: string;
let text: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = tempDir();
  vit = saveTiny('vit', path.join(tmp.dir, 'vit'));
  text = saveTiny('text', path.join(tmp.dir, 'text'));
});
afterAll(() => tmp.cleanup());

const small = { trainLimit: 128, evalLimit: 128, batchSize: 32, ...QUIET } as const;

describe('finetune on real data', () => {
  it('lowers the held-out loss on MNIST (LoRA on a tiny ViT)', async () => {
    const r = await finetune({
      base: vit,
      data: 'mnist',
      method: { method: 'lora', rank: 2 },
      epochs: 2,
      lr: 2e-2,
      evalInitial: true,
      ...small,
      trainLimit: 512,
    });
    const before = r.history[0]!;
    const after = r.history.at(-1)!;
    expect(before.epoch).toBe(0);
    expect(after.evalLoss).toBeLessThan(before.evalLoss - 0.2);
    expect(after.evalMetric).toBeGreaterThan(0.18); // 10 classes: chance is 0.1
    expect(r.steps).toBe(32);
  });

  it.skipIf(!HAVE_FORTUNES)(
    'lowers bits per byte on held-out fortunes (Quantum-PEFT on a tiny text model)',
    async () => {
      const r = await finetune({
        base: text,
        data: 'fortunes:science,love',
        method: { method: 'quantum-peft', rank: 4, layers: 1 },
        epochs: 1,
        lr: 2e-2,
        evalInitial: true,
        trainLimit: 192,
        evalLimit: 32,
        batchSize: 16,
        ...QUIET,
      });
      expect(r.metric.name).toBe('bitsPerByte');
      expect(r.value).toBeLessThan(r.history[0]!.evalMetric);
      // a random byte model is at 8 bits per byte
      expect(r.history[0]!.evalMetric).toBeGreaterThan(7);
    },
  );

  it('counts exactly the closed-form trainable parameters', async () => {
    // tiny ViT: dim 16, one block; targets query and value (two 16×16 layers); head 16×10 + 10
    const head = 16 * 10 + 10;
    const base = { base: vit, data: 'mnist', epochs: 1, maxSteps: 1, ...small };
    const lora = await finetune({ ...base, method: { method: 'lora', rank: 3 } });
    expect(lora.adapterParams).toBe(2 * 3 * (16 + 16));
    expect(lora.trainableParams).toBe(2 * 3 * (16 + 16) + head);
    // Quantum-PEFT, two-design on n = 4 qubits with L layers: n + 2L(n − 1) angles per factor, plus K
    const q = await finetune({ ...base, method: { method: 'quantum-peft', rank: 4, layers: 2 } });
    const perFactor = 4 + 2 * 2 * 3;
    expect(q.adapterParams).toBe(2 * (2 * perFactor + 4));
    expect(q.trainableParams).toBe(q.adapterParams + head);
    expect(q.closedFormParams).toBe(q.trainableParams);
    const probe = await finetune({ ...base, method: { method: 'linear-probe' } });
    expect(probe.trainableParams).toBe(head);
    const full = await finetune({ ...base, method: { method: 'full' } });
    const m = loadModel(vit);
    // the ViT's own count with its 10-class head (the saved base has 10 classes too)
    expect(full.trainableParams).toBe(m.countParameters().total);
    m.dispose();
  });

  it('resumes from the saved step and reaches the same weights as an uninterrupted run', async () => {
    const opts = {
      base: vit,
      data: 'mnist',
      method: { method: 'quantum-peft', rank: 2, layers: 1 },
      epochs: 2,
      lr: 1e-2,
      checkpointEvery: 3,
      ...small,
    };
    const a = await finetune({ ...opts, out: path.join(tmp.dir, 'resume-a') });
    const outB = path.join(tmp.dir, 'resume-b');
    await expect(
      finetune({
        ...opts,
        out: outB,
        onCheckpoint: (step) => {
          if (step === 3) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(existsSync(path.join(outB, 'result.json'))).toBe(false);
    const b = await finetune({ ...opts, out: outB, resume: true });
    expect(b.resumedFromStep).toBe(3);
    expect(b.steps).toBe(a.steps);
    const wa = loadSafetensors(
      path.join(tmp.dir, 'resume-a', 'adapter', 'adapter_model.safetensors'),
    ).tensors;
    const wb = loadSafetensors(path.join(outB, 'adapter', 'adapter_model.safetensors')).tensors;
    for (const [k, t] of Object.entries(wa)) {
      const u = wb[k]!;
      let d = 0;
      for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - u.data[i]!));
      expect(d, k).toBeLessThan(1e-5);
    }
    expect(b.evalLoss).toBeCloseTo(a.evalLoss, 4);
    // resuming a finished run with more epochs continues from its last step
    const c = await finetune({ ...opts, epochs: 3, out: outB, resume: true });
    expect(c.resumedFromStep).toBe(a.steps);
    expect(c.steps).toBe(a.steps + 4);
  });

  it('a resume with nothing left to do returns the real run’s record and rewrites nothing', async () => {
    const out = path.join(tmp.dir, 'noop');
    const opts = {
      base: vit,
      data: 'mnist',
      method: { method: 'lora', rank: 1 },
      epochs: 1,
      maxSteps: 2,
      out,
      ...small,
    };
    const first = await finetune(opts);
    const files = (readdirSync(out, { recursive: true }) as string[]).sort();
    const bytes = files.map((f) => {
      try {
        return readFileSync(path.join(out, f)).toString('base64');
      } catch {
        return 'dir';
      }
    });
    const again = await finetune({ ...opts, resume: true });
    expect(again.resumedFromStep).toBe(first.resumedFromStep);
    expect(again.history).toEqual(JSON.parse(JSON.stringify(first.history)));
    expect((readdirSync(out, { recursive: true }) as string[]).sort()).toEqual(files);
    files.forEach((f, i) => {
      let now = 'dir';
      try {
        now = readFileSync(path.join(out, f)).toString('base64');
      } catch {}
      expect(now, f).toBe(bytes[i]);
    });
  });

  it('refuses to resume with different options, to resume without a checkpoint, and to overwrite one', async () => {
    const out = path.join(tmp.dir, 'guard');
    const opts = {
      base: vit,
      data: 'mnist',
      method: { method: 'lora', rank: 1 },
      epochs: 1,
      maxSteps: 1,
      out,
      ...small,
    };
    await expect(finetune({ ...opts, resume: true })).rejects.toThrow(/no checkpoint/);
    await finetune(opts);
    await expect(finetune(opts)).rejects.toThrow(/already holds a fine-tuning checkpoint/);
    await expect(finetune({ ...opts, lr: 0.5, resume: true })).rejects.toThrow(
      /different options: lr 0.005 \(now 0.5\)/,
    );
  });

  it('stops with a clear message on a non-finite loss and keeps the last finite checkpoint', async () => {
    const out = path.join(tmp.dir, 'nan');
    const err = await finetune({
      base: vit,
      data: 'mnist',
      method: { method: 'full' },
      epochs: 1,
      lr: 1e30,
      checkpointEvery: 1,
      out,
      ...small,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.message).toMatch(/(loss|gradient norm) is (NaN|-?Infinity) at step \d+ \(epoch 1, batch \d+/);
    expect(err.message).toMatch(/lower --lr/);
    const step = Number(/at step (\d+)/.exec(err.message)![1]);
    expect(step).toBeGreaterThan(1);
    const ck = loadSafetensors(path.join(out, 'checkpoint.safetensors'));
    expect(JSON.parse(ck.metadata.run!).step).toBe(step - 1);
  });

  it('does not leak tensors across runs', async () => {
    const opts = {
      base: vit,
      data: 'mnist',
      method: { method: 'quantum-peft', rank: 2, layers: 1 },
      epochs: 1,
      maxSteps: 3,
      ...small,
    };
    await finetune(opts);
    const before = tf.memory().numTensors;
    await finetune(opts);
    await finetune({ ...opts, method: { method: 'adalora', rank: 3 } });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes an adapter that reloads to the same held-out accuracy, with QASM circuits', async () => {
    const out = path.join(tmp.dir, 'artifacts');
    const r = await finetune({
      base: vit,
      data: 'mnist',
      method: { method: 'quantum-peft', rank: 2, layers: 1 },
      epochs: 1,
      lr: 1e-2,
      out,
      ...small,
    });
    expect(r.files).toEqual(
      expect.arrayContaining(['head.safetensors', 'adapter/', 'adapter-lora/', 'result.json']),
    );
    const qasm = readdirSync(path.join(out, 'adapter', 'circuits'));
    expect(qasm.length).toBe(4); // P and Q of query and value
    expect(readFileSync(path.join(out, 'adapter', 'circuits', qasm[0]!), 'utf8')).toMatch(/^OPENQASM 3/);
    // rebuild: base + new head (loaded) + adapter (loaded) → evaluate on the same test slice
    const model = loadModel(vit);
    const task = createTask(model, parseTaskSpec('mnist'), 0, { trainLimit: 1, evalLimit: small.evalLimit });
    model.loadStateDict(loadSafetensors(path.join(out, 'head.safetensors')).tensors, false);
    const peft = loadPeftModel(model, path.join(out, 'adapter'));
    const ev = task.evaluate();
    expect(ev.metric).toBeCloseTo(r.value, 6);
    expect(ev.loss).toBeCloseTo(r.evalLoss, 4);
    peft.unload().dispose();
  });

  it('rejects bad input with typed errors', async () => {
    const base = { base: vit, data: 'mnist', epochs: 1, ...small };
    await expect(finetune({ ...base, method: { method: 'lorra' } })).rejects.toThrow(InputError);
    await expect(finetune({ ...base, method: { method: 'lorra' } })).rejects.toThrow(
      /unknown method "lorra"; expected one of linear-probe, full, quantum-peft/,
    );
    await expect(finetune({ ...base, method: { method: 'lora', rank: 0 } })).rejects.toThrow(
      /rank must be an integer ≥ 1, got 0/,
    );
    await expect(finetune({ ...base, method: { method: 'lora', targets: ['nosuch'] } })).rejects.toThrow(
      AdapterError,
    );
    await expect(finetune({ ...base, data: 'fortunes:science', method: { method: 'lora' } })).rejects.toThrow(
      /needs a text base model, got a vit model/,
    );
    await expect(finetune({ ...base, data: 'cifar', method: { method: 'lora' } })).rejects.toThrow(
      /unknown data "cifar"/,
    );
    await expect(finetune({ ...base, epochs: 0, method: { method: 'lora' } })).rejects.toThrow(
      /epochs must be an integer ≥ 1, got 0/,
    );
    await expect(finetune({ ...base, method: { method: 'lora', targets: ['head'] } })).rejects.toThrow(
      /include the task head/,
    );
  });
});
