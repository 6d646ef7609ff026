import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/errors.ts';
import {
  CODES_TENSOR,
  decodeQuantized,
  dequantizeWeights,
  encodeQuantized,
  QUANT_METADATA_KEY,
  SIDE_TENSOR,
  WIDTHS_TENSOR,
} from '../../../src/io/quant/format.ts';
import {
  bitAccount,
  dequantizeParams,
  type ParamTensor,
  quantizeParams,
} from '../../../src/io/quant/quantize.ts';
import { decodeSafetensors, encodeSafetensors, type StTensor } from '../../../src/io/safetensors.ts';
import { createRng } from '../../../src/util/random.ts';

function sample(n: number, seed: number): ParamTensor[] {
  const rng = createRng(seed);
  const a = Math.floor(n * 0.8);
  return [
    {
      name: 'x.theta_p',
      kind: 'angle',
      shape: [a],
      values: Array.from({ length: a }, () => 2 * rng.normal()),
    },
    {
      name: 'x.lambda',
      kind: 'real',
      shape: [n - a],
      values: Array.from({ length: n - a }, () => rng.normal()),
    },
  ];
}

/** Through real safetensors bytes, as the loader reads them. */
function viaFile(
  tensors: Record<string, { shape: number[]; data: Uint8Array }>,
  metadata: Record<string, string>,
) {
  return decodeSafetensors(encodeSafetensors(tensors, metadata));
}

describe('packed format', () => {
  it('round-trips codes, side information and decoded values exactly (any widths, sizes, groups)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 200 }),
        fc.integer(),
        (n, bits, adaptive, groupSize, seed) => {
          const q = quantizeParams(sample(n, seed), { bits, adaptive, groupSize });
          const enc = encodeQuantized(q);
          const file = viaFile(enc.tensors, enc.metadata);
          const back = decodeQuantized(file.tensors, file.metadata[QUANT_METADATA_KEY]!);
          expect(back.codes).toEqual(q.codes);
          expect(back.groups.map((g) => [g.width, g.offset, g.scale, g.start, g.count])).toEqual(
            q.groups.map((g) => [g.width, g.offset, g.scale, g.start, g.count]),
          );
          // the payload really is packed: ⌈Σ width·count / 8⌉ bytes
          expect(file.tensors[CODES_TENSOR]!.data.length).toBe(Math.ceil(bitAccount(q).payloadBits / 8));
          const want = dequantizeParams(q);
          const got = dequantizeWeights(file);
          for (const [name, v] of want) expect(got[name]!.data).toEqual(Float32Array.from(v));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an INT4 file is about 8× smaller than float32', () => {
    const t = sample(128 * 160, 1);
    const f32 = encodeSafetensors(
      Object.fromEntries(t.map((x) => [x.name, { shape: [...x.shape], data: Float32Array.from(x.values) }])),
    ).length;
    const ratios = [8, 4, 2, 1].map((bits) => {
      const enc = encodeQuantized(quantizeParams(t, { bits }));
      return f32 / encodeSafetensors(enc.tensors, enc.metadata).length;
    });
    // ideal 32/8.25, 32/4.25, 32/2.25, 32/1.25 less the header
    expect(ratios[0]).toBeGreaterThan(3.7);
    expect(ratios[1]).toBeGreaterThan(7.1);
    expect(ratios[1]).toBeLessThan(32 / 4.25);
    expect(ratios[2]).toBeGreaterThan(13);
    expect(ratios[3]).toBeGreaterThan(22);
  });

  it('leaves plain files alone', () => {
    const plain = {
      tensors: { a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } as StTensor },
      metadata: {},
    };
    expect(dequantizeWeights(plain)).toBe(plain.tensors);
  });
});

describe('corrupt packed files are DataErrors that say what is wrong', () => {
  const q = quantizeParams(sample(300, 2), { bits: 3, adaptive: true });
  const enc = encodeQuantized(q);
  const base = () => viaFile(enc.tensors, enc.metadata);
  const u8 = (data: Uint8Array): StTensor => ({ dtype: 'U8', shape: [data.length], data });

  it('truncated codes', () => {
    const f = base();
    const c = f.tensors[CODES_TENSOR]!.data as Uint8Array;
    f.tensors[CODES_TENSOR] = u8(c.slice(0, c.length - 1));
    expect(() => dequantizeWeights(f)).toThrow(DataError);
    expect(() => dequantizeWeights(f)).toThrow(/qpeft_quant.codes has \d+ bytes, expected \d+/);
  });

  it('a width out of range', () => {
    const f = base();
    const w = Uint8Array.from(f.tensors[WIDTHS_TENSOR]!.data as Uint8Array);
    w[0] = (w[0]! & 0xf0) | 12;
    f.tensors[WIDTHS_TENSOR] = u8(w);
    expect(() => dequantizeWeights(f)).toThrow(/group 0 has width 12 \(expected 0..8\)/);
  });

  it('side information that is not finite, or missing', () => {
    const f = base();
    const s = Uint8Array.from(f.tensors[SIDE_TENSOR]!.data as Uint8Array);
    s[3] = 0x7c; // scale of group 0 → +Infinity
    s[2] = 0x00;
    f.tensors[SIDE_TENSOR] = u8(s);
    expect(() => dequantizeWeights(f)).toThrow(/side information/);
    const g = base();
    delete g.tensors[SIDE_TENSOR];
    expect(() => dequantizeWeights(g)).toThrow(/missing tensor "qpeft_quant.side"/);
  });

  it('bad metadata', () => {
    const f = base();
    expect(() => dequantizeWeights({ ...f, metadata: { [QUANT_METADATA_KEY]: '{' } })).toThrow(
      /not valid JSON/,
    );
    const h = JSON.parse(f.metadata[QUANT_METADATA_KEY]!);
    expect(() =>
      dequantizeWeights({ ...f, metadata: { [QUANT_METADATA_KEY]: JSON.stringify({ ...h, version: 2 }) } }),
    ).toThrow(/format version 2 is not supported/);
    expect(() =>
      dequantizeWeights({ ...f, metadata: { [QUANT_METADATA_KEY]: JSON.stringify({ ...h, bits: 9 }) } }),
    ).toThrow(/bits must be an integer in 1..8, got 9/);
    h.streams[0].tensors[0].shape = [1000];
    expect(() => dequantizeWeights({ ...f, metadata: { [QUANT_METADATA_KEY]: JSON.stringify(h) } })).toThrow(
      DataError,
    );
  });
});
