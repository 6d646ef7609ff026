/**
 * Expressivity sweep: n = 2…10 qubits × L = 0…8 layers of the simplified two-design, all metrics, 1000
 * samples per row (the documented full run), timed on 2 worker threads and on 1, in this one run.
 *
 *   npm run bench -- expressivity                  # full run (samples = 1000)
 *   npm run bench -- expressivity --samples=200    # quicker
 */
import { performance } from 'node:perf_hooks';
import { progressBar, runSweep, templateTasks } from '../src/expressivity/index.ts';

function samplesArg(): number {
  const flag = process.argv.find((a) => a.startsWith('--samples='));
  const v = Number(flag ? flag.slice('--samples='.length) : (process.env.QPEFT_BENCH_SAMPLES ?? 1000));
  if (!Number.isInteger(v) || v < 2) throw new Error(`--samples must be an integer ≥ 2, got ${flag ?? v}`);
  return v;
}

export default async function bench(): Promise<void> {
  const samples = samplesArg();
  const qubits = [2, 3, 4, 5, 6, 7, 8, 9, 10];
  const layers = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const tasks = templateTasks('simplified-two-design', qubits, layers);
  console.log(`sweep: n = 2…10 × L = 0…8 (${tasks.length} rows), ${samples} samples per row, seed 0`);
  const times: Record<number, number> = {};
  let reference: string | undefined;
  for (const workers of [2, 1]) {
    const t0 = performance.now();
    const rows = await runSweep(tasks, { samples, seed: 0, workers, onProgress: progressBar() });
    times[workers] = (performance.now() - t0) / 1000;
    const json = JSON.stringify(rows);
    if (reference === undefined) reference = json;
    else if (json !== reference)
      throw new Error('rows differ between 2 workers and 1 worker: the sweep is not reproducible');
    console.log(`  ${workers} worker${workers > 1 ? 's' : ' '}  ${times[workers]!.toFixed(1)} s`);
  }
  console.log(`  speed-up 2 vs 1 worker: ${(times[1]! / times[2]!).toFixed(2)}×  (rows identical)`);
}
