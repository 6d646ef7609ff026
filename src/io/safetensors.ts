/**
 * The safetensors format (Hugging Face): 8-byte little-endian header length N, an N-byte JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header). We read and write F32, F64, I32,
 * U8 (and read F16 to float32).
 */
import { readFileSync } from 'node:fs';
import { describe, InputError, QpeftError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

export class SafetensorsError extends QpeftError {
  constructor(message: string) {
    super('E_SAFETENSORS', message);
  }
}

export type StDType = 'F32' | 'F64' | 'I32' | 'U8';
export type StArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface StTensor {
  readonly dtype: StDType;
  readonly shape: readonly number[];
  readonly data: StArray;
}

const DTYPE_OF = (a: StArray): StDType =>
  a instanceof Float32Array
    ? 'F32'
    : a instanceof Float64Array
      ? 'F64'
      : a instanceof Int32Array
        ? 'I32'
        : 'U8';
const SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4, U8: 1, F16: 2 };
const MAX_HEADER = 100 * 1024 * 1024;

/** Serialise tensors (sorted by name, 8-byte aligned header as the reference implementation does). */
export function encodeSafetensors(
  tensors: Record<string, { shape: readonly number[]; data: StArray }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new InputError(
        `tensor ${describe(name)}: shape [${t.shape.join(', ')}] needs ${count} values, got ${t.data.length}`,
      );
    }
    header[name] = {
      dtype: DTYPE_OF(t.data),
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Parse safetensors bytes; every structural problem is a `SafetensorsError` naming the tensor. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: Record<string, StTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8)
    throw new SafetensorsError(`${source}: expected at least 8 bytes (header length), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) {
    throw new SafetensorsError(
      `${source}: header length ${n} does not fit in the ${bytes.length}-byte file (truncated or not safetensors)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`${source}: the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const body = bytes.subarray(8 + n);
  const tensors: Record<string, StTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    if (!(dtype in SIZE))
      throw new SafetensorsError(
        `${source}: tensor ${describe(name)} has unsupported dtype ${describe(e.dtype)} (expected F32, F64, I32, U8 or F16)`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        `${source}: tensor ${describe(name)} has an invalid shape ${JSON.stringify(e.shape)}`,
      );
    }
    const shape = e.shape as number[];
    const [begin, end] = Array.isArray(e.data_offsets)
      ? (e.data_offsets as number[])
      : [Number.NaN, Number.NaN];
    const count = shape.reduce((a, b) => a * b, 1);
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin! < 0 ||
      end! > body.length ||
      end! - begin! !== count * SIZE[dtype]!
    ) {
      throw new SafetensorsError(
        `${source}: tensor ${describe(name)} (${dtype} [${shape.join(', ')}]) needs ${count * SIZE[dtype]!} bytes, its offsets [${begin}, ${end}] do not fit the ${body.length}-byte body`,
      );
    }
    const raw = body.slice(begin, end);
    let data: StArray;
    if (dtype === 'F16') data = f16ToF32(raw);
    else if (dtype === 'F32') data = new Float32Array(raw.buffer, raw.byteOffset, count);
    else if (dtype === 'F64') data = new Float64Array(raw.buffer, raw.byteOffset, count);
    else if (dtype === 'I32') data = new Int32Array(raw.buffer, raw.byteOffset, count);
    else data = raw;
    tensors[name] = { dtype: dtype === 'F16' ? 'F32' : (dtype as StDType), shape, data };
  }
  return { tensors, metadata };
}

function f16ToF32(raw: Uint8Array): Float32Array {
  const out = new Float32Array(raw.length / 2);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) {
    const h = v.getUint16(2 * i, true);
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    out[i] =
      e === 0
        ? s * 2 ** -14 * (f / 1024)
        : e === 31
          ? f
            ? Number.NaN
            : s * Number.POSITIVE_INFINITY
          : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  return out;
}

/** Write a safetensors file atomically. */
export function saveSafetensors(
  file: string,
  tensors: Record<string, { shape: readonly number[]; data: StArray }>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** Read a safetensors file. */
export function loadSafetensors(file: string): {
  tensors: Record<string, StTensor>;
  metadata: Record<string, string>;
} {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new SafetensorsError(
      `cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return decodeSafetensors(bytes, file);
}
