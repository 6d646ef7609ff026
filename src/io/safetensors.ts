/**
 * The safetensors format (Hugging Face): 8-byte little-endian header length N, an N-byte JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header). We read and write F32, F64, I32,
 * U8 (and read F16 to float32).
 */
import { describe, FileError, InputError, QpeftError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { findDuplicateKey, READ_LIMITS, readFileBounded } from './read.ts';

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

/** Options of `decodeSafetensors` / `loadSafetensors`. */
export interface DecodeOptions {
  /** Accept NaN and ±Inf in float tensors (default false: a non-finite value is a `SafetensorsError`). */
  readonly allowNonFinite?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse safetensors bytes. Everything the format allows is read (a header of any length, padded or not:
 * tensors at offsets that are not a multiple of their element size are copied). Everything it forbids is a
 * `SafetensorsError` naming `source` and the tensor: a header that is not a JSON object, a `null` entry,
 * duplicate keys, bad dtypes or shapes, offsets that overlap, leave holes or do not reach the end of the
 * file (trailing bytes), and (unless `allowNonFinite`) NaN or ±Inf values.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
  options: DecodeOptions = {},
): { tensors: Record<string, StTensor>; metadata: Record<string, string> } {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`expected at least 8 bytes (header length), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getBigUint64(0, true);
  if (big > BigInt(MAX_HEADER) || 8n + big > BigInt(bytes.length)) {
    fail(`header length ${big} does not fit in the ${bytes.length}-byte file (truncated or not safetensors)`);
  }
  const n = Number(big);
  let text = '';
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail(`the header must be a JSON object, got ${describe(header)}`);
  const dup = findDuplicateKey(text);
  if (dup !== null) fail(`the header names ${describe(dup)} twice`);
  const body = bytes.subarray(8 + n);
  const tensors: Record<string, StTensor> = {};
  let metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) fail(`__metadata__ must be an object of strings, got ${describe(entry)}`);
      const bad = Object.entries(entry).find(([, v]) => typeof v !== 'string');
      if (bad) fail(`__metadata__[${describe(bad[0])}] must be a string, got ${describe(bad[1])}`);
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry))
      fail(`tensor ${describe(name)}: expected {dtype, shape, data_offsets}, got ${describe(entry)}`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e.dtype === 'string' ? e.dtype : '';
    if (!Object.hasOwn(SIZE, dtype))
      fail(
        `tensor ${describe(name)} has unsupported dtype ${describe(e.dtype)} (expected F32, F64, I32, U8 or F16)`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${describe(name)} has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const offsets = e.data_offsets;
    const [begin, end] =
      Array.isArray(offsets) && offsets.length === 2 ? (offsets as number[]) : [Number.NaN, Number.NaN];
    if (
      !Number.isSafeInteger(count * SIZE[dtype]!) ||
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin! < 0 ||
      end! < begin! ||
      end! > body.length ||
      end! - begin! !== count * SIZE[dtype]!
    ) {
      fail(
        `tensor ${describe(name)} (${dtype} [${shape.join(', ')}]) needs ${count * SIZE[dtype]!} bytes, its offsets ${JSON.stringify(offsets)} do not fit the ${body.length}-byte body`,
      );
    }
    spans.push({ name, begin: begin!, end: end! });
    // a fresh buffer: aligned for any element size whatever the header's padding, and not a view that
    // keeps the whole file alive
    const raw = new Uint8Array(end! - begin!);
    raw.set(body.subarray(begin!, end!));
    let data: StArray;
    if (dtype === 'F16') data = f16ToF32(raw);
    else if (dtype === 'F32') data = new Float32Array(raw.buffer, 0, count);
    else if (dtype === 'F64') data = new Float64Array(raw.buffer, 0, count);
    else if (dtype === 'I32') data = new Int32Array(raw.buffer, 0, count);
    else data = raw;
    if (!options.allowNonFinite && (data instanceof Float32Array || data instanceof Float64Array)) {
      const bad = data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) fail(`tensor ${describe(name)}: value ${bad} is ${data[bad]} (expected finite numbers)`);
    }
    tensors[name] = { dtype: dtype === 'F16' ? 'F32' : (dtype as StDType), shape, data };
  }
  // the format's rule: the tensors tile the body exactly (no overlap, no hole, no trailing bytes)
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin < at)
      fail(`tensor ${describe(s.name)} overlaps another tensor's bytes (offsets from ${s.begin})`);
    if (s.begin > at) fail(`bytes ${at}..${s.begin} of the body belong to no tensor`);
    at = s.end;
  }
  if (at !== body.length) fail(`${body.length - at} trailing bytes after the last tensor`);
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

/** Read a safetensors file (a bounded read of a regular file; see `decodeSafetensors` for what is refused). */
export function loadSafetensors(
  file: string,
  options: DecodeOptions & { maxBytes?: number } = {},
): {
  tensors: Record<string, StTensor>;
  metadata: Record<string, string>;
} {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(file, options.maxBytes ?? READ_LIMITS.safetensors, 'safetensors file');
  } catch (e) {
    if (e instanceof FileError) throw new SafetensorsError(e.message);
    throw e;
  }
  return decodeSafetensors(bytes, file, options);
}
