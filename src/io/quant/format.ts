/**
 * The packed storage of quantized parameters inside a safetensors file, and its decoder.
 *
 * Tensors (all U8):
 *
 *     qpeft_quant.codes    the codes of every stored group, back to back at the group's width, LSB first
 *     qpeft_quant.side     per stored (unpruned) group: fp16 offset, fp16 scale (little-endian), 4 bytes
 *     qpeft_quant.widths   adaptive files only: a 4-bit width per group (low nibble first)
 *
 * and the header's `__metadata__["qpeft_quant"]`, a JSON string: `{version, scheme, bits, group_size,
 * streams: [{kind, period, label, tensors: [{name, shape}]}]}`, from which the grouping follows (each stream is cut
 * into groups of `group_size`). Other tensors of the file (kept in float32, e.g. frozen ones) pass through.
 * `dequantizeWeights` turns such a file's tensors back into the float32 tensors the adapter loader expects;
 * every inconsistency (sizes, widths, non-finite side information, trailing bits) is a `DataError`.
 */
import { DataError, describe } from '../../errors.ts';
import type { StTensor } from '../safetensors.ts';
import { BitReader, BitWriter } from './bitpack.ts';
import { fp16Bits, fp16Value } from './fp16.ts';
import {
  bitAccount,
  dequantizeParams,
  MAX_BITS,
  type QuantGroup,
  type QuantizedParams,
  type QuantStream,
} from './quantize.ts';

/** The metadata key of quantized files. */
export const QUANT_METADATA_KEY = 'qpeft_quant';
export const CODES_TENSOR = 'qpeft_quant.codes';
export const SIDE_TENSOR = 'qpeft_quant.side';
export const WIDTHS_TENSOR = 'qpeft_quant.widths';
const FORMAT_VERSION = 1;

interface QuantHeader {
  version: number;
  scheme: 'uniform' | 'adaptive';
  bits: number;
  group_size: number;
  streams: {
    kind: 'angle' | 'real';
    period: number | null;
    label?: string;
    tensors: { name: string; shape: number[] }[];
  }[];
  bits_per_param?: number;
}

/** The packed tensors and the metadata entry of a quantized set. */
export function encodeQuantized(q: QuantizedParams): {
  tensors: Record<string, { shape: number[]; data: Uint8Array }>;
  metadata: Record<string, string>;
} {
  const codes = new BitWriter(bitAccount(q).payloadBits);
  const stored = q.groups.filter((g) => g.width > 0);
  const side = new Uint8Array(4 * stored.length);
  const view = new DataView(side.buffer);
  stored.forEach((g, i) => {
    view.setUint16(4 * i, fp16Bits(g.offset), true);
    view.setUint16(4 * i + 2, fp16Bits(g.scale), true);
  });
  for (const g of q.groups) {
    const c = q.codes[g.stream]!;
    for (let i = g.start; i < g.start + g.count; i++) codes.write(c[i]!, g.width);
  }
  const tensors: Record<string, { shape: number[]; data: Uint8Array }> = {};
  const codeBytes = codes.bytes();
  tensors[CODES_TENSOR] = { shape: [codeBytes.length], data: codeBytes };
  tensors[SIDE_TENSOR] = { shape: [side.length], data: side };
  if (q.scheme === 'adaptive') {
    const w = new Uint8Array(Math.ceil(q.groups.length / 2));
    q.groups.forEach((g, i) => {
      w[i >> 1] = w[i >> 1]! | (g.width << (4 * (i & 1)));
    });
    tensors[WIDTHS_TENSOR] = { shape: [w.length], data: w };
  }
  const header: QuantHeader = {
    version: FORMAT_VERSION,
    scheme: q.scheme,
    bits: q.bits,
    group_size: q.groupSize,
    streams: q.streams.map((s) => ({
      kind: s.kind,
      period: s.period,
      label: s.label,
      tensors: s.tensors.map((t) => ({ name: t.name, shape: [...t.shape] })),
    })),
    bits_per_param: bitAccount(q).bitsPerParam,
  };
  return { tensors, metadata: { [QUANT_METADATA_KEY]: JSON.stringify(header) } };
}

function fail(msg: string): never {
  throw new DataError(`quantized adapter weights: ${msg}`);
}

function u8(tensors: Record<string, StTensor>, name: string): Uint8Array {
  const t = tensors[name];
  if (!t) fail(`missing tensor ${describe(name)}`);
  if (t.dtype !== 'U8') fail(`tensor ${describe(name)} must be U8, got ${t.dtype}`);
  return t.data as Uint8Array;
}

