/** The body of a shot-simulation worker: sample one batch of plan circuits per job (util/worker-pool.ts). */
import { servePool } from '../util/worker-pool.ts';
import { type SimBatch, simulateBatch } from './sample-batch.ts';

servePool((batch: SimBatch) => simulateBatch(batch), 'worker-main.ts');
