import { describe, expect, it } from 'vitest';
import { InputError, QpeftError } from '../../src/errors.ts';
import { runPool } from '../../src/util/worker-pool.ts';

const URL_ = new URL('./pool-worker.mjs', import.meta.url);

async function collect(jobs: (number | string)[], workers: number, order?: number[]) {
  const got = new Map<number, number>();
  const seen: number[] = [];
  await runPool(
    URL_,
    jobs,
    workers,
    (id, r: { square: number }) => {
      got.set(id, r.square);
      seen.push(id);
    },
    'test',
    order,
  );
  return { got, seen };
}

describe('runPool / servePool', () => {
  it('answers every job by id, for 1 and 3 workers alike', async () => {
    const jobs = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const w of [1, 3]) {
      const { got } = await collect(jobs, w);
      expect([...got.keys()].sort((a, b) => a - b)).toEqual(jobs.map((_, i) => i));
      jobs.forEach((x, i) => {
        expect(got.get(i)).toBe(x * x);
      });
    }
  }, 60_000);

  it('hands jobs out in the given order (one worker answers them in that order)', async () => {
    const { seen } = await collect([1, 2, 3, 4], 1, [3, 1, 0, 2]);
    expect(seen).toEqual([3, 1, 0, 2]);
  }, 60_000);

  it('a typed error crosses the thread with its code; a plain one names the pool', async () => {
    const typed = collect([1, 'bad', 3], 2);
    await expect(typed).rejects.toBeInstanceOf(QpeftError);
    await expect(typed).rejects.toMatchObject({
      code: new InputError('x').code,
      message: 'job "bad" is not a number',
    });
    await expect(collect(['crash'], 1)).rejects.toThrow(/^test worker failed: boom/);
  }, 60_000);

  it('a worker that exits without answering is an error, not a hang', async () => {
    await expect(collect([1, 'exit', 2], 1)).rejects.toThrow(/test worker exited early \(code 3\)/);
  }, 60_000);

  it('no jobs: nothing starts', async () => {
    const { got } = await collect([], 4);
    expect(got.size).toBe(0);
  });
});
