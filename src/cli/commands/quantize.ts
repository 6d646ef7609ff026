import { describe, InputError } from '../../errors.ts';
import { type QuantEvalKind, quantizeSweep, quantSweepTable } from '../../experiments/quant-sweep.ts';
import { lockOutputDir } from '../../io/output.ts';
import { checkBits } from '../../io/quant/quantize.ts';
import { initBackend } from '../../tf/backend.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft quantize --adapter DIR [--bits 8,4,3,2,1] [--adaptive] [--eval finetune|delta-w|params]
                      [--eval-limit N] [--group-size 128] [--weighting delta-w|none] [--out DIR]
                      [--markdown FILE [--section NAME]] [--backend wasm|cpu|tensorflow] [--threads N|auto|max] [--json]
       qpeft quantize --demo quantum-peft|quantum-peft-lie [--steps N] [--seed S] [same flags]

Quantize the trainable tensors of a saved adapter (a directory written by saveAdapter) at each width b of
--bits, with per-group side information (an fp16 offset and an fp16 scale per group of --group-size values,
so b + 32/128 = b + 0.25 bits per parameter for full groups; the exact figure, partial groups included, is
printed). Circuit angles are quantized on the circle (period 4π). --adaptive adds adaptive bit loading at
the same total storage: each group gets a width in 0..8 from its range (0 prunes it: its angles become
exactly 0 and their RY gates leave the exported circuits; a pruned λ drops a rank-one term); the greedy
allocation weights each value by its ΔW sensitivity ‖∂ΔW/∂p‖² (--weighting none: equal weights).

--adapter is an adapter directory (saveAdapter's layout) or a 'qpeft finetune' output directory (with
result.json, head.safetensors and adapter/). The table's metric (--eval): finetune (the default for a run
directory): the run's held-out task metric (accuracy, or bits per byte) of the base model + trained head +
each quantized adapter, loaded with the normal adapter loader (--eval-limit N: first N held-out examples);
delta-w (the default otherwise): the relative Frobenius error ‖ΔW_q − ΔW‖_F/‖ΔW‖_F over all adapted
layers, against the float32 adapter (also printed with finetune); params: the relative error of the
parameter vector.
--out DIR writes each quantized adapter to DIR/int<b> and DIR/int<b>-adaptive (packed weights that
loadPeftModel loads, circuits with the quantized angles). --markdown FILE writes the table into FILE
between '<!-- quant-NAME:begin -->' and '<!-- quant-NAME:end -->' (NAME: --section, default 'table';
appended when the markers are absent).

--demo trains a small synthetic adapter first (6 blocks × query/value 64×64 and a 64×10 head, rank 4,
fit by Adam to a random rank-4 teacher update per layer; seeded) and quantizes that.`;

function parseBitsList(v: unknown): number[] {
  const s = String(v ?? '8,4,3,2,1');
  const parts = s.split(',').map((x) => x.trim());
  return parts.map((p) => {
    const n = /^\d+$/.test(p) ? Number(p) : Number.NaN;
    try {
      return checkBits(n, '--bits');
    } catch {
      throw new InputError(
        `--bits must be a comma-separated list of integers in 1..8 (e.g. 8,4,3,2,1), got ${describe(s)}`,
      );
    }
  });
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'quantize an adapter (INT8…INT1, adaptive bit loading, pruning) and print the bits/metric table',
  help,
  async run(argv, io) {
    const { values } = parseFlags('quantize', argv, {
      adapter: { type: 'string' },
      demo: { type: 'string' },
      bits: { type: 'string' },
      adaptive: { type: 'boolean', default: false },
      eval: { type: 'string' },
      'eval-limit': { type: 'string' },
      'group-size': { type: 'string' },
      weighting: { type: 'string', default: 'delta-w' },
      out: { type: 'string' },
      markdown: { type: 'string' },
      section: { type: 'string', default: 'table' },
      json: { type: 'boolean', default: false },
      steps: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    });
    const bits = parseBitsList(values.bits);
    const groupSize = intFlag('group-size', values['group-size'], 128, 1, 1 << 20);
    if (values.eval !== undefined && !['finetune', 'delta-w', 'params'].includes(values.eval))
      throw new InputError(`--eval must be finetune, delta-w or params, got ${describe(values.eval)}`);
    if (values.weighting !== 'delta-w' && values.weighting !== 'none')
      throw new InputError(`--weighting must be delta-w or none, got ${describe(values.weighting)}`);
    if ((values.adapter === undefined) === (values.demo === undefined))
      throw new InputError('give exactly one of --adapter DIR and --demo quantum-peft|quantum-peft-lie');
    const demo = values.demo;
    if (demo !== undefined && demo !== 'quantum-peft' && demo !== 'quantum-peft-lie')
      throw new InputError(`--demo must be quantum-peft or quantum-peft-lie, got ${describe(demo)}`);
    if (!/^[A-Za-z0-9_-]+$/.test(values.section))
      throw new InputError(`--section must match [A-Za-z0-9_-]+, got ${describe(values.section)}`);
    if (values.out !== undefined) lockOutputDir(values.out, { command: 'quantize' }); // main releases it
    await initBackend(values.backend ?? 'wasm', { threads: values.threads });
    const result = quantizeSweep({
      adapter: values.adapter,
      demo,
      steps: intFlag('steps', values.steps, 150, 1, 100_000),
      seed: intFlag('seed', values.seed, 0, 0, 2 ** 31 - 1),
      bits,
      adaptive: values.adaptive,
      eval: values.eval as QuantEvalKind | undefined,
      evalLimit:
        values['eval-limit'] === undefined
          ? undefined
          : intFlag('eval-limit', values['eval-limit'], undefined, 1),
      groupSize,
      weighting: values.weighting,
      out: values.out,
      markdown:
        values.markdown === undefined ? undefined : { file: values.markdown, section: values.section },
      log: (line) => io.err(line),
    });
    io.out(
      values.json
        ? JSON.stringify(
            { source: result.source, eval: result.eval, scores: result.scores, rows: result.rows },
            null,
            2,
          )
        : quantSweepTable(result),
    );
    return 0;
  },
};
