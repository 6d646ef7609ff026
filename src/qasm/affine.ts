/**
 * Angle values during lowering: `a · θ[p] + b`, affine in at most one input parameter `p` (the shape of the
 * IR's `ParamAngle`). Arithmetic that leaves this shape (a product of two inputs, a function of an input, a
 * sum of two different inputs) throws `AffineError`, which the lowering turns into a `QasmParseError` with
 * the position of the offending operator.
 */
import { type Angle, param } from '../circuit/ir.ts';

export interface Aff {
  /** The input parameter, or `null` for a constant. */
  readonly p: string | null;
  readonly a: number;
  readonly b: number;
}

/** Arithmetic left the affine shape; `message` says how. */
export class AffineError extends Error {}

export const konst = (b: number): Aff => ({ p: null, a: 0, b });
export const sym = (p: string): Aff => ({ p, a: 1, b: 0 });

function norm(p: string | null, a: number, b: number): Aff {
  return a === 0 || p === null ? { p: null, a: 0, b } : { p, a, b };
}

export function add(x: Aff, y: Aff): Aff {
  if (x.p !== null && y.p !== null && x.p !== y.p) {
    throw new AffineError(
      `the angle combines two inputs ('${x.p}' and '${y.p}'); a circuit angle is scale·input + offset in one input`,
    );
  }
  return norm(x.p ?? y.p, x.a + y.a, x.b + y.b);
}
export const neg = (x: Aff): Aff => norm(x.p, -x.a, -x.b);
export const sub = (x: Aff, y: Aff): Aff => add(x, neg(y));
/** x · k for a constant k. */
export const scale = (x: Aff, k: number): Aff => norm(x.p, x.a * k, x.b * k);
/** x + k for a constant k. */
export const shift = (x: Aff, k: number): Aff => norm(x.p, x.a, x.b + k);

export function mul(x: Aff, y: Aff): Aff {
  if (x.p !== null && y.p !== null) {
    throw new AffineError(
      `the product of inputs '${x.p}' and '${y.p}' is not affine; only scale·input + offset is supported`,
    );
  }
  return x.p === null ? norm(y.p, y.a * x.b, y.b * x.b) : norm(x.p, x.a * y.b, x.b * y.b);
}

export function div(x: Aff, y: Aff): Aff {
  if (y.p !== null) {
    throw new AffineError(`division by input '${y.p}' is not affine; only scale·input + offset is supported`);
  }
  if (y.b === 0) throw new AffineError('division by zero');
  return norm(x.p, x.a / y.b, x.b / y.b);
}

/** The constant value of `x`, or an `AffineError` naming `what` (e.g. "the argument of sin"). */
export function constant(x: Aff, what: string): number {
  if (x.p !== null) {
    throw new AffineError(`${what} uses input '${x.p}' non-affinely; only scale·input + offset is supported`);
  }
  return x.b;
}

/**
 * The IR angle for an affine value. A parametrised angle's offset is canonicalised to +0 when it is a zero:
 * `-(k·θ)` computes the offset −0, which rotates by nothing but would not compare equal to the exported 0.
 */
export function toAngle(x: Aff): Angle {
  return x.p === null ? x.b : param(x.p, x.a, x.b + 0);
}

/** An IR angle as an affine value. */
export function fromAngle(angle: Angle): Aff {
  return typeof angle === 'number' ? konst(angle) : norm(angle.param, angle.scale, angle.offset);
}
