import { describe, InputError } from '../../errors.ts';
import { describeBackend, initBackend } from '../../tf/backend.ts';
import { pretrain } from '../../train/pretrain.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft pretrain --model vit|text --data DATA --epochs E --out DIR [--seed S] [--resume]
                      [--batch-size B] [--lr LR] [--weight-decay WD] [--warmup STEPS]
                      [--dim D] [--depth N] [--heads H] [--mlp-dim M] [--patch-size P] [--pooling cls|mean]
                      [--context T] [--limit N] [--eval-limit N] [--backend auto|tensorflow|wasm|cpu] [--threads N|auto|max] [--json]

Pretrain a base model on a source task and write it to DIR (config.json + model.safetensors, what
fine-tuning loads), with checkpoint.safetensors (model + optimizer, for --resume) and pretrain.json
(options and per-epoch metrics), all rewritten atomically after every epoch.

  --model vit    a small Vision Transformer, classifying images:   --data fashion-mnist | mnist
  --model text   a byte-level causal transformer, a language model: --data fortunes:CAT,CAT,…  (or fortunes:all)

Seeded (initial weights and data order; default --seed 0). A progress bar with the loss and ETA goes to
stderr. --resume continues from the last completed epoch (same options; --epochs may grow). A NaN or
infinite loss stops the run with a message (the last checkpoint stays). --limit / --eval-limit cap the
training examples (text: windows per epoch) and the evaluation examples, for quick runs.

Fashion-MNIST and fortunes come from Debian packages: bash scripts/setup-apt.sh installs them.`;

const MODEL_FLAGS = {
  dim: 'dim',
  depth: 'depth',
  heads: 'heads',
  'mlp-dim': 'mlpDim',
  'patch-size': 'patchSize',
  context: 'contextLength',
} as const;

function floatFlag(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || String(value).trim() === '')
    throw new InputError(`--${name} must be a number ≥ ${min}, got ${describe(value)}`);
  return n;
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain a base model (ViT on images, byte transformer on fortunes), resumable',
  help,
  async run(argv, io) {
    const { values } = parseFlags('pretrain', argv, {
      model: { type: 'string' },
      data: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'weight-decay': { type: 'string' },
      warmup: { type: 'string' },
      dim: { type: 'string' },
      depth: { type: 'string' },
      heads: { type: 'string' },
      'mlp-dim': { type: 'string' },
      'patch-size': { type: 'string' },
      pooling: { type: 'string' },
      context: { type: 'string' },
      limit: { type: 'string' },
      'eval-limit': { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const model = values.model;
    if (model !== 'vit' && model !== 'text')
      throw new InputError(`--model must be vit or text, got ${describe(model)}`);
    if (values.data === undefined)
      throw new InputError(
        'missing required flag --data (e.g. fashion-mnist, mnist, fortunes:science,wisdom)',
      );
    if (values.out === undefined) throw new InputError('missing required flag --out DIR');
    const modelConfig: Record<string, number | string> = {};
    for (const [flag, keyName] of Object.entries(MODEL_FLAGS)) {
      const v = values[flag as keyof typeof values];
      if (v === undefined) continue;
      if (model === 'vit' && flag === 'context')
        throw new InputError('--context applies to --model text only');
      if (model === 'text' && flag === 'patch-size')
        throw new InputError('--patch-size applies to --model vit only');
      modelConfig[keyName] = intFlag(flag, v, undefined, 1, 1 << 16);
    }
    if (values.pooling !== undefined) {
      if (model !== 'vit') throw new InputError('--pooling applies to --model vit only');
      modelConfig.pooling = values.pooling;
    }
    const backend = await initBackend(values.backend, { threads: values.threads });
    io.err(`backend: ${describeBackend()}`);
    const res = await pretrain({
      model,
      data: values.data,
      epochs: intFlag('epochs', values.epochs, undefined, 1, 10_000),
      seed: intFlag('seed', values.seed, 0, 0, 2 ** 31 - 1),
      out: values.out,
      resume: values.resume,
      batchSize:
        values['batch-size'] === undefined
          ? undefined
          : intFlag('batch-size', values['batch-size'], undefined, 1, 1 << 16),
      lr: floatFlag('lr', values.lr, Number.MIN_VALUE),
      weightDecay: floatFlag('weight-decay', values['weight-decay'], 0),
      warmupSteps: values.warmup === undefined ? undefined : intFlag('warmup', values.warmup, undefined, 0),
      modelConfig,
      trainLimit: values.limit === undefined ? undefined : intFlag('limit', values.limit, undefined, 1),
      evalLimit:
        values['eval-limit'] === undefined
          ? undefined
          : intFlag('eval-limit', values['eval-limit'], undefined, 1),
      log: (l) => io.err(l),
    });
    const last = res.history.at(-1)!;
    if (values.json) {
      io.out(JSON.stringify({ ...res, backend }));
      return 0;
    }
    const metric =
      last.evalAccuracy !== undefined
        ? `test accuracy ${(100 * last.evalAccuracy).toFixed(2)}%`
        : `validation ${last.evalBitsPerByte?.toFixed(3)} bits/byte`;
    io.out(
      `pretrained ${model} (${Number.isNaN(res.parameters) ? '' : `${res.parameters} parameters, `}epoch ${last.epoch}): ${metric}, loss ${last.evalLoss.toFixed(4)}`,
    );
    io.out(`written to ${res.out} (config.json, model.safetensors, checkpoint.safetensors, pretrain.json)`);
    return 0;
  },
};
