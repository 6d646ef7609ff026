import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, InputError } from '../../../src/errors.ts';
import { BitReader, BitWriter } from '../../../src/io/quant/bitpack.ts';
import { FP16_MAX, fp16Bits, fp16Ceil, fp16Floor, fp16Value } from '../../../src/io/quant/fp16.ts';
import { decodeSafetensors } from '../../../src/io/safetensors.ts';

/** A safetensors file holding one F16 tensor with the given bit patterns, read by src/io's own F16 decoder. */
function f16ViaSafetensors(bits: number[]): Float32Array {
  const header = JSON.stringify({
    x: { dtype: 'F16', shape: [bits.length], data_offsets: [0, 2 * bits.length] },
  });
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + 2 * bits.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  bits.forEach((b, i) => {
    v.setUint16(8 + h.length + 2 * i, b, true);
  });
  return decodeSafetensors(out).tensors.x!.data as Float32Array;
}

describe('fp16', () => {
  it('encodes the textbook bit patterns', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [FP16_MAX, 0x7bff],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [0, 0x0000],
      [0.333251953125, 0x3555],
      [1 + 2 ** -10, 0x3c01],
    ];
    for (const [v, b] of cases) {
      expect(fp16Bits(v)).toBe(b);
      expect(fp16Value(b)).toBe(v);
    }
    expect(fp16Value(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(fp16Value(0x7e00))).toBe(true);
  });

  it('decodes every pattern as the safetensors F16 reader does', () => {
    const all = Array.from({ length: 0x7c00 }, (_, i) => i).flatMap((b) => [b, b | 0x8000]);
    const ref = f16ViaSafetensors(all);
    // Object.is is toBe's comparison (it tells −0 from 0); one expect over the list of failing patterns
    // instead of two per pattern (127k expect calls took most of this test's time)
    const hex = (b: number) => `0x${b.toString(16).padStart(4, '0')}`;
    const decodedWrong = all.filter((b, i) => !Object.is(fp16Value(b), ref[i])).map(hex);
    const encodedWrong = all
      .filter((b) => !Object.is(fp16Bits(fp16Value(b)), fp16Value(b) === 0 ? b & 0x8000 : b))
      .map(hex);
    expect(decodedWrong).toEqual([]);
    expect(encodedWrong).toEqual([]);
  });

  it('floor and ceil are the neighbouring fp16 values', () => {
    expect(fp16Floor(1 / 3)).toBe(0.333251953125);
    expect(fp16Ceil(1 / 3)).toBe(0.33349609375);
    expect(fp16Floor(-1 / 3)).toBe(-0.33349609375);
    expect(fp16Ceil(1e-9)).toBe(2 ** -24);
    fc.assert(
      fc.property(fc.double({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const lo = fp16Floor(x);
        const hi = fp16Ceil(x);
        expect(lo).toBeLessThanOrEqual(x);
        expect(hi).toBeGreaterThanOrEqual(x);
        // both representable, and adjacent (or equal)
        const bl = fp16Bits(lo);
        const bh = fp16Bits(hi);
        expect(fp16Value(bl)).toBe(lo);
        expect(fp16Value(bh)).toBe(hi);
        if (lo !== hi) {
          const next = lo >= 0 ? fp16Value(bl + 1) : bl === 0x8000 ? 2 ** -24 : fp16Value(bl - 1);
          expect(next).toBe(hi === 0 ? next : hi);
        }
      }),
    );
  });

  it('refuses values it cannot represent', () => {
    expect(() => fp16Bits(0.1)).toThrow(InputError);
    expect(() => fp16Floor(70000)).toThrow(/within ±65504/);
    expect(() => fp16Ceil(Number.NaN)).toThrow(InputError);
  });
});

describe('bit packing', () => {
  it('packs LSB first with codes straddling bytes', () => {
    const w = new BitWriter();
    w.write(5, 3);
    w.write(2, 3);
    w.write(7, 3);
    // 101 | 010 << 3 | 11 << 6 = 5 + 16 + 192; then the remaining 1 bit of 7
    expect([...w.bytes()]).toEqual([213, 1]);
    const r = new BitReader(w.bytes());
    expect([r.read(3), r.read(3), r.read(3)]).toEqual([5, 2, 7]);
  });

  it('round-trips any sequence of codes and widths exactly', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .integer({ min: 0, max: 16 })
            .chain((w) => fc.tuple(fc.constant(w), fc.integer({ min: 0, max: 2 ** w - 1 }))),
          { maxLength: 300 },
        ),
        (items) => {
          const w = new BitWriter(8);
          for (const [width, code] of items) w.write(code, width);
          const total = items.reduce((a, [width]) => a + width, 0);
          expect(w.length).toBe(total);
          const bytes = w.bytes();
          expect(bytes.length).toBe(Math.ceil(total / 8));
          const r = new BitReader(bytes);
          for (const [width, code] of items) expect(r.read(width)).toBe(code);
        },
      ),
    );
  });

  it('refuses bad codes and reads past the end', () => {
    const w = new BitWriter();
    expect(() => w.write(8, 3)).toThrow(/3-bit code must be an integer in 0..7, got 8/);
    expect(() => w.write(0, 17)).toThrow(InputError);
    expect(() => new BitReader(new Uint8Array(1)).read(9)).toThrow(DataError);
  });
});
