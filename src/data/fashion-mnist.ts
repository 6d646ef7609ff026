/**
 * Fashion-MNIST (Zalando; 60,000 training and 10,000 test images of 28×28 clothing items, 10 classes) from
 * Debian's `dataset-fashion-mnist`, which installs the original gzip IDX files.
 */
import path from 'node:path';
import { DataError } from '../errors.ts';
import { readIdxFile } from './idx.ts';
import { type ImageSet, type SliceOptions, sliceRange } from './images.ts';
import { dataDir, hasFiles, requireFiles } from './paths.ts';

/** The ten class names, by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Images per split in the published data set. */
export const FASHION_MNIST_COUNTS = { train: 60_000, test: 10_000 } as const;

export interface FashionMnistOptions extends SliceOptions {
  split?: 'train' | 'test';
  /** Directory holding the `*-ubyte.gz` files (default: Debian's, or `QPEFT_FASHION_MNIST_DIR`). */
  dir?: string;
}

function files(split: 'train' | 'test', dir: string): { images: string; labels: string } {
  const stem = split === 'train' ? 'train' : 't10k';
  return {
    images: path.join(dir, `${stem}-images-idx3-ubyte.gz`),
    labels: path.join(dir, `${stem}-labels-idx1-ubyte.gz`),
  };
}

/** True when the Fashion-MNIST files are installed (tests use this to skip with a reason). */
export function hasFashionMnist(dir?: string): boolean {
  const d = dataDir('fashionMnist', dir);
  const t = files('train', d);
  const s = files('test', d);
  return hasFiles([t.images, t.labels, s.images, s.labels]);
}

/**
 * Load a Fashion-MNIST split (file order; `offset`/`limit` take a slice) with pixels scaled to [0, 1].
 * A missing data set is a `DatasetNotFoundError` with the install command.
 */
export function loadFashionMnist(opts: FashionMnistOptions = {}): ImageSet {
  const split = opts.split ?? 'train';
  const dir = dataDir('fashionMnist', opts.dir);
  const f = files(split, dir);
  requireFiles('fashionMnist', 'Fashion-MNIST', [f.images, f.labels]);
  const img = readIdxFile(f.images);
  const lab = readIdxFile(f.labels);
  if (img.dims.length !== 3 || !(img.data instanceof Uint8Array)) {
    throw new DataError(
      `${f.images}: expected a 3-dimensional ubyte tensor (count × 28 × 28), got dimensions [${img.dims.join(', ')}]`,
    );
  }
  if (lab.dims.length !== 1 || !(lab.data instanceof Uint8Array)) {
    throw new DataError(
      `${f.labels}: expected a 1-dimensional ubyte tensor of labels, got dimensions [${lab.dims.join(', ')}]`,
    );
  }
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n)
    throw new DataError(`${f.labels}: expected ${n} labels (one per image), got ${lab.dims[0]}`);
  const [begin, end] = sliceRange(n, opts, 'Fashion-MNIST');
  const px = h * w;
  const images = new Float32Array((end - begin) * px);
  const src = img.data.subarray(begin * px, end * px);
  for (let i = 0; i < src.length; i++) images[i] = src[i]! / 255;
  const labels = new Int32Array(end - begin);
  for (let i = begin; i < end; i++) {
    const l = lab.data[i]!;
    if (l > 9) throw new DataError(`${f.labels}: label ${i} is ${l}, expected 0..9`);
    labels[i - begin] = l;
  }
  return {
    name: 'fashion-mnist',
    split,
    count: end - begin,
    height: h,
    width: w,
    images,
    labels,
    numClasses: 10,
    classNames: [...FASHION_MNIST_CLASSES],
  };
}
