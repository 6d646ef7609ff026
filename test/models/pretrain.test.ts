/**
 * A tiny pretraining run on real MNIST digits: the loss falls, files are written, tensors are not leaked,
 * an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one, and a
 * diverging run stops with a typed error. Text pretraining runs when the fortunes are installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { hasFortunes } from '../../src/data/fortunes.ts';
import { DATA_SOURCES } from '../../src/data/paths.ts';
import { TrainingDivergedError } from '../../src/errors.ts';
import { loadSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/checkpoint.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { pretrain } from '../../src/train/pretrain.ts';
import { missing } from '../data/helpers.ts';

const root = mkdtempSync(path.join(tmpdir(), 'qpeft-pretrain-'));
const quiet = { progress: null, log: () => {} } as const;
const tiny = { dim: 16, depth: 1, heads: 2, mlpDim: 32 };
const base = {
  model: 'vit',
  data: 'mnist',
  seed: 3,
  trainLimit: 256,
  evalLimit: 128,
  batchSize: 32,
  modelConfig: tiny,
  ...quiet,
} as const;

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pretrain (ViT on MNIST)', () => {
  it('lowers the loss, writes the model files, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const out = path.join(root, 'a');
    const res = await pretrain({ ...base, epochs: 2, out });
    expect(tf.memory().numTensors).toBe(before);
    expect(res.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(res.history[2]!.evalLoss).toBeLessThan(res.history[0]!.evalLoss);
    expect(res.history[2]!.trainLoss).toBeLessThan(res.history[1]!.trainLoss);
    for (const f of ['config.json', 'model.safetensors', 'checkpoint.safetensors', 'pretrain.json'])
      expect(existsSync(path.join(out, f))).toBe(true);
    const run = JSON.parse(readFileSync(path.join(out, 'pretrain.json'), 'utf8'));
    expect(run).toMatchObject({
      model: 'vit',
      data: 'mnist',
      seed: 3,
      epochs: 2,
      parameters: res.parameters,
    });
    const m = loadModel(out);
    expect(m.countParameters().total).toBe(res.parameters);
    m.dispose();
  });

  it('resumes an interrupted run to the same weights as an uninterrupted one', async () => {
    const full = path.join(root, 'full');
    const cut = path.join(root, 'cut');
    await pretrain({ ...base, epochs: 2, out: full });
    await expect(
      pretrain({
        ...base,
        epochs: 2,
        out: cut,
        onEpoch: () => {
          throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(JSON.parse(readFileSync(path.join(cut, 'pretrain.json'), 'utf8')).history).toHaveLength(2);
    await expect(pretrain({ ...base, epochs: 2, out: cut })).rejects.toThrow(
      /already holds a pretraining checkpoint; pass --resume/,
    );
    await expect(pretrain({ ...base, seed: 4, epochs: 2, out: cut, resume: true })).rejects.toThrow(
      /different options: seed 3 \(now 4\)/,
    );
    const res = await pretrain({ ...base, epochs: 2, out: cut, resume: true });
    expect(res.resumedFrom).toBe(1);
    const a = loadSafetensors(path.join(full, 'model.safetensors')).tensors;
    const b = loadSafetensors(path.join(cut, 'model.safetensors')).tensors;
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k]!.data).toEqual(a[k]!.data);
    await expect(
      pretrain({ ...base, epochs: 2, out: path.join(root, 'none'), resume: true }),
    ).rejects.toThrow(/no checkpoint in/);
  });

  it('stops with a typed error when the loss stops being finite', async () => {
    const before = tf.memory().numTensors;
    const run = pretrain({ ...base, epochs: 1, lr: 1e12, warmupSteps: 0, out: path.join(root, 'nan') });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    await expect(
      pretrain({ ...base, epochs: 1, lr: 1e12, warmupSteps: 0, out: path.join(root, 'nan2') }),
    ).rejects.toThrow(
      /(loss is (NaN|-?Infinity)|update would make \S+ non-finite) at step \d+ \(epoch 1, batch \d+.*Try a lower --lr/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects mismatched model and data', async () => {
    await expect(pretrain({ ...base, model: 'text', epochs: 1, out: path.join(root, 'x') })).rejects.toThrow(
      /--model text needs fortunes:<categories>/,
    );
    await expect(pretrain({ ...base, data: 'cifar', epochs: 1, out: path.join(root, 'x') })).rejects.toThrow(
      /unknown data set "cifar"/,
    );
  });
});

describe('qpeft pretrain (CLI)', () => {
  it('runs, prints where it wrote, and reports bad flags in one line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const dir = path.join(root, 'cli');
    const code = await main(
      [
        'pretrain',
        '--model',
        'vit',
        '--data',
        'mnist',
        '--epochs',
        '1',
        '--limit',
        '64',
        '--eval-limit',
        '64',
        '--dim',
        '16',
        '--depth',
        '1',
        '--heads',
        '2',
        '--out',
        dir,
        '--backend',
        'wasm',
      ],
      io,
    );
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/pretrained vit \(\d+ parameters, epoch 1\): test accuracy [\d.]+%/);
    expect(err.join('\n')).toMatch(/epoch 1\/1/);
    expect(
      await main(['pretrain', '--model', 'rnn', '--data', 'mnist', '--epochs', '1', '--out', dir], io),
    ).toBe(2);
    expect(err.at(-1)).toMatch(/--model must be vit or text, got "rnn"/);
    expect(
      await main(['pretrain', '--model', 'vit', '--data', 'mnist', '--epochs', '0', '--out', dir], io),
    ).toBe(2);
    expect(err.at(-1)).toMatch(/--epochs must be an integer in 1..10000, got "0"/);
  });
});

const haveText = hasFortunes(['science']);
describe.skipIf(!haveText)(
  `pretrain (text on fortunes) ${haveText ? '' : missing('fortunes', DATA_SOURCES.fortunes.install)}`,
  () => {
    it('lowers the validation bits per byte', async () => {
      const res = await pretrain({
        model: 'text',
        data: 'fortunes:science',
        epochs: 2,
        seed: 1,
        out: path.join(root, 'text'),
        trainLimit: 64,
        evalLimit: 32,
        batchSize: 16,
        modelConfig: { dim: 32, depth: 1, heads: 2, mlpDim: 64, contextLength: 32 },
        ...quiet,
      });
      expect(res.history[0]!.evalBitsPerByte).toBeCloseTo(res.history[0]!.evalLoss / Math.LN2, 6);
      expect(res.history[2]!.evalBitsPerByte!).toBeLessThan(res.history[0]!.evalBitsPerByte!);
    });
  },
);
