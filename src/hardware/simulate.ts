/**
 * `simulate`: counts for every circuit of a plan from the noisy shot simulator (shots.ts), spread over
 * worker threads like the expressivity sweeps. Circuit i draws from its own generator seeded by
 * (seed, i), so the counts are the same for any number of workers and any completion order.
 */
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { defaultWorkers, runPool } from '../util/worker-pool.ts';
import type { Histogram } from './counts.ts';
import { checkShots, type MeasurementPlan } from './plan.ts';
import { type SimBatch, simulateBatch } from './sample-batch.ts';
import { checkNoise, NOISELESS, type NoiseModel } from './shots.ts';

export { type SimBatch, simulateBatch } from './sample-batch.ts';

/** A 32-bit seed for circuit `i` of a run seeded with `seed` (splitmix-style mixing). */
export function circuitSeed(seed: number, i: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Options of `simulatePlan`. */
export interface SimulateOptions {
  /** Shots per circuit (default: each circuit's planned shots). */
  shots?: number;
  noise?: NoiseModel;
  seed?: number;
  /** Worker threads; 0 samples in this thread. Default min(2, cores). */
  workers?: number;
  /** Circuits per worker message (default 8). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

/** Sample counts for every plan circuit (see the file comment). */
export async function simulatePlan(
  plan: MeasurementPlan,
  options: SimulateOptions = {},
): Promise<Map<string, Histogram>> {
  const noise = checkNoise(options.noise ?? NOISELESS);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new InputError(`seed must be an integer in 0..2^32−1, got ${describe(seed)}`);
  }
  if (options.shots !== undefined) checkShots(options.shots);
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
    throw new InputError(`workers must be an integer in 0..64, got ${describe(workers)}`);
  }
  const batchSize = options.batchSize ?? 8;
  const factors: Record<string, Circuit> = {};
  for (const f of plan.factors) factors[f.id] = f.circuit;
  const tasks = plan.circuits.map((c, index) => ({
    index,
    factor: c.circuit,
    prepared: c.prepared,
    setting: c.setting,
    shots: options.shots ?? c.shots,
    seed: circuitSeed(seed, index),
  }));
  const batches: SimBatch[] = [];
  for (let i = 0; i < tasks.length; i += batchSize) {
    const part = tasks.slice(i, i + batchSize);
    const need: Record<string, Circuit> = {};
    for (const t of part) need[t.factor] = factors[t.factor]!;
    batches.push({ factors: need, tasks: part, noise });
  }
  const results: Map<number, number>[] = new Array(tasks.length);
  let done = 0;
  const take = (r: [number, [number, number][]][]) => {
    for (const [index, entries] of r) results[index] = new Map(entries);
    done += r.length;
    options.onProgress?.(done, tasks.length);
  };
  if (workers === 0 || batches.length <= 1) {
    for (const b of batches) take(simulateBatch(b));
  } else {
    await runPool(
      WORKER_URL,
      batches,
      workers,
      (_id, r: [number, [number, number][]][]) => take(r),
      'simulation',
    );
  }
  const out = new Map<string, Histogram>();
  plan.circuits.forEach((c, i) => {
    out.set(c.id, results[i]!);
  });
  return out;
}
