import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFashionMnist } from '../../src/data/fashion-mnist.ts';
import {
  EXPERIMENTS,
  getExperiment,
  MissingDependencyError,
  mobilenetAvailable,
  runExperiment,
} from '../../src/experiments/experiment.ts';
import { methodLabel } from '../../src/experiments/methods.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { HAVE_FORTUNES, QUIET, saveTiny, tempDir } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let vit: string;
let text: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = tempDir('qpeft-exp-');
  vit = saveTiny('vit', path.join(tmp.dir, 'vit'));
  text = saveTiny('text', path.join(tmp.dir, 'text'));
});
afterAll(() => tmp.cleanup());

/** Run an experiment at smoke size on a tiny base and check what it wrote. */
async function smoke(name: string, base?: string) {
  const out = path.join(tmp.dir, name);
  const before = tf.memory().numTensors;
  const report = await runExperiment({ name, size: 'smoke', out, base, ...QUIET });
  expect(tf.memory().numTensors).toBe(before);
  const def = getExperiment(name);
  expect(report.rows.map((r) => r.label)).toEqual(def.methods.map(methodLabel));
  for (const run of report.runs) expect(run.trainableParams, run.label).toBe(run.closedFormParams);
  const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  expect(json.rows.length).toBe(def.methods.length);
  const md = readFileSync(path.join(out, 'table.md'), 'utf8');
  for (const r of report.rows)
    expect(md).toContain(`| ${r.label} | ${r.trainableParams.toLocaleString('en-US')} |`);
  expect(readFileSync(path.join(out, 'plot.svg'), 'utf8')).toMatch(/<svg[\s\S]*trainable parameters/);
  expect(existsSync(path.join(out, 'plot.png'))).toBe(true);
  return { out, report };
}

