/**
 * A dense bit stream: unsigned codes of 0–16 bits each, packed back to back, least significant bit first
 * (bit i of the stream is bit i % 8 of byte ⌊i/8⌋). A 4-bit code therefore takes half a byte, a 3-bit code
 * straddles bytes; nothing is padded except the last byte of the stream.
 */
import { DataError, describe, InputError } from '../../errors.ts';

/** Appends codes of given widths to a growing byte buffer. */
export class BitWriter {
  private buf: Uint8Array;
  private bitLength = 0;

  constructor(capacityBits = 1024) {
    this.buf = new Uint8Array(Math.max(1, Math.ceil(capacityBits / 8)));
  }

  /** Bits written so far. */
  get length(): number {
    return this.bitLength;
  }

  /** Append `code` as a `width`-bit unsigned integer (0 ≤ width ≤ 16, 0 ≤ code < 2^width). */
  write(code: number, width: number): void {
    if (!Number.isInteger(width) || width < 0 || width > 16)
      throw new InputError(`bit width must be an integer in 0..16, got ${describe(width)}`);
    if (!Number.isInteger(code) || code < 0 || code >= 2 ** width)
      throw new InputError(
        `a ${width}-bit code must be an integer in 0..${2 ** width - 1}, got ${describe(code)}`,
      );
    const need = Math.ceil((this.bitLength + width) / 8);
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf);
      this.buf = grown;
    }
    let pos = this.bitLength;
    let left = width;
    let c = code;
    while (left > 0) {
      const byte = pos >> 3;
      const off = pos & 7;
      const take = Math.min(8 - off, left);
      this.buf[byte] = this.buf[byte]! | ((c & ((1 << take) - 1)) << off);
      c >>>= take;
      pos += take;
      left -= take;
    }
    this.bitLength = pos;
  }

  /** The packed bytes (⌈length / 8⌉ of them; unused high bits of the last byte are 0). */
  bytes(): Uint8Array {
    return this.buf.slice(0, Math.ceil(this.bitLength / 8));
  }
}

/** Reads codes back from a packed stream; reading past the end is a `DataError`. */
export class BitReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'packed bit stream',
  ) {}

  /** Bits consumed so far. */
  get position(): number {
    return this.pos;
  }

  /** The next `width`-bit code (0 ≤ width ≤ 16). */
  read(width: number): number {
    if (this.pos + width > this.buf.length * 8) {
      throw new DataError(
        `${this.what}: needs at least ${Math.ceil((this.pos + width) / 8)} bytes, has ${this.buf.length} (truncated or corrupt)`,
      );
    }
    let out = 0;
    let got = 0;
    while (got < width) {
      const byte = this.pos >> 3;
      const off = this.pos & 7;
      const take = Math.min(8 - off, width - got);
      out |= ((this.buf[byte]! >> off) & ((1 << take) - 1)) << got;
      got += take;
      this.pos += take;
    }
    return out;
  }
}
