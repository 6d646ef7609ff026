/**
 * Safetensors files built byte by byte in the test (issue 15, item 8): every valid layout is read (headers
 * of any length, so tensors at unaligned offsets), everything the format forbids is a `SafetensorsError`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, loadSafetensors, SafetensorsError } from '../../src/io/safetensors.ts';
import { cleanTmp, expectRefusal, tmpDir } from './helpers.ts';

afterAll(cleanTmp);

/** A safetensors file from a header string (written as given: no padding) and a body. */
function file(header: string, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** Little-endian float32 / float64 bytes written one value at a time with DataView (independent of the reader). */
function f32(values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const v = new DataView(b.buffer);
  for (const [i, x] of values.entries()) v.setFloat32(4 * i, x, true);
  return b;
}
function f64(values: number[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  const v = new DataView(b.buffer);
  for (const [i, x] of values.entries()) v.setFloat64(8 * i, x, true);
  return b;
}

describe('valid files are read whatever the header padding', () => {
  it('every header length 0..16 bytes of padding: F32 and F64 tensors read back exactly', () => {
    const a = [1.5, -2.25, 3e-3];
    const b = [Math.PI, -Math.E];
    const body = new Uint8Array([...f32(a), ...f64(b)]);
    for (let pad = 0; pad <= 16; pad++) {
      const header = `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F64","shape":[2],"data_offsets":[12,28]}}${' '.repeat(pad)}`;
      const { tensors } = decodeSafetensors(file(header, body));
      expect(Array.from(tensors.a!.data)).toEqual(a.map((x) => Math.fround(x)));
      expect(Array.from(tensors.b!.data)).toEqual(b);
    }
  });

  it('a Buffer that is a view at an odd offset of a larger buffer is read', () => {
    const inner = file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([7]));
    const pool = Buffer.alloc(inner.length + 3);
    pool.set(inner, 3);
    expect(Array.from(decodeSafetensors(pool.subarray(3)).tensors.a!.data)).toEqual([7]);
  });
});

describe('what the format forbids is refused, one line naming the source', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['a null header', file('null'), /the header must be a JSON object, got null/],
    ['an array header', file('[]'), /the header must be a JSON object, got an array/],
    ['a null entry', file('{"a":null}'), /tensor "a": expected \{dtype, shape, data_offsets\}, got null/],
    [
      'duplicate keys',
      file(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
        new Uint8Array(1),
      ),
      /names "a" twice/,
    ],
    [
      'overlapping data_offsets',
      file(
        '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}',
        new Uint8Array(3),
      ),
      /tensor "b" overlaps another tensor's bytes/,
    ],
    [
      'a hole between tensors',
      file(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}',
        new Uint8Array(3),
      ),
      /bytes 1\.\.2 of the body belong to no tensor/,
    ],
    [
      'trailing bytes',
      file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(5)),
      /4 trailing bytes after the last tensor/,
    ],
    [
      'a NaN value',
      file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', f32([1, Number.NaN])),
      /tensor "a": value 1 is NaN \(expected finite numbers\)/,
    ],
    [
      'an infinite F64 value',
      file('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', f64([Number.NEGATIVE_INFINITY])),
      /value 0 is -Infinity/,
    ],
    [
      'a shape of [1e308, 1e308]',
      file('{"a":{"dtype":"F32","shape":[1e308,1e308],"data_offsets":[0,4]}}', new Uint8Array(4)),
      /invalid shape/,
    ],
    [
      'a header length beyond the file',
      (() => {
        const b = file('{}');
        new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
        return b;
      })(),
      /header length 9223372036854775808 does not fit/,
    ],
    ['__metadata__ with a number', file('{"__metadata__":{"x":1}}'), /__metadata__\["x"\] must be a string/],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(what, () => {
      expectRefusal(() => decodeSafetensors(bytes, 'evil.safetensors'), SafetensorsError, pattern);
      expectRefusal(
        () => decodeSafetensors(bytes, 'evil.safetensors'),
        SafetensorsError,
        /^evil\.safetensors: /,
      );
    });
  }

  it('loadSafetensors refuses /dev/zero and a FIFO-like device without reading it', () => {
    expectRefusal(
      () => loadSafetensors('/dev/zero'),
      SafetensorsError,
      /"\/dev\/zero": it is a character device/,
    );
  });

  it('a file on disk with an unpadded header loads', () => {
    const f = path.join(tmpDir(), 'odd.safetensors');
    writeFileSync(f, file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', f32([0.5, 4])));
    expect(Array.from(loadSafetensors(f).tensors.a!.data)).toEqual([0.5, 4]);
  });
});

describe('fuzz: random bytes and random headers only ever give SafetensorsError', () => {
  it('mutated valid files', () => {
    const base = file(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}',
      new Uint8Array([...f32([1, 2]), 1, 2, 3]),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (edits) => {
          const b = Uint8Array.from(base);
          for (const [i, v] of edits) b[i] = v;
          try {
            decodeSafetensors(b);
          } catch (e) {
            expect(e).toBeInstanceOf(SafetensorsError);
          }
        },
      ),
      { numRuns: 400, seed: 15 },
    );
  });

  it('random JSON headers', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 16 }), (h, body) => {
        try {
          decodeSafetensors(file(JSON.stringify(h) ?? 'null', body));
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
        }
      }),
      { numRuns: 300, seed: 15 },
    );
  });
});
