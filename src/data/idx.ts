/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun): two zero bytes, a type code, the number of
 * dimensions, one big-endian uint32 per dimension, then the values in big-endian row-major order.
 * Files may be gzip-compressed (they are in Debian's `dataset-fashion-mnist`).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError, describe } from '../errors.ts';

/** The typed array an IDX type code decodes to. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX tensor: its dimensions and values (row-major). */
export interface IdxTensor {
  readonly dims: readonly number[];
  readonly data: IdxArray;
}

const TYPES: Record<number, { name: string; size: number }> = {
  8: { name: 'ubyte', size: 1 },
  9: { name: 'byte', size: 1 },
  11: { name: 'short', size: 2 },
  12: { name: 'int', size: 4 },
  13: { name: 'float', size: 4 },
  14: { name: 'double', size: 8 },
};

/** True when `bytes` starts with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decode IDX bytes (gunzipping first when they are gzip). Every structural problem (bad magic, unknown
 * type code, truncated or over-long data) is a `DataError` naming `source`.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxTensor {
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${source}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4)
    throw new DataError(`${source}: expected at least 4 header bytes, got ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(
      `${source}: not an IDX file (expected the magic number to start with 00 00, got ${magic})`,
    );
  }
  const type = TYPES[bytes[2]!];
  if (!type) {
    throw new DataError(
      `${source}: unknown IDX type code 0x${bytes[2]!.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`,
    );
  }
  const ndims = bytes[3]!;
  if (ndims < 1) throw new DataError(`${source}: expected at least one dimension, got 0`);
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DataError(
      `${source}: truncated header (${ndims} dimensions need ${headerLength} bytes, got ${bytes.length})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const need = headerLength + count * type.size;
  if (bytes.length < need) {
    throw new DataError(
      `${source}: truncated (dimensions [${dims.join(', ')}] of ${type.name} need ${need} bytes, got ${bytes.length})`,
    );
  }
  if (bytes.length > need) {
    throw new DataError(
      `${source}: ${bytes.length - need} unexpected bytes after the data (dimensions [${dims.join(', ')}] of ${type.name} end at byte ${need})`,
    );
  }
  const body = bytes.subarray(headerLength, need);
  let data: IdxArray;
  switch (type.name) {
    case 'ubyte':
      data = Uint8Array.from(body);
      break;
    case 'byte':
      data = Int8Array.from(body, (b) => (b << 24) >> 24);
      break;
    default: {
      const out =
        type.name === 'short'
          ? new Int16Array(count)
          : type.name === 'int'
            ? new Int32Array(count)
            : type.name === 'float'
              ? new Float32Array(count)
              : new Float64Array(count);
      const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      for (let i = 0; i < count; i++) {
        const o = i * type.size;
        out[i] =
          type.name === 'short'
            ? bv.getInt16(o, false)
            : type.name === 'int'
              ? bv.getInt32(o, false)
              : type.name === 'float'
                ? bv.getFloat32(o, false)
                : bv.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { dims, data };
}

/** Read and decode an IDX file (plain or gzip). A missing file is a `DataError` naming the path. */
export function readIdxFile(file: string): IdxTensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(
      `cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseIdx(bytes, file);
}
