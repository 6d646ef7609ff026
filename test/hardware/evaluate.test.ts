/**
 * `qpeft hardware evaluate` on the smallest run that still learns something: a 12-wide ViT (one block; its
 * query/value factors are 12-wide direct sums, finetune's default form, each planned as one circuit on 4
 * qubits), fine-tuned on 512 MNIST images for a few seconds, evaluated on 64. References that do not come from `evaluate` itself:
 * - the trained adapter's row equals the metric `finetune` measured at the end of training (result.json);
 * - noiseless counts at 1e5 shots rebuild the factors (fidelity ≈ 1), and the metric moves by at most one
 *   of the 64 images from the trained adapter's;
 * - readout flips with probability 1/2 make every histogram uniform whatever was prepared, so the rebuilt
 *   frames carry no information about P: their fidelity ‖P̂ᵀP‖²/K is that of a frame independent of P,
 *   whose mean is K/d (closed form), and the metric falls below the trained adapter's.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluateRow } from '../../src/experiments/hardware-eval.ts';
import { createModel, saveModel } from '../../src/models/checkpoint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { cli } from '../qasm/helpers.ts';
import { cleanup, tmp } from './helpers.ts';

const K = 4;
const D = 12;
const EVAL = 64;
let runDir: string;
let trained: number;

beforeAll(async () => {
  await initBackend('wasm');
  const dir = tmp();
  const model = createModel('vit', { dim: D, depth: 1, heads: 2, mlpDim: 24, patchSize: 7, seed: 3 });
  saveModel(path.join(dir, 'vit12'), model);
  model.dispose();
  runDir = path.join(dir, 'run');
  const r = await cli(
    'finetune',
    '--model',
    path.join(dir, 'vit12'),
    '--data',
    'mnist',
    '--method',
    'quantum-peft',
    '--rank',
    String(K),
    '--layers',
    '1',
    '--targets',
    'query,value',
    '--epochs',
    '4',
    '--limit',
    '512',
    '--eval-limit',
    String(EVAL),
    '--lr',
    '0.02',
    '--seed',
    '1',
    '--out',
    runDir,
    '--backend',
    'wasm',
  );
  expect(r.code, r.err).toBe(0);
  trained = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')).value;
}, 180_000);
afterAll(cleanup);

function rowsOf(out: string): EvaluateRow[] {
  return JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).rows;
}

/** `qpeft hardware evaluate` of the trained run with `--noise none` plus `extra`, in this thread; its --out folder. */
async function evaluate(name: string, shots: string, seeds: number, ...extra: string[]): Promise<string> {
  const out = path.join(path.dirname(runDir), name);
  const r = await cli(
    'hardware',
    'evaluate',
    '--run',
    runDir,
    '--shots',
    shots,
    '--noise',
    'none',
    ...extra,
    '--seeds',
    String(seeds),
    '--workers',
    '0',
    '--backend',
    'wasm',
    '--out',
    out,
  );
  expect(r.code, r.err).toBe(0);
  return out;
}

describe('qpeft hardware evaluate', () => {
  it('trained adapter = finetune’s own metric; noiseless 1e5 shots rebuild it (within one image)', async () => {
    const out = await evaluate('noiseless', '1e5', 2);
    for (const f of ['results.json', 'results.md', 'plot.svg', 'plot.png'])
      expect(existsSync(path.join(out, f))).toBe(true);
    const [exact, noiseless] = rowsOf(out);
    expect(exact!.shots).toBeNull();
    expect(exact!.mean).toBe(trained);
    // the adapter must matter for the checks below to mean anything: well above chance (10 %)
    expect(trained).toBeGreaterThan(0.2);
    expect(noiseless!.shots).toBe(1e5);
    expect(noiseless!.values).toHaveLength(2);
    expect(noiseless!.fidelity!).toBeGreaterThan(0.999);
    expect(noiseless!.deltaWError!).toBeLessThan(0.05);
    for (const v of noiseless!.values) expect(Math.abs(v - trained)).toBeLessThanOrEqual(1 / EVAL + 1e-12);
    // 2 layers × (P, Q) × K columns × (n + 1 = 5) settings
    expect(noiseless!.circuits).toBe(2 * 2 * K * 5);
    expect(readFileSync(path.join(out, 'results.md'), 'utf8')).toContain('| noiseless | 100000 |');
  }, 180_000);

  it('zero-information counts (readout flips with probability 1/2): fidelity ≈ K/d, and the metric degrades', async () => {
    const out = await evaluate('blind', '1e3', 3, '--readout', '0.5');
    const blind = rowsOf(out)[1]!;
    expect(blind.noise).toBe('none, readout 0.5');
    // mean over 4 factors × 3 seeds of a frame independent of P: E = K/d = 1/3, spread ≈ 0.1 per factor
    expect(Math.abs(blind.fidelity! - K / D)).toBeLessThan(0.1);
    expect(blind.deltaWError!).toBeGreaterThan(0.8);
    expect(blind.mean).toBeLessThan(trained - 2 / EVAL);
  }, 180_000);
});
