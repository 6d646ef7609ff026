/** Timing helpers for benchmarks: warm up, then take the median of repeated runs. */
import { performance } from 'node:perf_hooks';

/**
 * Median wall time in milliseconds of `fn`, after `warmup` calls, over at least `minRuns` runs and until
 * `minMs` of total measured time has passed (at most `maxRuns` runs).
 */
export async function timeMs(
  fn: () => unknown | Promise<unknown>,
  { warmup = 2, minRuns = 5, maxRuns = 200, minMs = 200 } = {},
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < minRuns || (total < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