function parseHeader(text: string): QuantHeader {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch (e) {
    fail(`metadata ${QUANT_METADATA_KEY} is not valid JSON (${(e as Error).message})`);
  }
  const o = h as Partial<QuantHeader>;
  if (typeof o !== 'object' || o === null) fail(`metadata ${QUANT_METADATA_KEY} must be a JSON object`);
  if (o.version !== FORMAT_VERSION)
    fail(`format version ${describe(o.version)} is not supported (expected ${FORMAT_VERSION})`);
  if (o.scheme !== 'uniform' && o.scheme !== 'adaptive')
    fail(`scheme must be "uniform" or "adaptive", got ${describe(o.scheme)}`);
  if (!Number.isInteger(o.bits) || o.bits! < 1 || o.bits! > MAX_BITS)
    fail(`bits must be an integer in 1..${MAX_BITS}, got ${describe(o.bits)}`);
  if (!Number.isInteger(o.group_size) || o.group_size! < 1)
    fail(`group_size must be a positive integer, got ${describe(o.group_size)}`);
  if (!Array.isArray(o.streams)) fail('streams must be a list');
  for (const s of o.streams) {
    if (s?.kind !== 'angle' && s?.kind !== 'real')
      fail(`stream kind must be "angle" or "real", got ${describe(s?.kind)}`);
    if (s.kind === 'angle' ? !(typeof s.period === 'number' && s.period > 0) : s.period !== null)
      fail(`stream period ${describe(s.period)} does not fit kind ${s.kind}`);
    if (!Array.isArray(s.tensors) || s.tensors.length === 0) fail('every stream must list its tensors');
    for (const t of s.tensors) {
      if (
        typeof t?.name !== 'string' ||
        !Array.isArray(t.shape) ||
        !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
      )
        fail(`bad tensor entry ${JSON.stringify(t)}`);
    }
  }
  return o as QuantHeader;
}

/** The most values a quantized file may declare (a bound before any allocation; adapters are far smaller). */
export const MAX_QUANT_VALUES = 2 ** 26;

/**
 * Check the sizes the header declares against the packed tensors (and against `expected`, the adapter's
 * tensor shapes by name, when the loader knows them) with arithmetic only, so a tiny file declaring a
 * [1e308, 1e308] tensor is refused before anything is allocated.
 */
function checkDeclaredSizes(
  h: QuantHeader,
  tensors: Record<string, StTensor>,
  expected?: ReadonlyMap<string, readonly number[]>,
): void {
  let total = 0;
  let groups = 0;
  for (const s of h.streams) {
    let count = 0;
    for (const t of s.tensors) {
      if (expected) {
        const want = expected.get(t.name);
        if (!want) fail(`the header declares tensor ${describe(t.name)}, which this adapter does not have`);
        if (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i]))
          fail(
            `the header declares ${describe(t.name)} as [${t.shape.join(', ')}], the adapter's tensor is [${want.join(', ')}]`,
          );
      }
      count += t.shape.reduce((a, b) => a * b, 1);
    }
    total += count;
    if (!Number.isSafeInteger(total) || total > MAX_QUANT_VALUES)
      fail(`the header declares more than ${MAX_QUANT_VALUES} values (${total}); the file is corrupt`);
    groups += Math.ceil(count / h.group_size);
  }
  if (h.scheme === 'adaptive') {
    const w = u8(tensors, WIDTHS_TENSOR);
    if (w.length !== Math.ceil(groups / 2))
      fail(`${WIDTHS_TENSOR} has ${w.length} bytes, expected ${Math.ceil(groups / 2)} for ${groups} groups`);
  } else {
    const codes = u8(tensors, CODES_TENSOR);
    if (codes.length !== Math.ceil((total * h.bits) / 8))
      fail(
        `${CODES_TENSOR} has ${codes.length} bytes, expected ${Math.ceil((total * h.bits) / 8)} (the header's ${total} values at ${h.bits} bits)`,
      );
  }
}

/**
 * Rebuild the quantized set from the packed tensors and the metadata string. `expected` (tensor shapes by
 * name) makes every declared tensor match the adapter it is loaded into.
 */
