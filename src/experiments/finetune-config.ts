/**
 * The fine-tuning configuration file (`qpeft finetune --config FILE`, or a notebook): JSON with the CLI's
 * fields in camelCase. Reading is strict: an unknown key is an error that names it, suggests the meant key
 * (a near miss, or Hugging Face's snake_case such as `lora_alpha`, `target_modules`) and lists the accepted
 * ones, so a typo never trains with a silent default.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, InputError } from '../errors.ts';
import { assertKnownKeys } from '../util/suggest.ts';
import { getExperiment, PACKAGE_ROOT, resolveBase } from './experiment.ts';
import { type FinetuneResult, finetune } from './finetune.ts';
import type { MethodSpec } from './methods.ts';

/** A fine-tuning configuration: what `qpeft finetune` takes as flags, and a --config file holds. */
export interface FinetuneConfig {
  /** A `qpeft pretrain` directory, or `vit` / `text` for the shipped checkpoints. */
  model?: string;
  data?: string;
  task?: string;
  method?: string;
  rank?: number;
  layers?: number;
  /** Module names matched as suffixes, or one regular expression. */
  targets?: string | string[];
  alpha?: number;
  epochs?: number;
  lr?: number;
  seed?: number;
  batchSize?: number;
  limit?: number;
  evalLimit?: number;
  maxSteps?: number;
  weightDecay?: number;
  checkpointEvery?: number;
  out?: string;
  resume?: boolean;
  backend?: string;
  /** Threads of the wasm backend (`--threads`): a count 1…8 (tf/backend.ts). */
  threads?: number;
  /** Passed to the adapter config as is (the method's own keys). */
  options?: Record<string, unknown>;
}

type FieldType = 'string' | 'number' | 'boolean' | 'targets' | 'object';

/** The fields of a configuration file, and their JSON types. */
export const FINETUNE_CONFIG_FIELDS: Readonly<Record<keyof FinetuneConfig, FieldType>> = {
  model: 'string',
  data: 'string',
  task: 'string',
  method: 'string',
  rank: 'number',
  layers: 'number',
  targets: 'targets',
  alpha: 'number',
  epochs: 'number',
  lr: 'number',
  seed: 'number',
  batchSize: 'number',
  limit: 'number',
  evalLimit: 'number',
  maxSteps: 'number',
  weightDecay: 'number',
  checkpointEvery: 'number',
  out: 'string',
  resume: 'boolean',
  backend: 'string',
  threads: 'number',
  options: 'object',
};

/** Spellings from Hugging Face PEFT / Transformers and common variants that mean one of our fields. */
const ALIASES: Readonly<Record<string, keyof FinetuneConfig>> = {
  r: 'rank',
  lora_r: 'rank',
  lora_alpha: 'alpha',
  target_modules: 'targets',
  num_layers: 'layers',
  learning_rate: 'lr',
  num_epochs: 'epochs',
  num_train_epochs: 'epochs',
  per_device_train_batch_size: 'batchSize',
  train_batch_size: 'batchSize',
  output_dir: 'out',
  base_model: 'model',
  base_model_name_or_path: 'model',
  dataset: 'data',
  peft_type: 'method',
  max_steps: 'maxSteps',
  save_steps: 'checkpointEvery',
  resume_from_checkpoint: 'resume',
};

const REQUIRED = ['model', 'data', 'method', 'epochs', 'out'] as const;

/**
 * Check a parsed configuration object (`where` names it in messages, e.g. the file): every key known, every
 * value of its field's type. Returns it typed.
 */
export function checkFinetuneConfig(raw: unknown, where = 'finetune config'): FinetuneConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputError(`${where}: expected a JSON object, got ${describe(raw)}`);
  const fields = Object.keys(FINETUNE_CONFIG_FIELDS);
  assertKnownKeys(raw, fields, where, ALIASES);
  for (const [k, v] of Object.entries(raw)) {
    const type = FINETUNE_CONFIG_FIELDS[k as keyof FinetuneConfig];
    const ok =
      type === 'targets'
        ? typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))
        : type === 'object'
          ? typeof v === 'object' && v !== null && !Array.isArray(v)
          : typeof v === type;
    if (!ok)
      throw new InputError(
        `${where}: ${k} must be ${type === 'targets' ? 'a list of module names or a regular expression string' : type === 'object' ? 'an object' : `a ${type}`}, got ${describe(v)}`,
      );
  }
  return raw as FinetuneConfig;
}

