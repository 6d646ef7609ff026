/**
 * Sweeps: the rows of many tasks (e.g. a template over qubits × layers), computed on worker threads
 * (default: 2, or fewer cores if the machine has fewer). Each row depends only on its task and the seed,
 * so the result is the same for any number of workers and any completion order; rows come back in task
 * order.
 */
import { getTemplate } from '../circuit/templates/index.ts';
import { describe, InputError } from '../errors.ts';
import { defaultWorkers, runPool } from '../util/worker-pool.ts';
import {
  computeRow,
  DEFAULT_SETTINGS,
  type ExpressivityRow,
  type MetricSettings,
  type SweepTask,
  taskCircuit,
} from './row.ts';

export interface SweepProgress {
  readonly done: number;
  readonly total: number;
  /** The row just finished. */
  readonly row: ExpressivityRow;
  readonly elapsedMs: number;
}

export interface SweepOptions extends Partial<MetricSettings> {
  /** Worker threads; 0 computes in this thread. Default min(2, available cores). */
  workers?: number;
  onProgress?: (p: SweepProgress) => void;
}

/** Tasks for one template over every (qubits, layers) pair, qubits outer. */
export function templateTasks(
  template: string,
  qubits: readonly number[],
  layers: readonly number[],
): SweepTask[] {
  getTemplate(template);
  const tasks: SweepTask[] = [];
  for (const n of qubits)
    for (const l of layers) tasks.push({ kind: 'template', template, qubits: n, layers: l });
  return tasks;
}

function intSetting(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new InputError(`${name} must be an integer in ${min}..${max}, got ${describe(v)}`);
}

/** Merge and validate settings (bad values throw `InputError` before any work starts). */
export function resolveSettings(options: Partial<MetricSettings>): MetricSettings {
  const s: MetricSettings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof MetricSettings)[]) {
    if (options[key] !== undefined) s[key] = options[key] as number;
  }
  intSetting('columns', s.columns, 1, 2 ** 20);
  intSetting('samples', s.samples, 2, 1e8);
  intSetting('seed', s.seed, 0, 2 ** 32 - 1);
  intSetting('bins', s.bins, 1, 100_000);
  intSetting('rankPoints', s.rankPoints, 1, 1000);
  intSetting('reachTargets', s.reachTargets, 0, 10_000);
  intSetting('reachStarts', s.reachStarts, 1, 10_000);
  intSetting('reachSteps', s.reachSteps, 1, 1e6);
  if (!(s.rankTolerance > 0 && s.rankTolerance < 1)) {
    throw new InputError(`rankTolerance must be in (0, 1), got ${describe(s.rankTolerance)}`);
  }
  return s;
}

/** A rough cost of a task (state size × parameters), to hand out the big ones first. */
function cost(task: SweepTask): number {
  const c = taskCircuit(task);
  return 2 ** c.qubits * (c.gates.length + 1) * (c.params.length + 1);
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

/** Compute the rows of `tasks` (see the module's docs). */
export async function runSweep(
  tasks: readonly SweepTask[],
  options: SweepOptions = {},
): Promise<ExpressivityRow[]> {
  const settings = resolveSettings(options);
  const workers = options.workers ?? defaultWorkers();
  intSetting('workers', workers, 0, 64);
  for (const t of tasks) {
    const c = taskCircuit(t);
    if (settings.columns > 2 ** c.qubits) {
      throw new InputError(
        `--columns ${settings.columns} exceeds 2^${c.qubits} = ${2 ** c.qubits} (the smallest circuit in the sweep)`,
      );
    }
  }
  const rows: (ExpressivityRow | undefined)[] = new Array(tasks.length);
  const t0 = performance.now();
  let done = 0;
  const finish = (id: number, row: ExpressivityRow) => {
    rows[id] = row;
    done++;
    options.onProgress?.({ done, total: tasks.length, row, elapsedMs: performance.now() - t0 });
  };
  if (workers === 0 || tasks.length === 0) {
    for (let i = 0; i < tasks.length; i++) finish(i, computeRow(tasks[i]!, settings));
    return rows as ExpressivityRow[];
  }
  const order = tasks
    .map((t, i) => ({ i, c: cost(t) }))
    .sort((a, b) => b.c - a.c || a.i - b.i)
    .map((o) => o.i);
  await runPool(
    WORKER_URL,
    tasks.map((task) => ({ task, settings })),
    workers,
    (id, row: ExpressivityRow) => finish(id, row),
    'sweep',
    order,
  );
  return rows as ExpressivityRow[];
}