export function decodeQuantized(
  tensors: Record<string, StTensor>,
  metadataValue: string,
  expected?: ReadonlyMap<string, readonly number[]>,
): QuantizedParams {
  const h = parseHeader(metadataValue);
  checkDeclaredSizes(h, tensors, expected);
  const streams: QuantStream[] = h.streams.map((s) => ({
    kind: s.kind,
    label: typeof s.label === 'string' ? s.label : '',
    period: s.period,
    tensors: s.tensors,
    count: s.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
  }));
  const layout: { stream: number; start: number; count: number }[] = [];
  streams.forEach((s, si) => {
    for (let start = 0; start < s.count; start += h.group_size)
      layout.push({ stream: si, start, count: Math.min(h.group_size, s.count - start) });
  });
  let widths: number[];
  if (h.scheme === 'adaptive') {
    const w = u8(tensors, WIDTHS_TENSOR);
    if (w.length !== Math.ceil(layout.length / 2))
      fail(
        `${WIDTHS_TENSOR} has ${w.length} bytes, expected ${Math.ceil(layout.length / 2)} for ${layout.length} groups`,
      );
    widths = layout.map((_, i) => (w[i >> 1]! >> (4 * (i & 1))) & 15);
    const bad = widths.findIndex((b) => b > MAX_BITS);
    if (bad >= 0) fail(`group ${bad} has width ${widths[bad]} (expected 0..${MAX_BITS})`);
    if (layout.length % 2 === 1 && w[w.length - 1]! >> 4 !== 0)
      fail(`${WIDTHS_TENSOR}: unused high nibble is not 0`);
  } else {
    if (WIDTHS_TENSOR in tensors) fail(`a uniform file must not have ${WIDTHS_TENSOR}`);
    widths = layout.map(() => h.bits);
  }
  const stored = widths.filter((b) => b > 0).length;
  const side = u8(tensors, SIDE_TENSOR);
  if (side.length !== 4 * stored)
    fail(`${SIDE_TENSOR} has ${side.length} bytes, expected ${4 * stored} (4 per stored group)`);
  const payload = layout.reduce((a, g, i) => a + g.count * widths[i]!, 0);
  const codeBytes = u8(tensors, CODES_TENSOR);
  if (codeBytes.length !== Math.ceil(payload / 8))
    fail(
      `${CODES_TENSOR} has ${codeBytes.length} bytes, expected ${Math.ceil(payload / 8)} (${payload} bits)`,
    );
  const view = new DataView(side.buffer, side.byteOffset, side.byteLength);
  const reader = new BitReader(codeBytes, CODES_TENSOR);
  const codes = streams.map((s) => new Uint8Array(s.count));
  let si = 0;
  const groups: QuantGroup[] = layout.map((g, i) => {
    const width = widths[i]!;
    if (width === 0) return { ...g, width, offset: 0, scale: 0, range: Number.NaN };
    const offset = fp16Value(view.getUint16(4 * si, true));
    const scale = fp16Value(view.getUint16(4 * si + 2, true));
    si++;
    if (!Number.isFinite(offset) || !Number.isFinite(scale) || scale < 0)
      fail(`group ${i}: side information offset ${offset}, scale ${scale} (expected finite, scale ≥ 0)`);
    const c = codes[g.stream]!;
    for (let j = g.start; j < g.start + g.count; j++) c[j] = reader.read(width);
    return { ...g, width, offset, scale, range: Number.NaN };
  });
  if (payload % 8 !== 0 && codeBytes[codeBytes.length - 1]! >> (payload % 8) !== 0)
    fail(`${CODES_TENSOR}: padding bits of the last byte are not 0`);
  return { scheme: h.scheme, groupSize: h.group_size, bits: h.bits, streams, groups, codes };
}

/** Whether a safetensors metadata block marks a quantized file. */
export function isQuantized(metadata: Record<string, string>): boolean {
  return typeof metadata?.[QUANT_METADATA_KEY] === 'string';
}

/**
 * The adapter loader's hook: a quantized file's tensors as the float32 tensors it stands for (quantized
 * ones decoded, the packed ones removed, others passed through); a plain file's tensors unchanged.
 */
export function dequantizeWeights(
  file: {
    readonly tensors: Record<string, StTensor>;
    readonly metadata: Record<string, string>;
  },
  expected?: ReadonlyMap<string, readonly number[]>,
): Record<string, StTensor> {
  const { tensors, metadata } = file;
  if (!isQuantized(metadata)) return tensors;
  const q = decodeQuantized(tensors, metadata[QUANT_METADATA_KEY]!, expected);
  const out: Record<string, StTensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k !== CODES_TENSOR && k !== SIDE_TENSOR && k !== WIDTHS_TENSOR) out[k] = t;
  }
  const values = dequantizeParams(q);
  for (const s of q.streams) {
    for (const t of s.tensors) {
      if (t.name in out) fail(`tensor ${describe(t.name)} is both stored and quantized`);
      out[t.name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(values.get(t.name)!) };
    }
  }
  return out;
}
