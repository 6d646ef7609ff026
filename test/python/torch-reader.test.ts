import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PYTHON = '/usr/bin/python3';

/** Why the PyTorch tests cannot run here, or null when /usr/bin/python3 imports torch and numpy. */
function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not available (${r.error.message})`;
  if (r.status !== 0)
    return `${PYTHON} cannot import torch/numpy (install python3-torch: bash scripts/setup-apt.sh)`;
  return null;
}

const missing = torchMissing();
if (missing) console.log(`skipping the PyTorch reader tests: ${missing}`);

const maxAbsDiff = (x: number[], y: number[]) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));

describe.skipIf(missing !== null)(
  'python/qpeft_torch.py: fine-tune in TypeScript, evaluate in PyTorch',
  () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qpeft-torch-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let torchOut: { logits: Record<string, number[]>; direct_sum: { p: number[]; q: number[] } };
    let tfLogits: Record<string, number[]>;

    it('writes the adapters and tfjs logits, then evaluates them in PyTorch', () => {
      const fx = spawnSync(process.execPath, ['--import', 'tsx', 'test/python/torch-fixture.ts', dir], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(fx.status, fx.stderr.slice(-2000)).toBe(0);
      const py = spawnSync(PYTHON, ['test/python/torch_logits.py', ROOT, dir], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
        maxBuffer: 64 * 2 ** 20,
      });
      expect(py.status, py.stderr.slice(-2000)).toBe(0);
      torchOut = JSON.parse(py.stdout);
      tfLogits = JSON.parse(readFileSync(path.join(dir, 'logits.json'), 'utf8'));
    }, 480_000);

    it.each(['quantum-peft', 'quantum-peft-alt', 'quantum-peft-lie'])(
      '%s: torch logits equal tfjs logits (native folder, wrapped and merged, and its LoRA export)',
      (label) => {
        const tf = tfLogits[label]!;
        for (const mode of ['adapter/wrap', 'adapter/merge', 'adapter-lora/wrap', 'adapter-lora/merge']) {
          expect(maxAbsDiff(torchOut.logits[`${label}/${mode}`]!, tf), mode).toBeLessThan(1e-4);
        }
        // the adapter matters: without it (same head) the logits differ by far more than the tolerance
        expect(maxAbsDiff(torchOut.logits[`${label}/head-only`]!, tf)).toBeGreaterThan(1e-2);
      },
    );

    it('LoRA (native folder, now in PEFT schema, and the export): torch logits equal tfjs logits', () => {
      const tf = tfLogits.lora!;
      expect(maxAbsDiff(torchOut.logits['lora/adapter/wrap']!, tf)).toBeLessThan(1e-4);
      expect(maxAbsDiff(torchOut.logits['lora/adapter/merge']!, tf)).toBeLessThan(1e-4);
      expect(maxAbsDiff(torchOut.logits['lora/adapter-lora/wrap']!, tf)).toBeLessThan(1e-4);
      expect(maxAbsDiff(torchOut.logits['lora/adapter-lora/merge']!, tf)).toBeLessThan(1e-4);
      expect(maxAbsDiff(torchOut.logits['lora/head-only']!, tf)).toBeGreaterThan(1e-2);
    });
  },
);
