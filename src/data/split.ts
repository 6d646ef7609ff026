/** Seeded shuffles, stratified splits and mini-batch orders shared by every loader and training loop. */
import { describe, InputError } from '../errors.ts';
import { createRng } from '../util/random.ts';

/** A permutation of 0..n−1 from `seed` (Fisher–Yates over `createRng`). */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Split row indices into train and test so that every class keeps (about) `testFraction` of its rows in
 * test (at least one row per class when it has two or more). Seeded; both lists are shuffled.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  testFraction: number,
  seed: number,
): { train: Int32Array; test: Int32Array } {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new InputError(`testFraction must be in (0, 1), got ${describe(testFraction)}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!byClass.has(l)) byClass.set(l, []);
    byClass.get(l)!.push(i);
  }
  const train: number[] = [];
  const test: number[] = [];
  let k = 0;
  for (const [, rows] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const perm = permutation(rows.length, seed + 7919 * k++);
    const nTest = rows.length < 2 ? 0 : Math.max(1, Math.round(rows.length * testFraction));
    perm.forEach((p, i) => {
      (i < nTest ? test : train).push(rows[p]!);
    });
  }
  const shuffle = (a: number[], s: number) => Int32Array.from(permutation(a.length, s), (p) => a[p]!);
  return { train: shuffle(train, seed + 1), test: shuffle(test, seed + 2) };
}

/** Index batches of `batchSize` over a seeded permutation of 0..n−1 (the last batch may be smaller). */
export function batchOrder(n: number, batchSize: number, seed: number): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InputError(`batch size must be a positive integer, got ${describe(batchSize)}`);
  const p = permutation(n, seed);
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i += batchSize) out.push(p.subarray(i, Math.min(n, i + batchSize)));
  return out;
}
