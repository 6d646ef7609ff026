import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, InputError } from '../../errors.ts';
import { getExperiment, PACKAGE_ROOT, resolveBase } from '../../experiments/experiment.ts';
import { finetune, formatMetric } from '../../experiments/finetune.ts';
import { finetuneMethods, type MethodSpec } from '../../experiments/methods.ts';
import { initBackend } from '../../tf/backend.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft finetune --model DIR|vit|text --data DATA --method METHOD --epochs E --out DIR
                      [--rank K] [--layers L] [--targets NAME,NAME…] [--alpha A] [--lr LR] [--seed S]
                      [--batch-size B] [--task lm|classify] [--limit N] [--eval-limit N] [--max-steps N]
                      [--weight-decay WD] [--checkpoint-every N] [--resume] [--backend auto|tensorflow|wasm|cpu]
                      [--json]
       qpeft finetune --config FILE [flags that override the file]

Fine-tune a saved base model on real data with one method, and write into --out: checkpoint.safetensors
(every --checkpoint-every steps, default 100, and every epoch), result.json (trainable parameters, metric,
wall time, per-epoch history), the adapter (adapter/, Hugging Face PEFT layout; quantum methods also get
adapter/circuits/*.qasm, OpenQASM 3 with the trained angles), its LoRA-layout export (adapter-lora/), and
the trained head (head.safetensors; --method full writes the whole model to model/).

  --model   a directory written by 'qpeft pretrain' (config.json + model.safetensors), or vit / text for
            the shipped checkpoints
  --data    mnist | fashion-mnist (ViT), fortunes:CAT,CAT,… (text model as a language model; bits per byte)
            or fortunes-classify:CAT,CAT,… (which category; accuracy)
  --method  ${finetuneMethods().join(', ')}
            linear-probe trains the head only; full trains every parameter; adapters also train the head
  --rank    LoRA r / Quantum-PEFT K / AdaLoRA initR;  --layers  circuit layers L (quantum-peft)
  --targets module names matched as suffixes (default query,value; houlsby output,fc2; pfeiffer fc2;
            bitfit every block projection), or one regular expression
  --alpha   LoRA lora_alpha / Quantum-PEFT α (default 32 for quantum-peft, see METHOD.md §1)

Seeded (head and adapter initial values, batch order; default --seed 0). A progress bar with the loss,
training accuracy and ETA goes to stderr. A NaN or infinite loss stops the run with a message; --resume
continues an interrupted run from its last checkpoint (same options).

A --config FILE is JSON with the same fields in camelCase: {"model": "vit", "data": "mnist", "method":
"quantum-peft", "rank": 16, "layers": 4, "epochs": 2, "lr": 0.005, "out": "out/run", "options": {…}}
("options" goes to the adapter config as is).`;

/** The fields a --config file may hold, and their types. */
const CONFIG_FIELDS: Record<string, 'string' | 'number' | 'boolean' | 'targets' | 'object'> = {
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
  options: 'object',
};

/** Read and validate a --config file. */
export function readFinetuneConfig(file: string): Record<string, unknown> {
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
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`--config: expected a JSON object in ${describe(file)}, got ${describe(raw)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const type = CONFIG_FIELDS[k];
    if (!type)
      throw new InputError(
        `--config ${file}: unknown field ${describe(k)}; expected ${Object.keys(CONFIG_FIELDS).join(', ')}`,
      );
    const ok =
      type === 'targets'
        ? typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))
        : type === 'object'
          ? typeof v === 'object' && v !== null && !Array.isArray(v)
          : typeof v === type;
    if (!ok) {
      throw new InputError(
        `--config ${file}: ${k} must be ${type === 'targets' ? 'a list of module names or a regular expression string' : type === 'object' ? 'an object' : `a ${type}`}, got ${describe(v)}`,
      );
    }
    out[k] = v;
  }
  return out;
}

/** `vit` / `text` → the shipped checkpoint; anything else is a directory. */
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

function num(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || (typeof v === 'string' && v.trim() === '')) {
    throw new InputError(`--${name} must be a number ≥ ${min}, got ${describe(v)}`);
  }
  return n;
}

function int(name: string, v: unknown, min: number): number | undefined {
  return v === undefined ? undefined : intFlag(name, String(v), undefined, min);
}

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'fine-tune a base model on real data with an adapter (quantum-peft, lora, …), resumable',
  help,
  async run(argv, io) {
    const { values } = parseFlags('finetune', argv, {
      config: { type: 'string' },
      model: { type: 'string' },
      data: { type: 'string' },
      task: { type: 'string' },
      method: { type: 'string' },
      rank: { type: 'string' },
      layers: { type: 'string' },
      targets: { type: 'string' },
      alpha: { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      'eval-limit': { type: 'string' },
      'max-steps': { type: 'string' },
      'weight-decay': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const file = values.config !== undefined ? readFinetuneConfig(values.config) : {};
    const flagMap: Record<string, string> = {
      'batch-size': 'batchSize',
      'eval-limit': 'evalLimit',
      'max-steps': 'maxSteps',
      'weight-decay': 'weightDecay',
      'checkpoint-every': 'checkpointEvery',
    };
    const c: Record<string, unknown> = { ...file };
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || k === 'config' || k === 'json') continue;
      c[flagMap[k] ?? k] =
        k === 'targets'
          ? String(v)
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v;
    }
    for (const req of ['model', 'data', 'method', 'epochs', 'out'] as const) {
      if (c[req] === undefined)
        throw new InputError(
          `missing required ${values.config ? `field ${req} (in --config or as --${req})` : `flag --${req}`}`,
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
    const backend = await initBackend(c.backend as string | undefined);
    io.err(`backend: ${backend}`);
    const base = resolveModelDir(String(c.model));
    const res = await finetune({
      base,
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
      log: (l) => io.err(l),
    });
    if (values.json) {
      io.out(JSON.stringify(res));
      return 0;
    }
    io.out(
      `${res.label} on ${res.data}: ${formatMetric(res.metric, res.value)} with ${res.trainableParams} trainable parameters (adapter ${res.adapterParams}, head ${res.headParams}); ${res.steps} steps in ${res.seconds.toFixed(1)} s`,
    );
    io.out(`written to ${c.out}: ${res.files.join(', ')}`);
    return 0;
  },
};
