/**
 * One small job queue over worker threads, shared by the expressivity sweep and the shot simulator. Each
 * worker gets `{ id, job }` messages one at a time (the next as soon as it answers), so the slow jobs put
 * first in `order` spread over the pool; the worker answers `{ id, result }` or `{ id, error }`, and a typed
 * qpeft error keeps its code across the thread boundary.
 */
import os from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import { QpeftError } from '../errors.ts';

/** The default worker count of a pool: 2, or the number of cores when fewer. */
export function defaultWorkers(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, cores));
}

/** A worker's answer to one job. */
interface PoolReply<R> {
  id: number;
  result?: R;
  error?: { code?: string; message: string; stack?: string };
}

/**
 * Run every job on up to `workers` threads started from `url` (a module calling `servePool`), calling
 * `onResult(id, result)` as answers arrive. `order` (default 0…n−1) is the order jobs are handed out.
 * Rejects on the first failed job (a `QpeftError` with the worker's code, else an Error naming `what`) or
 * when a worker exits before the queue is done; the workers are terminated either way.
 */
export async function runPool<J, R>(
  url: URL,
  jobs: readonly J[],
  workers: number,
  onResult: (id: number, result: R) => void,
  what: string,
  order: readonly number[] = jobs.map((_, i) => i),
): Promise<void> {
  if (jobs.length === 0) return;
  let next = 0;
  let answered = 0;
  const pool = Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, () => new Worker(url));
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= order.length) {
                resolve();
                return;
              }
              const id = order[next++]!;
              w.postMessage({ id, job: jobs[id] });
            };
            w.on('message', (m: PoolReply<R>) => {
              if (m.error) {
                reject(
                  m.error.code
                    ? new QpeftError(m.error.code, m.error.message)
                    : new Error(`${what} worker failed: ${m.error.message}\n${m.error.stack ?? ''}`),
                );
                return;
              }
              answered++;
              onResult(m.id, m.result as R);
              send();
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (next < order.length || answered < jobs.length)
                reject(new Error(`${what} worker exited early (code ${code})`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** The body of a pool worker: answer each `{ id, job }` with `run(job)` or the error it threw. */
export function servePool<J, R>(run: (job: J) => R, entry: string): void {
  if (!parentPort) throw new Error(`${entry} must run in a worker thread (see util/worker-pool.ts)`);
  const port = parentPort;
  port.on('message', (m: { id: number; job: J }) => {
    try {
      port.postMessage({ id: m.id, result: run(m.job) } satisfies PoolReply<R>);
    } catch (e) {
      const err = e as Error;
      port.postMessage({
        id: m.id,
        error: { code: e instanceof QpeftError ? e.code : undefined, message: err.message, stack: err.stack },
      } satisfies PoolReply<R>);
    }
  });
}
