// A pool worker for worker-pool.test.ts: squares numbers; 'bad' jobs throw a typed InputError, 'crash'
// throws a plain Error, 'exit' ends the thread without answering.
import { InputError } from '../../src/errors.ts';
import { servePool } from '../../src/util/worker-pool.ts';

servePool((job: number | 'bad' | 'crash' | 'exit') => {
  if (job === 'bad') throw new InputError('job "bad" is not a number');
  if (job === 'crash') throw new Error('boom');
  if (job === 'exit') process.exit(3);
  return { square: job * job };
}, 'pool-worker-main.ts');