/** Read and check a configuration file (JSON). */
export function readFinetuneConfig(file: string): FinetuneConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `--config: cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--config: ${describe(file)} is not valid JSON (${(e as Error).message})`);
  }
  return checkFinetuneConfig(raw, `--config ${file}`);
}

/** `vit` / `text` → the shipped checkpoint; anything else must be a saved model directory. */
export function resolveModelDir(model: string): string {
  if (model === 'vit') return resolveBase(getExperiment('vision'));
  if (model === 'text') return resolveBase(getExperiment('text-gen'));
  if (!existsSync(path.join(model, 'config.json'))) {
    throw new InputError(
      `--model ${describe(model)} is not a saved model (no config.json there); give a directory written by 'qpeft pretrain' or vit / text (shipped in ${path.join(PACKAGE_ROOT, 'checkpoints')})`,
    );
  }
  return model;
}

// Values may come from CLI flags (strings) as well as from JSON (numbers): both are checked the same way.
function num(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || (typeof v === 'string' && v.trim() === '')) {
    throw new InputError(`--${name} must be a number ≥ ${min}, got ${describe(v)}`);
  }
  return n;
}

function int(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new InputError(`--${name} must be an integer in ${min}..∞, got ${describe(s)}`);
  return n;
}

/**
 * Fine-tune as a configuration says (after the caller started a backend): checks the required fields and
 * every value, resolves the model, and runs `finetune`. `fromFile` only words the missing-field message.
 * Values may be strings (CLI flags) or numbers.
 */
export async function finetuneFromConfig(
  config: FinetuneConfig | Record<string, unknown>,
  opts: { log?: (line: string) => void; fromFile?: boolean } = {},
): Promise<FinetuneResult> {
  const c = config as Record<string, unknown>;
  assertKnownKeys(c, Object.keys(FINETUNE_CONFIG_FIELDS), 'finetune config', ALIASES);
  for (const req of REQUIRED) {
    if (c[req] === undefined)
      throw new InputError(
        `missing required ${opts.fromFile ? `field ${req} (in --config or as --${req})` : `flag --${req}`}`,
      );
  }
  const targets = c.targets as string[] | string | undefined;
  const method: MethodSpec = {
    method: String(c.method),
    ...(c.rank !== undefined ? { rank: int('rank', c.rank, 1) } : {}),
    ...(c.layers !== undefined ? { layers: int('layers', c.layers, 0) } : {}),
    ...(targets !== undefined
      ? {
          targets:
            Array.isArray(targets) && targets.length === 1 && /[\\^$*+?()[\]{}|]/.test(targets[0]!)
              ? targets[0]!
              : targets,
        }
      : {}),
    ...(c.alpha !== undefined ? { alpha: num('alpha', c.alpha, Number.MIN_VALUE) } : {}),
    ...(c.options !== undefined ? { options: c.options as Record<string, unknown> } : {}),
  };
  return finetune({
    base: resolveModelDir(String(c.model)),
    data: String(c.data),
    task: c.task as string | undefined,
    method,
    epochs: int('epochs', c.epochs, 1)!,
    lr: num('lr', c.lr, Number.MIN_VALUE),
    seed: int('seed', c.seed, 0),
    batchSize: int('batch-size', c.batchSize, 1),
    trainLimit: int('limit', c.limit, 1),
    evalLimit: int('eval-limit', c.evalLimit, 1),
    maxSteps: int('max-steps', c.maxSteps, 1),
    weightDecay: num('weight-decay', c.weightDecay, 0),
    checkpointEvery: int('checkpoint-every', c.checkpointEvery, 1),
    out: String(c.out),
    resume: c.resume === true,
    log: opts.log,
  });
}
