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
    '4 mobilenet: nsfwjs MobileNetV2 → Fashion-MNIST, linear probe, LoRA and Quantum-PEFT on its dense layers',
    async () => {
      const { report } = await smoke('mobilenet');
      expect(report.base).toBe('nsfwjs@4.4.0 MobileNetV2');
      expect(report.rows.map((r) => r.method)).toEqual([
        'full',
        'linear-probe',
        'linear-probe',
        'lora',
        'lora',
        'quantum-peft',
        'quantum-peft',
      ]);
      // new head 128 → 10; LoRA on dense1 (1280×256) and dense2 (256×128): K × (1280 + 256 + 256 + 128)
      const [full, probe, backboneProbe, lora1, lora4, ...quantum] = report.rows;
      expect(full!.trainableParams).toBe(1280 * 256 + 256 + 256 * 128 + 128 + 1290);
      expect(probe!.trainableParams).toBe(1290);
      expect(backboneProbe!.trainableParams).toBe(12_810);
      expect(lora1!.adapterParams).toBe(1920);
      expect(lora4!.adapterParams).toBe(4 * 1920);
      for (const r of quantum) expect(r.adapterParams).toBeLessThan(1920);
      await expect(
        runExperiment({ name: 'mobilenet', size: 'smoke', out: tmp.dir, base: vit, ...QUIET }),
      ).rejects.toThrow(/takes no --base/);
    },
    // loading the model and extracting features takes 10–40 s on a shared machine
    120_000,
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
