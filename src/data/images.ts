/** Image classification sets as plain typed arrays: pixels in [0, 1], one label per image. */
import { describe, InputError } from '../errors.ts';

/** A set of grey-scale images (row-major, `count × height × width` values in [0, 1]) with integer labels. */
export interface ImageSet {
  readonly name: string;
  readonly split: string;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly classNames: readonly string[];
}

/** Which part of a data set to load; `offset`/`limit` select a slice in the split's order. */
export interface SliceOptions {
  offset?: number;
  limit?: number;
}

/** Resolve `offset`/`limit` against `count` with clear errors. */
export function sliceRange(count: number, opts: SliceOptions, what: string): [number, number] {
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > count) {
    throw new InputError(`${what}: offset must be an integer in 0..${count}, got ${describe(offset)}`);
  }
  const limit = opts.limit ?? count - offset;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InputError(`${what}: limit must be a non-negative integer, got ${describe(limit)}`);
  }
  return [offset, Math.min(count, offset + limit)];
}

/** The images at `indices` (in that order) as a new set. */
export function selectImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const px = set.height * set.width;
  const images = new Float32Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= set.count) {
      throw new InputError(`image index must be an integer in 0..${set.count - 1}, got ${describe(j)}`);
    }
    images.set(set.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = set.labels[j]!;
  }
  return { ...set, count: indices.length, images, labels };
}

/** How many images of each class (index = label). */
export function classCounts(set: { labels: Int32Array; numClasses: number }): number[] {
  const counts = new Array<number>(set.numClasses).fill(0);
  for (const l of set.labels) counts[l]!++;
  return counts;
}
