/**
 * IEEE 754 binary16 (half precision) for the quantizer's side information: exact bit encoding of values that
 * are representable, and directed rounding (down / up) of any float64 into the binary16 grid, which is what
 * lets the quantizer keep a guaranteed error bound after its scale and offset are stored as fp16.
 *
 * binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Normal values 2^(e−15)·(1 + f/1024),
 * subnormals 2^−14·f/1024 (quantum 2^−24), largest finite 65504.
 */
import { describe, InputError } from '../../errors.ts';

/** The largest finite binary16 value. */
export const FP16_MAX = 65504;
/** The spacing of binary16 values below 2^−14 (the subnormal quantum). */
const SUB_QUANTUM = 2 ** -24;

/** The spacing of the binary16 grid in the binade that contains |x| (x finite). */
export function fp16Ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -14) return SUB_QUANTUM;
  let e = Math.floor(Math.log2(a));
  // log2 can be off by one ulp at binade edges: fix e so that 2^e ≤ a < 2^(e+1)
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 10);
}

function checkRange(x: number, what: string): void {
  if (!Number.isFinite(x) || Math.abs(x) > FP16_MAX) {
    throw new InputError(
      `${what}: expected a finite number within ±${FP16_MAX} (the fp16 range of the side information), got ${describe(x)}`,
    );
  }
}

/** The largest binary16 value ≤ x (x within ±65504). */
export function fp16Floor(x: number): number {
  checkRange(x, 'fp16Floor');
  const q = fp16Ulp(x);
  // For negative x the floor may step into the next binade up in magnitude; its values are multiples of q too.
  const v = Math.floor(x / q) * q;
  return v === 0 ? 0 : v;
}

/** The smallest binary16 value ≥ x (x within ±65504; the result may be 65504 rounded up, which is refused). */
export function fp16Ceil(x: number): number {
  const v = -fp16Floor(-x);
  checkRange(v, 'fp16Ceil');
  return v === 0 ? 0 : v;
}

/** The 16-bit pattern of a binary16-representable value; throws `InputError` for any other number. */
export function fp16Bits(v: number): number {
  checkRange(v, 'fp16Bits');
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a < 2 ** -14) {
    const f = a / SUB_QUANTUM;
    if (!Number.isInteger(f)) throw new InputError(`fp16Bits: ${v} is not representable in binary16`);
    return sign | f;
  }
  const q = fp16Ulp(a);
  const e = Math.round(Math.log2(q)) + 10; // 2^e ≤ a < 2^(e+1)
  const f = a / q - 1024;
  if (!Number.isInteger(f)) throw new InputError(`fp16Bits: ${v} is not representable in binary16`);
  return sign | ((e + 15) << 10) | f;
}

/** The value of a 16-bit binary16 pattern (NaN and ±Infinity included). */
export function fp16Value(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * SUB_QUANTUM;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
