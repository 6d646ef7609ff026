/** The body of a sweep worker: compute one row per job (util/worker-pool.ts). */
import { servePool } from '../util/worker-pool.ts';
import { computeRow, type MetricSettings, type SweepTask } from './row.ts';

servePool(
  (job: { task: SweepTask; settings: MetricSettings }) => computeRow(job.task, job.settings),
  'worker-main.ts',
);