describe('experiments at smoke size', () => {
  it('1 vision: every method, a table, a plot; a rerun reuses finished runs', async () => {
    const { out, report } = await smoke('vision', vit);
    const lines: string[] = [];
    const t0 = performance.now();
    const again = await runExperiment({
      name: 'vision',
      size: 'smoke',
      out,
      base: vit,
      progress: null,
      log: (l) => lines.push(l),
    });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(lines.filter((l) => l.includes('already done')).length).toBe(report.runs.length);
    expect(again.rows.map((r) => r.mean)).toEqual(report.rows.map((r) => r.mean));
    // a run directory made with other settings is not silently reused
    await expect(
      runExperiment({
        name: 'vision',
        size: 'small',
        out,
        runsDir: path.join(out, 'runs'),
        base: vit,
        ...QUIET,
      }),
    ).rejects.toThrow(/was made with other settings \(epochs 1, now 3; .*trainLimit 48, now 2000/);
    // LoRA's adapter grows linearly in K: 2 targets × K × (16 + 16) on the tiny ViT
    for (const k of [1, 2, 4])
      expect(report.rows.find((r) => r.label === `LoRA K=${k}`)!.adapterParams).toBe(2 * k * 32);
  }, 30_000);

  it.skipIf(!HAVE_FORTUNES)(
    "2 text-gen: bits per byte with the base model's score in the notes",
    async () => {
      const { report } = await smoke('text-gen', text);
      expect(report.metric.name).toBe('bitsPerByte');
      expect(report.notes.join(' ')).toMatch(/Before fine-tuning, the base model scores \d/);
    },
    30_000,
  );

  it.skipIf(!HAVE_FORTUNES)(
    '3 classify: all baselines',
    async () => {
      const { report } = await smoke('classify', text);
      expect(report.rows.map((r) => r.method)).toEqual([
        'full',
        'linear-probe',
        'bitfit',
        'houlsby',
        'pfeiffer',
        'lora',
        'adalora',
        'quantum-peft',
      ]);
    },
    30_000,
  );

  it.skipIf(mobilenetAvailable())('4 mobilenet: a typed error naming the missing package', async () => {
    const err = await runExperiment({
      name: 'mobilenet',
      size: 'smoke',
      out: path.join(tmp.dir, 'mn'),
      ...QUIET,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect(err.dependency).toBe('nsfwjs');
    expect(err.message).toMatch(/nsfwjs.*not installed/);
  });

  it.skipIf(!mobilenetAvailable() || !hasFashionMnist())(
    '4 mobilenet: nsfwjs MobileNetV2 → Fashion-MNIST, adapters in the 34 pointwise convs, trained end to end',
    async () => {
      const out = path.join(tmp.dir, 'mobilenet');
      const before = tf.memory().numTensors;
      const report = await runExperiment({
        name: 'mobilenet',
        size: 'smoke',
        out,
        only: ['linear probe', 'lora k=1', 'quantum-peft k=4 l=1', 'bitfit'],
        ...QUIET,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(report.base).toBe('nsfwjs@4.4.0 MobileNetV2');
      expect(report.rows.map((r) => r.label)).toEqual([
        'linear probe',
        'BitFit',
        'LoRA K=1',
        'Quantum-PEFT K=4 L=1',
      ]);
      for (const run of report.runs) expect(run.trainableParams, run.label).toBe(run.closedFormParams);
      // MobileNetV2's pointwise convs (C_in, C_out), written out from the architecture: the block-0 project,
      // expand + project of blocks 1–16, and Conv_1.
      const pw: [number, number][] = [[32, 16]];
      const blocks: [number, number, number][] = [
        [16, 96, 24],
        [24, 144, 24],
        [24, 144, 32],
        [32, 192, 32],
        [32, 192, 32],
        [32, 192, 64],
        [64, 384, 64],
        [64, 384, 64],
        [64, 384, 64],
        [64, 384, 96],
        [96, 576, 96],
        [96, 576, 96],
        [96, 576, 160],
        [160, 960, 160],
        [160, 960, 160],
        [160, 960, 320],
      ];
      for (const [i, e, o] of blocks) pw.push([i, e], [e, o]);
      pw.push([320, 1280]);
      const head = 1280 * 10 + 10;
      const [probe, bitfit, lora1, quantum] = report.rows;
      expect(probe!.trainableParams).toBe(head);
      expect(bitfit!.adapterParams).toBe(pw.reduce((s, [, o]) => s + o, 0));
      expect(lora1!.adapterParams).toBe(pw.reduce((s, [i, o]) => s + i + o, 0));
      expect(lora1!.trainableParams).toBe(lora1!.adapterParams + head);
      // Quantum-PEFT K=4 L=1 with mixed-radix factors at the widths that are not powers of two (docs/method.md
      // §3): d = 2^n → the two-design's n + 2L(n − 1); d = m·2^a (m odd) → a + (m − 1) + L(2a − 2 + m)
      const factor = (d: number, L: number) => {
        let m = d;
        let a = 0;
        while (m % 2 === 0) [m, a] = [m / 2, a + 1];
        return m === 1 ? a + 2 * L * (a - 1) : a + (m - 1) + L * (2 * a - 2 + m);
      };
      expect(quantum!.adapterParams).toBe(pw.reduce((s, [i, o]) => s + factor(i, 1) + factor(o, 1) + 4, 0));
      expect(quantum!.adapterParams).toBeLessThan(lora1!.adapterParams / 3);
      for (const r of report.rows) expect(r.peakBytes).toBeGreaterThan(0);
      expect(readFileSync(path.join(out, 'table.md'), 'utf8')).toContain('peak memory / step');
      await expect(
        runExperiment({ name: 'mobilenet', size: 'smoke', out: tmp.dir, base: vit, ...QUIET }),
      ).rejects.toThrow(/takes no --base/);
    },
    // each run loads the model; the adapted runs train end to end through the backbone
    300_000,
  );

  it('rejects unknown experiments, sizes and held-out categories seen in pretraining', async () => {
    await expect(runExperiment({ name: 'cifar', size: 'smoke', out: tmp.dir, ...QUIET })).rejects.toThrow(
      /unknown experiment "cifar"; expected one of vision/,
    );
    await expect(
      runExperiment({ name: 'vision', size: 'huge' as never, out: tmp.dir, base: vit, ...QUIET }),
    ).rejects.toThrow(/--size must be one of smoke, small, full/);
    expect(EXPERIMENTS.map((e) => e.name)).toEqual(['vision', 'text-gen', 'classify', 'mobilenet']);
    // the tables report mean ± std: at least three seeds at every size but smoke
    for (const e of EXPERIMENTS) {
      for (const size of ['small', 'full'] as const)
        expect(e.sizes[size].seeds.length, `${e.name} ${size}`).toBeGreaterThanOrEqual(3);
    }
  });
});
