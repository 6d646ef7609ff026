/** The IDX parser on hand-built bytes (format rules and every error), then on the real Fashion-MNIST files. */
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hasFashionMnist } from '../../src/data/fashion-mnist.ts';
import { parseIdx, readIdxFile } from '../../src/data/idx.ts';
import { DATA_SOURCES, dataDir } from '../../src/data/paths.ts';
import { DataError } from '../../src/errors.ts';
import { missing, python } from './helpers.ts';

function idx(type: number, dims: number[], body: number[]): Uint8Array {
  const head = [0, 0, type, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...body]);
}

describe('parseIdx', () => {
  it('decodes ubyte tensors row-major, plain or gzip', () => {
    const bytes = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 255]);
    for (const b of [bytes, gzipSync(bytes)]) {
      const t = parseIdx(b);
      expect(t.dims).toEqual([2, 3]);
      expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 255]);
      expect(t.data).toBeInstanceOf(Uint8Array);
    }
  });

  it('decodes big-endian int32, int16, int8 and float32', () => {
    expect(Array.from(parseIdx(idx(0x0c, [2], [0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe])).data)).toEqual([
      258, -2,
    ]);
    expect(Array.from(parseIdx(idx(0x0b, [1], [0x80, 0x00])).data)).toEqual([-32768]);
    expect(Array.from(parseIdx(idx(0x09, [2], [0x7f, 0x80])).data)).toEqual([127, -128]);
    // 1.5 as a big-endian IEEE float is 3f c0 00 00.
    expect(Array.from(parseIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0])).data)).toEqual([1.5]);
  });

  it('rejects a bad magic number, an unknown type, truncation and trailing bytes with clear messages', () => {
    expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), 'x.idx')).toThrow(
      /x\.idx: not an IDX file \(expected the magic number to start with 00 00, got 01 00 08 01\)/,
    );
    expect(() => parseIdx(idx(0x07, [1], [0]))).toThrow(/unknown IDX type code 0x07/);
    expect(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3]))).toThrow(DataError);
    expect(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3]))).toThrow(
      /truncated \(dimensions \[2, 3\] of ubyte need 18 bytes, got 15\)/,
    );
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]))).toThrow(
      /truncated header \(3 dimensions need 16 bytes, got 6\)/,
    );
    expect(() => parseIdx(idx(0x08, [1], [1, 2]))).toThrow(/1 unexpected bytes after the data/);
    expect(() => parseIdx(Uint8Array.from([0, 0]))).toThrow(/expected at least 4 header bytes, got 2/);
    expect(() => parseIdx(gzipSync(idx(0x08, [4], [1, 2, 3, 4])).subarray(0, 15))).toThrow(
      /gzip data is corrupt or truncated/,
    );
  });

  it('names a missing file', () => {
    expect(() => readIdxFile('/nonexistent/x-idx1-ubyte.gz')).toThrow(
      /cannot read "\/nonexistent\/x-idx1-ubyte.gz": ENOENT/,
    );
  });
});

const have = hasFashionMnist();
describe.skipIf(!have)(
  `Fashion-MNIST IDX files ${have ? '' : missing('Fashion-MNIST', DATA_SOURCES.fashionMnist.install)}`,
  () => {
    it('parse to the published shapes and agree with an independent reader', () => {
      const dir = dataDir('fashionMnist');
      const labels = readIdxFile(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
      const images = readIdxFile(path.join(dir, 't10k-images-idx3-ubyte.gz'));
      expect(labels.dims).toEqual([10000]);
      expect(images.dims).toEqual([10000, 28, 28]);
      const ref = python<{ labels: number[]; sum: number; dims: number[] }>(`
import gzip, json, struct
d = '${dir}'
lab = gzip.open(d + '/t10k-labels-idx1-ubyte.gz').read()
img = gzip.open(d + '/t10k-images-idx3-ubyte.gz').read()
magic, n, r, c = struct.unpack('>IIII', img[:16])
print(json.dumps({'labels': list(lab[8:28]), 'sum': sum(img[16:16 + 784]), 'dims': [n, r, c]}))`);
      expect(ref.dims).toEqual([10000, 28, 28]);
      expect(Array.from(labels.data.subarray(0, 20))).toEqual(ref.labels);
      expect(Array.from(images.data.subarray(0, 784)).reduce((a, b) => a + b, 0)).toBe(ref.sum);
    });
  },
);
