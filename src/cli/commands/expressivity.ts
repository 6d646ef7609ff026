import { basename } from 'node:path';
import { getTemplate } from '../../circuit/templates/index.ts';
import { describe, InputError } from '../../errors.ts';
import { progressBar } from '../../expressivity/progress.ts';
import type { SweepTask } from '../../expressivity/row.ts';
import { runSweep, templateTasks } from '../../expressivity/sweep.ts';
import { expressivityTable } from '../../expressivity/table.ts';
import type { FactorForm } from '../../peft/factor.ts';
import { widthSweepTask } from '../../peft/width-factor.ts';
import { readQasmFile } from '../../qasm/file.ts';
import { defaultWorkers } from '../../util/worker-pool.ts';
import { intFlag, parseFlags } from '../args.ts';
import { type Command, processIo } from '../command.ts';

const help = `usage: qpeft expressivity --qubits 2..10 --layers 0..8 [--template NAME | --qasm FILE] [--columns K]
                          [--samples S] [--seed S] [--json | --csv | --markdown] [--plot DIR] [--workers W]
       qpeft expressivity --width 512,768,1024 --layers 0..4 [--form auto|mixed-radix|direct-sum] …

Expressivity of a circuit family against depth, one row per (qubits, layers):
  expressibility   KL (nats) of the fidelity histogram over random θ pairs from the real-state law
                   Beta(1/2, (N-1)/2) (K = 1), or from the law of random St(N, K) points (K > 1); 75 bins
  KL Haar          the same against the complex Haar law Beta(1, N-1) (K = 1), for published numbers
  ±                its bootstrap standard deviation (sampling error)
  floor            the KL that S samples of a perfectly random circuit score (sampling floor)
  Q, Q ref         mean Meyer-Wallach entanglement of U(θ)|0>, and (N-2)/(N+2) for random real states
  rank, manifold   effective dimension (Jacobian rank of U_K, rel. tol 1e-9) and NK - K(K+1)/2
  var global/local variance over θ of dC/dθ for C = 1 - <0|ψ>^2 and the local cost, mean over θ entries
  reach            best fidelity ||T^T U_K||^2/K to random St(N, K) targets (2 targets x 2 starts x 100 Adam steps)

  --qubits, --layers  a number, a range a..b, or a comma list of them (e.g. 4,6,8)
  --template          ${'simplified-two-design'} (default) or alternating-ry-cz
  --qasm FILE         an OpenQASM 3 circuit with input angles instead of a template (one row)
  --width D           adapter factors of any width D (a list as --qubits), one circuit on ceil(log2 D) qubits
                      each (--form: auto, the cheaper, mixed-radix or direct-sum), measured on their D-dim
                      subspace: the reference laws and the manifold use N = D, reach is skipped (its random
                      targets span the whole register), Q ref stays the register's
  --columns K         columns of U compared (default 1: states)
  --samples S         random θ pairs / draws per row (default 1000)
  --seed S            reproducible for any --workers (default 0)
  --plot DIR          write DIR/<metric>.svg and .png (each metric against L, one line per n)
  --workers W         worker threads (default ${defaultWorkers()}; 0 = this thread)
A progress bar goes to stderr.`;

/** Parse `2..10`, `4`, `4,6,8` or `0..2,5` into a sorted list of distinct integers within [min, max]. */
export function parseIntList(flag: string, text: string, min: number, max: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (!m)
      throw new InputError(
        `--${flag} must be a number, a range a..b or a comma list of them, got ${describe(text)}`,
      );
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InputError(`--${flag}: range ${part.trim()} is empty (start > end)`);
    if (a < min || b > max)
      throw new InputError(`--${flag} values must be in ${min}..${max}, got ${describe(part.trim())}`);
    for (let v = a; v <= b; v++) out.add(v);
  }
  return [...out].sort((x, y) => x - y);
}

export const expressivityCommand: Command = {
  name: 'expressivity',
  summary: 'expressibility, entanglement, effective dimension, trainability, reachability against depth',
  help,
  async run(argv, io) {
    const { values } = parseFlags('expressivity', argv, {
      qubits: { type: 'string' },
      width: { type: 'string' },
      form: { type: 'string' },
      layers: { type: 'string' },
      template: { type: 'string' },
      qasm: { type: 'string' },
      columns: { type: 'string' },
      samples: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      plot: { type: 'string' },
      workers: { type: 'string' },
    });
    const formats = [values.json, values.csv, values.markdown].filter(Boolean).length;
    if (formats > 1) throw new InputError('give at most one of --json, --csv, --markdown');
    const columns = intFlag('columns', values.columns, 1, 1, 2 ** 20);
    const samples = intFlag('samples', values.samples, 1000, 2, 1e8);
    const seed = intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1);
    const workers = intFlag('workers', values.workers, defaultWorkers(), 0, 64);
    let tasks: SweepTask[];
    if (values.qasm !== undefined) {
      if (values.template !== undefined || values.qubits !== undefined || values.layers !== undefined) {
        throw new InputError(
          '--qasm gives the whole circuit: do not combine it with --template, --qubits or --layers',
        );
      }
      tasks = [{ kind: 'circuit', label: basename(values.qasm), circuit: readQasmFile(values.qasm).circuit }];
    } else if (values.width !== undefined) {
      if (values.qubits !== undefined || values.template !== undefined) {
        throw new InputError(
          '--width measures adapter factors: do not combine it with --qubits or --template',
        );
      }
      if (values.layers === undefined)
        throw new InputError('missing required flag --layers (e.g. --layers 0..4)');
      const layers = parseIntList('layers', values.layers, 0, 1000);
      const form = (values.form ?? 'auto') as FactorForm;
      tasks = parseIntList('width', values.width, 2, 2 ** 20).flatMap((w) =>
        layers.map((l) => widthSweepTask(w, l, form)),
      );
    } else {
      if (values.form !== undefined) throw new InputError('--form applies to --width only');
      if (values.qubits === undefined)
        throw new InputError('missing required flag --qubits (e.g. --qubits 2..10)');
      if (values.layers === undefined)
        throw new InputError('missing required flag --layers (e.g. --layers 0..8)');
      const template = getTemplate(values.template ?? 'simplified-two-design').name;
      const qubits = parseIntList('qubits', values.qubits, 1, 20);
      const layers = parseIntList('layers', values.layers, 0, 1000);
      tasks = templateTasks(template, qubits, layers);
    }
    // the real stderr redraws the bar in place on a terminal; any other Io gets a line every 15 s and at the end
    const bar = progressBar(
      io === processIo ? process.stderr : { write: (t: string) => io.err(t.trimEnd()) },
    );
    const rows = await runSweep(tasks, { columns, samples, seed, workers, onProgress: bar });
    if (values.plot !== undefined) {
      const { plotSweep } = await import('../../plot/sweep-plots.ts');
      const written = await plotSweep(rows, values.plot, {
        subtitle: `${rows[0]!.circuit}, K = ${columns}, ${samples} samples, seed ${seed}`,
      });
      io.err(`wrote ${written.length} files to ${values.plot}`);
    }
    if (values.json) io.out(JSON.stringify(rows));
    else if (values.csv) io.out(expressivityTable(rows, 'csv'));
    else if (values.markdown) io.out(expressivityTable(rows, 'markdown'));
    else {
      io.out(
        `${values.width !== undefined ? 'adapter factors' : rows[0]!.circuit}, K = ${columns} column(s), ${samples} samples, seed ${seed}`,
      );
      io.out(expressivityTable(rows, 'text'));
    }
    return 0;
  },
};
