import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, InputError } from '../../errors.ts';
import { isFinetuneRun, type RunEvaluator, runEvaluator } from '../../experiments/quant-eval.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { checkBits } from '../../io/quant/quantize.ts';
import { type QuantizeReport, quantizeAdapterDir } from '../../quant/adapter.ts';
import { trainDemoAdapter } from '../../quant/demo.ts';
import { initBackend } from '../../tf/backend.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { table } from '../format.ts';

const help = `usage: qpeft quantize --adapter DIR [--bits 8,4,3,2,1] [--adaptive] [--eval finetune|delta-w|params]
                      [--eval-limit N] [--group-size 128] [--weighting delta-w|none] [--out DIR]
                      [--markdown FILE [--section NAME]] [--backend wasm|cpu|tensorflow] [--json]
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

const pct = (x: number) => `${(100 * x).toPrecision(3)}%`;

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
    });
    const bitsList = parseBitsList(values.bits);
    const groupSize = intFlag('group-size', values['group-size'], 128, 1, 1 << 20);
    if (values.eval !== undefined && !['finetune', 'delta-w', 'params'].includes(values.eval))
      throw new InputError(`--eval must be finetune, delta-w or params, got ${describe(values.eval)}`);
    if (values.weighting !== 'delta-w' && values.weighting !== 'none')
      throw new InputError(`--weighting must be delta-w or none, got ${describe(values.weighting)}`);
    if ((values.adapter === undefined) === (values.demo === undefined))
      throw new InputError('give exactly one of --adapter DIR and --demo quantum-peft|quantum-peft-lie');
    await initBackend(values.backend ?? 'wasm');
    let dir = values.adapter;
    const temps: string[] = [];
    const tempDir = (prefix: string) => {
      const t = mkdtempSync(path.join(tmpdir(), prefix));
      temps.push(t);
      return t;
    };
    let source: string;
    if (values.demo !== undefined) {
      const method = values.demo;
      if (method !== 'quantum-peft' && method !== 'quantum-peft-lie')
        throw new InputError(`--demo must be quantum-peft or quantum-peft-lie, got ${describe(method)}`);
      dir = values.out ? path.join(values.out, 'fp32') : tempDir('qpeft-demo-');
      const r = trainDemoAdapter(dir, {
        method,
        steps: intFlag('steps', values.steps, 150, 1, 100_000),
        seed: intFlag('seed', values.seed, 0, 0, 2 ** 31 - 1),
      });
      source = `synthetic ${method} adapter (${r.params} parameters, trained ${intFlag('steps', values.steps, 150, 1)} Adam steps to a random rank-4 teacher ΔW*, final loss ${r.loss.toFixed(4)})`;
      io.err(`trained the demo adapter: ${source}`);
    } else {
      if (!existsSync(dir!)) throw new InputError(`--adapter ${describe(dir)} does not exist`);
      source = `adapter ${dir}`;
    }
    const run = isFinetuneRun(dir!) ? dir! : null;
    if (run) dir = path.join(run, 'adapter');
    const evalKind = values.eval ?? (run ? 'finetune' : 'delta-w');
    if (evalKind === 'finetune' && !run)
      throw new InputError(
        `--eval finetune needs --adapter to be a 'qpeft finetune' output directory (result.json, head.safetensors, adapter/), got ${describe(values.adapter ?? 'a demo')}`,
      );
    let evaluator: RunEvaluator | null = null;
    const scores = new Map<string, number>();
    if (evalKind === 'finetune') {
      evaluator = runEvaluator(run!, {
        evalLimit:
          values['eval-limit'] === undefined
            ? undefined
            : intFlag('eval-limit', values['eval-limit'], undefined, 1),
      });
      const base = evaluator.evaluate(dir!).metric;
      scores.set('fp32', base);
      const r = JSON.parse(readFileSync(path.join(run!, 'result.json'), 'utf8')) as {
        label?: string;
        data?: string;
      };
      source = `${r.label ?? 'adapter'} fine-tuned on ${r.data ?? '?'} (${run}; float32: ${evaluator.format(base)}, the run reported ${evaluator.format(evaluator.reported)})`;
      io.err(`evaluating on ${source}`);
      if (values['eval-limit'] === undefined && Math.abs(base - evaluator.reported) > 1e-9)
        io.err(
          'warning: the float32 adapter reloaded here does not reproduce the metric the run reported; has the base model (result.json "base") been rewritten since the run, or did it use --eval-limit?',
        );
    }
    const writeRoot = values.out ?? (evaluator ? tempDir('qpeft-quant-') : null);
    try {
      const rows: { bits: number; uniform: QuantizeReport; adaptive: QuantizeReport | null }[] = [];
      for (const bits of bitsList) {
        const out = (tag: string) => (writeRoot ? path.join(writeRoot, tag) : null);
        const uniform = quantizeAdapterDir(dir!, out(`int${bits}`), { bits, groupSize });
        const adaptive = values.adaptive
          ? quantizeAdapterDir(dir!, out(`int${bits}-adaptive`), {
              bits,
              groupSize,
              adaptive: true,
              weighting: values.weighting as 'delta-w' | 'none',
            })
          : null;
        if (evaluator) {
          scores.set(`int${bits}`, evaluator.evaluate(out(`int${bits}`)!).metric);
          if (adaptive)
            scores.set(`int${bits}-adaptive`, evaluator.evaluate(out(`int${bits}-adaptive`)!).metric);
        }
        rows.push({ bits, uniform, adaptive });
      }
      const errOf = (r: QuantizeReport) =>
        evalKind === 'params' || r.metric === 'params' ? r.paramError : r.error;
      const errName =
        evalKind === 'params' || rows.some((r) => r.uniform.metric === 'params')
          ? 'relative parameter error ‖p_q − p‖/‖p‖ (angles mod 4π)'
          : 'relative Frobenius error of ΔW, ‖ΔW_q − ΔW‖_F / ‖ΔW‖_F over all adapted layers, against the float32 adapter';
      const taskName = evaluator ? (evaluator.metric.name === 'accuracy' ? 'accuracy' : 'bits/byte') : '';
      const fmtTask = (v: number) =>
        evaluator!.metric.name === 'accuracy' ? `${(100 * v).toFixed(2)}%` : v.toFixed(4);
      const metricName = evaluator
        ? `held-out ${evaluator.metric.label} of the fine-tuned model with each adapter (the normal loader), and the ${errName}`
        : errName;
      if (values.json) {
        io.out(JSON.stringify({ source, eval: evalKind, scores: Object.fromEntries(scores), rows }, null, 2));
        return 0;
      }
      const f32 = rows[0]!.uniform.float32Bytes;
      const head = ['format', 'bits/param'];
      if (evaluator) head.push(`${taskName} (uniform)`);
      head.push('ΔW error (uniform)', 'file bytes');
      if (values.adaptive) {
        head.push('bits/param (adaptive)');
        if (evaluator) head.push(`${taskName} (adaptive)`);
        head.push('ΔW error (adaptive)', 'pruned groups', 'dropped RY');
      }
      const fp = ['FP32', '32', ...(evaluator ? [fmtTask(scores.get('fp32')!)] : []), '0', String(f32)];
      if (values.adaptive) fp.push('32', ...(evaluator ? [fmtTask(scores.get('fp32')!)] : []), '0', '0', '0');
      const body: (string | number)[][] = [fp];
      for (const r of rows) {
        const u = r.uniform;
        const row: (string | number)[] = [`INT${r.bits}`, u.account.bitsPerParam.toFixed(4)];
        if (evaluator) row.push(fmtTask(scores.get(`int${r.bits}`)!));
        row.push(pct(errOf(u)), `${u.fileBytes} (${(f32 / u.fileBytes).toFixed(1)}×)`);
        if (r.adaptive) {
          const a = r.adaptive;
          row.push(a.account.bitsPerParam.toFixed(4));
          if (evaluator) row.push(fmtTask(scores.get(`int${r.bits}-adaptive`)!));
          row.push(pct(errOf(a)), `${a.account.prunedGroups}/${a.account.groups}`, String(a.droppedGates));
        }
        body.push(row);
      }
      const params = rows[0]!.uniform.account.params;
      const lines = [
        `${source}: ${params} quantized parameters, groups of ${groupSize}`,
        `metric: ${metricName}`,
        '',
        table([head, ...body]),
      ];
      io.out(lines.join('\n'));
      if (values.markdown) {
        if (!/^[A-Za-z0-9_-]+$/.test(values.section))
          throw new InputError(`--section must match [A-Za-z0-9_-]+, got ${describe(values.section)}`);
        const BEGIN = `<!-- quant-${values.section}:begin -->`;
        const END = `<!-- quant-${values.section}:end -->`;
        const md = [
          BEGIN,
          `Source: ${source}; ${params} quantized parameters, groups of ${groupSize} (fp16 offset + fp16 scale each).`,
          `Metric: ${metricName}. File bytes: the whole adapter_model.safetensors (header included), ratio to float32.`,
          '',
          `| ${head.join(' | ')} |`,
          `| ${head.map(() => '---').join(' | ')} |`,
          ...body.map((r) => `| ${r.join(' | ')} |`),
          END,
        ].join('\n');
        const file = values.markdown;
        const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
        const i = old.indexOf(BEGIN);
        const j = old.indexOf(END);
        const text =
          i >= 0 && j > i
            ? `${old.slice(0, i)}${md}${old.slice(j + END.length)}`
            : `${old}${old && !old.endsWith('\n') ? '\n' : ''}${md}\n`;
        writeFileAtomic(file, text);
        io.err(`table written to ${file}`);
      }
      if (values.out) io.err(`quantized adapters written under ${values.out}`);
      return 0;
    } finally {
      for (const t of temps) rmSync(t, { recursive: true, force: true });
    }
  },
};
