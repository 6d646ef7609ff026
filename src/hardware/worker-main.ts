/** The body of a shot-simulation worker: sample one batch of plan circuits per message. */
import { parentPort } from 'node:worker_threads';
import { QpeftError } from '../errors.ts';
import { type SimBatch, simulateBatch } from './sample-batch.ts';

if (!parentPort) throw new Error('worker-main.ts must run in a worker thread (see simulate.ts)');
const port = parentPort;
port.on('message', (m: { id: number; batch: SimBatch }) => {
  try {
    port.postMessage({ id: m.id, result: simulateBatch(m.batch) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      id: m.id,
      error: { code: e instanceof QpeftError ? e.code : undefined, message: err.message, stack: err.stack },
    });
  }
});
