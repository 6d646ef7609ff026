/** The body of a sweep worker: compute one row per message, reply with the row or the error. */
import { parentPort } from 'node:worker_threads';
import { QpeftError } from '../errors.ts';
import { computeRow, type MetricSettings, type SweepTask } from './row.ts';

if (!parentPort) throw new Error('worker-main.ts must run in a worker thread (see sweep.ts)');
const port = parentPort;
port.on('message', (m: { id: number; task: SweepTask; settings: MetricSettings }) => {
  try {
    port.postMessage({ id: m.id, row: computeRow(m.task, m.settings) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      id: m.id,
      error: { code: e instanceof QpeftError ? e.code : undefined, message: err.message, stack: err.stack },
    });
  }
});
