/**
 * Byte-level encodings of text for the character transformer: a language-model stream (UTF-8 bytes, one
 * `EOS_BYTE` after each quotation) cut into fixed windows, and padded sequences for classification.
 */
import { describe, InputError } from '../errors.ts';
import { EOS_BYTE } from './fortunes.ts';

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function encodeBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decode bytes (invalid UTF-8 becomes U+FFFD). */
export function decodeBytes(bytes: ArrayLike<number>): string {
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** Concatenate the texts' UTF-8 bytes, each followed by `EOS_BYTE` (the byte the model learns ends a quote). */
export function lmStream(texts: readonly string[]): Uint8Array {
  const parts = texts.map(encodeBytes);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
    out[pos++] = EOS_BYTE;
  }
  return out;
}

/**
 * Start positions of non-overlapping windows of `seqLen + 1` bytes (inputs plus the next-byte targets)
 * beginning at `offset` (a per-epoch random offset varies the cut points between epochs).
 */
export function windowStarts(streamLength: number, seqLen: number, offset = 0): Int32Array {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new InputError(`sequence length must be a positive integer, got ${describe(seqLen)}`);
  const n = Math.max(0, Math.floor((streamLength - offset - 1) / seqLen));
  return Int32Array.from({ length: n }, (_, i) => offset + i * seqLen);
}

/** Inputs and next-byte targets (`[count, seqLen]` each, row-major) for the windows at `starts`. */
export function lmBatch(
  stream: Uint8Array,
  starts: ArrayLike<number>,
  seqLen: number,
): { inputs: Int32Array; targets: Int32Array } {
  const inputs = new Int32Array(starts.length * seqLen);
  const targets = new Int32Array(starts.length * seqLen);
  for (let b = 0; b < starts.length; b++) {
    const s = starts[b]!;
    if (s < 0 || s + seqLen + 1 > stream.length) {
      throw new InputError(
        `window start ${s} with length ${seqLen + 1} does not fit a stream of ${stream.length} bytes`,
      );
    }
    for (let t = 0; t < seqLen; t++) {
      inputs[b * seqLen + t] = stream[s + t]!;
      targets[b * seqLen + t] = stream[s + t + 1]!;
    }
  }
  return { inputs, targets };
}

/**
 * Texts as `[count, seqLen]` byte ids, truncated to `seqLen` bytes and right-padded with `EOS_BYTE`;
 * `lengths` counts the real bytes of each (at least 1, so pooling never divides by zero).
 */
export function encodeSequences(
  texts: readonly string[],
  seqLen: number,
): { ids: Int32Array; lengths: Int32Array } {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new InputError(`sequence length must be a positive integer, got ${describe(seqLen)}`);
  const ids = new Int32Array(texts.length * seqLen).fill(EOS_BYTE);
  const lengths = new Int32Array(texts.length);
  texts.forEach((t, i) => {
    const b = encodeBytes(t).subarray(0, seqLen);
    ids.set(b, i * seqLen);
    lengths[i] = Math.max(1, b.length);
  });
  return { ids, lengths };
}
