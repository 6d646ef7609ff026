import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PYTHON = '/usr/bin/python3';

/**
 * Why the PyTorch tests cannot run here, or null when /usr/bin/python3 has torch and numpy installed. It
 * looks the packages up without importing them (importing torch takes ~2 s, and the test imports it anyway);
 * an installed torch that fails to import fails the test below with Python's error.
 */
function torchMissing(): string | null {
  const probe =
    "import importlib.util as u, sys; sys.exit(0 if u.find_spec('torch') and u.find_spec('numpy') else 1)";
  const r = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not available (${r.error.message})`;
  if (r.status !== 0)
    return `${PYTHON} has no torch/numpy (install python3-torch: bash scripts/setup-apt.sh)`;
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
    let torchOut: {
      logits: Record<string, number[]>;
      factors: { resolved: string; p: number[]; orthonormality: number }[];
      tiny: Record<string, { proj: number[]; out: number[] }>;
    };
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

    it('adapters that carry their head (modulesToSave inside the folder): torch logits equal tfjs logits', () => {
      for (const label of ['quantum-peft-mts', 'lora-mts']) {
        const tf = tfLogits[label]!;
        expect(torchOut.logits[`${label}/adapter/wrap`]!.length, label).toBe(tf.length);
        expect(maxAbsDiff(torchOut.logits[`${label}/adapter/wrap`]!, tf), label).toBeLessThan(1e-4);
        expect(maxAbsDiff(torchOut.logits[`${label}/adapter/merge`]!, tf), label).toBeLessThan(1e-4);
        // the head.safetensors beside the folder (a decoy) gives other logits: the folder's head was used
        expect(maxAbsDiff(torchOut.logits[`${label}/decoy-head`]!, tf), label).toBeGreaterThan(1e-1);
      }
      // LoRA with a head stays in qpeft's layout, under its own peft_type (PEFT refuses it)
      const cfg = JSON.parse(readFileSync(path.join(dir, 'lora-mts/adapter/adapter_config.json'), 'utf8'));
      expect([cfg.peft_type, cfg.modules_to_save[0].name]).toEqual(['QPEFT_LORA', 'head']);
    });

    it('factors of widths that are not powers of two (mixed radix, direct sums): the reader rebuilds qpeft’s P', () => {
      const cases = JSON.parse(readFileSync(path.join(dir, 'factors.json'), 'utf8')) as {
        dim: number;
        k: number;
        form: string;
        resolved: string;
        p: number[];
      }[];
      expect(torchOut.factors).toHaveLength(cases.length);
      // both forms occur, and `auto` resolves the same way on both sides
      expect(new Set(cases.map((c) => c.resolved))).toEqual(new Set(['mixed-radix', 'direct-sum']));
      cases.forEach((c, i) => {
        const r = torchOut.factors[i]!;
        const what = `${c.dim} ${c.form} K=${c.k}`;
        expect(r.resolved, what).toBe(c.resolved);
        expect(r.p, what).toHaveLength(c.dim * c.k);
        expect(maxAbsDiff(r.p, c.p), what).toBeLessThan(1e-9);
        expect(r.orthonormality, what).toBeLessThan(1e-9);
      });
    });

    it('adapters on Linears 24 → 40 → 12 (mixed radix and direct sum): torch outputs equal tfjs outputs', () => {
      const tiny = JSON.parse(readFileSync(path.join(dir, 'tiny.json'), 'utf8'));
      const x: number[] = tiny.x;
      for (const form of ['auto', 'direct-sum']) {
        const ref = tiny[form];
        // the plain layer's output, written out here: the adapter must change it
        const w: number[] = ref.base.proj.weight;
        const b: number[] = ref.base.proj.bias;
        const plain = Array.from({ length: 5 * 40 }, (_, i) => {
          const [r, c] = [Math.floor(i / 40), i % 40];
          let acc = b[c]!;
          for (let j = 0; j < 24; j++) acc += x[r * 24 + j]! * w[j * 40 + c]!;
          return acc;
        });
        expect(maxAbsDiff(ref.proj, plain), form).toBeGreaterThan(1e-2);
        for (const mode of ['wrap', 'merge']) {
          const t = torchOut.tiny[`${form}/${mode}`]!;
          expect(maxAbsDiff(t.proj, ref.proj), `${form} ${mode}`).toBeLessThan(1e-5);
          expect(maxAbsDiff(t.out, ref.out), `${form} ${mode}`).toBeLessThan(1e-5);
        }
      }
    });
  },
);
