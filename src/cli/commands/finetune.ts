import { formatMetric } from '../../experiments/finetune.ts';
import { finetuneFromConfig, readFinetuneConfig } from '../../experiments/finetune-config.ts';
import { finetuneMethods } from '../../experiments/methods.ts';
import { describeBackend, initBackend } from '../../tf/backend.ts';
import { parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft finetune --model DIR|vit|text --data DATA --method METHOD --epochs E --out DIR
                      [--rank K] [--layers L] [--targets NAME,NAME…] [--alpha A] [--lr LR] [--seed S]
                      [--batch-size B] [--task lm|classify] [--limit N] [--eval-limit N] [--max-steps N]
                      [--weight-decay WD] [--checkpoint-every N] [--resume] [--backend auto|tensorflow|wasm|cpu] [--threads N|auto|max]
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
  --alpha   LoRA lora_alpha / Quantum-PEFT α (default 32 for quantum-peft, see docs/method.md §1)

Seeded (head and adapter initial values, batch order; default --seed 0). A progress bar with the loss,
training accuracy and ETA goes to stderr. A NaN or infinite loss stops the run with a message; --resume
continues an interrupted run from its last checkpoint (same options).

A --config FILE is JSON with the same fields in camelCase: {"model": "vit", "data": "mnist", "method":
"quantum-peft", "rank": 16, "layers": 4, "epochs": 2, "lr": 0.005, "out": "out/run", "options": {…}}
("options" goes to the adapter config as is).`;

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
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const flagMap: Record<string, string> = {
      'batch-size': 'batchSize',
      'eval-limit': 'evalLimit',
      'max-steps': 'maxSteps',
      'weight-decay': 'weightDecay',
      'checkpoint-every': 'checkpointEvery',
    };
    const flags: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || k === 'config' || k === 'json') continue;
      flags[flagMap[k] ?? k] =
        k === 'targets'
          ? String(v)
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean)
          : v;
    }
    const config = { ...(values.config !== undefined ? readFinetuneConfig(values.config) : {}), ...flags };
    await initBackend(config.backend as string | undefined, {
      threads: config.threads as string | number | undefined,
    });
    io.err(`backend: ${describeBackend()}`);
    const res = await finetuneFromConfig(config, {
      log: (l) => io.err(l),
      fromFile: values.config !== undefined,
    });
    if (values.json) {
      io.out(JSON.stringify(res));
      return 0;
    }
    io.out(
      `${res.label} on ${res.data}: ${formatMetric(res.metric, res.value)} with ${res.trainableParams} trainable parameters (adapter ${res.adapterParams}, head ${res.headParams}); ${res.steps} steps in ${res.seconds.toFixed(1)} s`,
    );
    io.out(`written to ${config.out}: ${res.files.join(', ')}`);
    return 0;
  },
};
