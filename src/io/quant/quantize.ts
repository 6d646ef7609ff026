/**
 * Group-wise uniform quantization of an adapter's parameters (docs/method.md §5), as pure functions over named
 * parameter vectors. Nothing here knows about tfjs or the adapter classes.
 *
 * **Streams and groups.** Tensors of the same kind (`angle` with its period, or `real`) are concatenated in
 * name order into one stream, and each stream is cut into groups of `groupSize` (default 128) consecutive
 * values; the last group of a stream may be partial. Each group stores its codes at its width b and
 * 32 bits of side information: an fp16 offset and an fp16 scale **(ours)**. Value j decodes to
 * `offset + scale · code_j`. So a uniform width b costs b + 32·⌈n/128⌉/n bits per parameter for a stream of
 * n values: exactly b + 0.25 when n is a multiple of 128.
 *
 * **Exact error bound.** With the group's values in [lo, hi] (for angles: on the shortest arc, below),
 * offset = fp16Floor(lo) and scale = fp16Ceil((hi − offset)/(2^b − 1)), so the 2^b levels cover [lo, hi]
 * and rounding to the nearest level errs by at most scale/2 (`groupErrorBound`). As fp16 rounds the offset
 * down by less than one fp16 ulp of lo and the scale up by at most a factor 1 + 2^−10, this is the textbook
 * Δ/(2(2^b − 1)) (Δ = hi − lo) up to that fp16 slack.
 *
 * **Angles are periodic.** RY(θ + 4π) = RY(θ) (RY(θ + 2π) = −RY(θ) is *not* the same gate on one factor),
 * so an angle group is placed on the circle of circumference 4π and represented on the shortest arc that
 * covers it: the complement of the largest gap between its sorted residues. A group whose values straddle any
 * point (±π, ±2π, …) of one representation is therefore not penalised; its range is the arc length. The
 * decoded angle equals the original modulo 4π up to the bound. The arc is shifted by a multiple of 4π so
 * that its centre lies in [−2π, 2π], which keeps the fp16 offset small (and precise).
 *
 * **Adaptive bit loading.** Each group gets its own width in 0..8 under a budget of total bits (by default the
 * uniform scheme's exact total at the same b, so the comparison is at equal storage). Width 0 prunes the group:
 * its values decode to exactly 0 and it stores no side information (an RY at angle 0 is the identity and
 * leaves the exported circuit; λ_k = 0 drops a rank-one term). The adaptive file also stores a 4-bit width per
 * group, counted in its bits per parameter. The allocation is greedy on the distortion model
 * D(b) = n·s²/12 with s = Δ/(2^b − 1) (uniform rounding error of step s), D(0) = Σ x² (pruning, distances on
 * the circle for angles): repeatedly take the move (group, b → b′ > b) with the largest distortion decrease
 * per bit spent (side information included) that still fits the budget; a standard reverse water-filling
 * (error ∝ Δ·2^−b) solved greedily. Values may carry importance weights w (the squared errors are weighted:
 * D(b) = Σw·s²/12, D(0) = Σ w·x²); the adapter integration uses w = ‖∂ΔW/∂p‖²_F.
 *
 * Tensors are grouped into streams by kind, period and an optional label (the adapter integration labels by
 * parameter role, so λ, θ_P, Lie blocks … of all layers form separate streams and never share a group).
 */
import { describe, InputError } from '../../errors.ts';
import { fp16Ceil, fp16Floor } from './fp16.ts';

/** `angle`: periodic (a circuit angle, period 4π by default); `real`: any real number (λ, Lie parameters). */
export type ParamKind = 'angle' | 'real';

/** The period of circuit angles: RY(θ + 4π) = RY(θ). */
export const ANGLE_PERIOD = 4 * Math.PI;
/** Default parameters per group. */
export const DEFAULT_GROUP_SIZE = 128;
/** Bits of side information per stored group: fp16 offset + fp16 scale. */
export const SIDE_BITS = 32;
/** Bits per group of the adaptive width table (widths 0..8). */
export const WIDTH_BITS = 4;
/** The widest code. */
export const MAX_BITS = 8;

/** One named parameter tensor (values row-major). */
export interface ParamTensor {
  readonly name: string;
  readonly kind: ParamKind;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
  /** For angles: the period (default 4π). */
  readonly period?: number;
  /**
   * A stream label (default ''): tensors of the same kind, period and label share a stream (and groups).
   * Labelling by role (`lambda`, `theta_p`, …) keeps values of different scales out of one group.
   */
  readonly stream?: string;
  /**
   * Adaptive only: the importance of each value (≥ 0, default 1), the weight of its squared error in the
   * allocation's distortion (e.g. ‖∂ΔW/∂p‖², so that bits go where ΔW is sensitive).
   */
  readonly weights?: ArrayLike<number>;
}

export interface QuantOptions {
  /** Width b in 1..8: every group's width (uniform) or the reference width of the budget (adaptive). */
  readonly bits: number;
  /** Per-group widths from the groups' ranges under a bit budget (default false). */
  readonly adaptive?: boolean;
  /** Parameters per group (default 128). */
  readonly groupSize?: number;
  /**
   * Adaptive only: the total bit budget as an average per parameter, everything counted (codes, side
   * information, width table). Default: the uniform scheme's exact figure at `bits`.
   */
  readonly budgetBitsPerParam?: number;
}

/** A stream: the concatenated tensors of one kind (and period), in name order. */
export interface QuantStream {
  readonly kind: ParamKind;
  /** The label tensors were grouped by ('' by default). */
  readonly label: string;
  /** The period for angles, null for reals. */
  readonly period: number | null;
  readonly tensors: readonly { readonly name: string; readonly shape: readonly number[] }[];
  /** Values in the stream. */
  readonly count: number;
}

/** One group's stored data. */
export interface QuantGroup {
  readonly stream: number;
  /** Index of its first value in the stream. */
  readonly start: number;
  readonly count: number;
  /** Code width b (0 = pruned). */
  readonly width: number;
  /** fp16 values (0 for a pruned group). */
  readonly offset: number;
  readonly scale: number;
  /** The group's range Δ (arc length for angles) before quantization. */
  readonly range: number;
}

/** A quantized parameter set: groups with their side information and the codes of every value. */
export interface QuantizedParams {
  readonly scheme: 'uniform' | 'adaptive';
  readonly groupSize: number;
  /** The uniform width, or the reference width of the adaptive budget. */
  readonly bits: number;
  readonly streams: readonly QuantStream[];
  readonly groups: readonly QuantGroup[];
  /** One code per value, per stream (a pruned group's codes are 0 and not stored). */
  readonly codes: readonly Uint8Array[];
}

/** The exact storage of a quantized parameter set. */
export interface BitAccount {
  readonly params: number;
  readonly groups: number;
  readonly prunedGroups: number;
  readonly prunedParams: number;
  /** Σ width × count. */
  readonly payloadBits: number;
  /** 32 per stored (unpruned) group. */
  readonly sideBits: number;
  /** 4 per group for adaptive files, 0 for uniform ones (their width is one number in the header). */
  readonly widthBits: number;
  readonly totalBits: number;
  readonly bitsPerParam: number;
}

/** Check a uniform / reference width. */
export function checkBits(bits: unknown, what = 'bits'): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) {
    throw new InputError(
      `${what} must be an integer in 1..${MAX_BITS} (e.g. 8, 4, 3, 2, 1), got ${describe(bits)}`,
    );
  }
  return bits;
}

function checkGroupSize(g: unknown): number {
  if (typeof g !== 'number' || !Number.isInteger(g) || g < 1 || g > 1 << 20)
    throw new InputError(`groupSize must be an integer in 1..${1 << 20}, got ${describe(g)}`);
  return g;
}

/** x mod p in [0, p). */
function mod(x: number, p: number): number {
  const r = x % p;
  return r < 0 ? r + p : r;
}

/** Distance from x to 0 on a circle of circumference p (p = null: |x|). */
export function distanceToZero(x: number, p: number | null): number {
  if (p === null) return Math.abs(x);
  const r = mod(x, p);
  return Math.min(r, p - r);
}

/**
 * Represent a group of angles on the shortest arc covering them: returns the values shifted by multiples of
 * `period` so that they lie in [lo, lo + range] with range minimal, and the arc centred in [−p/2, p/2].
 */
export function unwrapAngles(
  values: ArrayLike<number>,
  period: number,
): { values: Float64Array; lo: number; range: number } {
  const n = values.length;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = mod(values[i]!, period);
  const sorted = Float64Array.from(r).sort();
  // the largest gap between consecutive residues (the wrap-around gap included) is the part left out
  let gapEnd = 0;
  let gap = sorted[0]! + period - sorted[n - 1]!;
  for (let i = 1; i < n; i++) {
    const g = sorted[i]! - sorted[i - 1]!;
    if (g > gap) {
      gap = g;
      gapEnd = i;
    }
  }
  let lo = sorted[gapEnd]!;
  const range = n === 0 ? 0 : Math.max(0, period - gap);
  const shift = -period * Math.round((lo + range / 2) / period);
  lo += shift;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = r[i]! + shift;
    // residues below the arc's start belong one period up
    if (v < lo) v += period;
    out[i] = Math.min(v, lo + range);
  }
  return { values: out, lo, range };
}

/** The group's representation: values on a line (arc-unwrapped for angles), their min and range. */
function groupLine(values: ArrayLike<number>, period: number | null) {
  if (period !== null) return unwrapAngles(values, period);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  return { values: Float64Array.from(values), lo, range: hi - lo };
}

/** fp16 offset and scale for a group in [lo, lo + range] at `width` bits (see the module comment). */
export function sideInfo(lo: number, range: number, width: number): { offset: number; scale: number } {
  const offset = fp16Floor(lo);
  const levels = 2 ** width - 1;
  const span = lo + range - offset;
  const scale = span > 0 ? fp16Ceil(span / levels) : 0;
  return { offset, scale };
}

/** The guaranteed error of a stored group: half its step (0 for a pruned group, whose error is |x|). */
export function groupErrorBound(group: QuantGroup): number {
  return group.width === 0 ? Number.NaN : group.scale / 2;
}

/** Bits per parameter of the uniform scheme at width b, in closed form, for streams of the given lengths. */
export function uniformBitsPerParam(
  streamCounts: readonly number[],
  bits: number,
  groupSize = DEFAULT_GROUP_SIZE,
): number {
  const n = streamCounts.reduce((a, b) => a + b, 0);
  const groups = streamCounts.reduce((a, c) => a + Math.ceil(c / groupSize), 0);
  return (n * bits + SIDE_BITS * groups) / n;
}

interface Draft {
  stream: number;
  start: number;
  count: number;
  line: Float64Array;
  lo: number;
  range: number;
  /** Σ w·x² of the pruned group (distances on the circle for angles). */
  pruneError: number;
  /** Σ w over the group. */
  weight: number;
}

/** Split tensors into streams (angles by period, then reals; tensors in name order). */
function buildStreams(tensors: readonly ParamTensor[]): {
  streams: QuantStream[];
  values: Float64Array[];
  weights: Float64Array[];
} {
  const seen = new Set<string>();
  const byKey = new Map<
    string,
    { kind: ParamKind; period: number | null; label: string; list: ParamTensor[] }
  >();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new InputError(`parameter tensor ${describe(t.name)} is given twice`);
    seen.add(t.name);
    if (t.kind !== 'angle' && t.kind !== 'real')
      throw new InputError(
        `tensor ${describe(t.name)}: kind must be "angle" or "real", got ${describe(t.kind)}`,
      );
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length)
      throw new InputError(
        `tensor ${describe(t.name)}: shape [${t.shape.join(', ')}] needs ${count} values, got ${t.values.length}`,
      );
    for (let i = 0; i < t.values.length; i++) {
      if (!Number.isFinite(t.values[i]!))
        throw new InputError(
          `tensor ${describe(t.name)}: value ${i} is ${describe(t.values[i])} (expected a finite number)`,
        );
    }
    const period = t.kind === 'angle' ? (t.period ?? ANGLE_PERIOD) : null;
    if (period !== null && !(Number.isFinite(period) && period > 0))
      throw new InputError(
        `tensor ${describe(t.name)}: period must be a positive number, got ${describe(period)}`,
      );
    if (t.weights !== undefined) {
      if (t.weights.length !== t.values.length)
        throw new InputError(
          `tensor ${describe(t.name)}: expected ${t.values.length} weights, got ${t.weights.length}`,
        );
      for (let i = 0; i < t.weights.length; i++) {
        const w = t.weights[i]!;
        if (!(Number.isFinite(w) && w >= 0))
          throw new InputError(
            `tensor ${describe(t.name)}: weight ${i} is ${describe(w)} (expected a finite number ≥ 0)`,
          );
      }
    }
    const label = t.stream ?? '';
    const key = `${t.kind === 'angle' ? 0 : 1}:${period}:${label}`;
    if (!byKey.has(key)) byKey.set(key, { kind: t.kind, period, label, list: [] });
    byKey.get(key)!.list.push(t);
  }
  const keys = [...byKey.keys()].sort();
  const streams: QuantStream[] = [];
  const values: Float64Array[] = [];
  const weights: Float64Array[] = [];
  for (const key of keys) {
    const s = byKey.get(key)!;
    const list = [...s.list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const count = list.reduce((a, t) => a + t.values.length, 0);
    if (count === 0) continue;
    const v = new Float64Array(count);
    const w = new Float64Array(count).fill(1);
    let o = 0;
    for (const t of list) {
      for (let i = 0; i < t.values.length; i++) {
        if (t.weights) w[o] = t.weights[i]!;
        v[o++] = t.values[i]!;
      }
    }
    streams.push({
      kind: s.kind,
      label: s.label,
      period: s.period,
      tensors: list.map((t) => ({ name: t.name, shape: [...t.shape] })),
      count,
    });
    values.push(v);
    weights.push(w);
  }
  return { streams, values, weights };
}

function drafts(
  streams: readonly QuantStream[],
  values: readonly Float64Array[],
  weights: readonly Float64Array[],
  groupSize: number,
): Draft[] {
  const out: Draft[] = [];
  streams.forEach((s, si) => {
    const v = values[si]!;
    const w = weights[si]!;
    for (let start = 0; start < s.count; start += groupSize) {
      const count = Math.min(groupSize, s.count - start);
      const slice = v.subarray(start, start + count);
      const line = groupLine(slice, s.period);
      let pruneError = 0;
      let weight = 0;
      for (let i = 0; i < count; i++) {
        pruneError += w[start + i]! * distanceToZero(slice[i]!, s.period) ** 2;
        weight += w[start + i]!;
      }
      out.push({
        stream: si,
        start,
        count,
        line: line.values,
        lo: line.lo,
        range: line.range,
        pruneError,
        weight,
      });
    }
  });
  return out;
}

/** Distortion model of a group at width b (see the module comment). */
function distortion(d: Draft, b: number): number {
  if (b === 0) return d.pruneError;
  const s = d.range / (2 ** b - 1);
  return (d.weight * s * s) / 12;
}

/** A small max-heap of (key, group). */
class Heap {
  private readonly a: { key: number; id: number }[] = [];
  get size(): number {
    return this.a.length;
  }
  push(key: number, id: number): void {
    const a = this.a;
    a.push({ key, id });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.key >= a[i]!.key) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): { key: number; id: number } {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.key > a[m]!.key) m = l;
        if (r < a.length && a[r]!.key > a[m]!.key) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Adaptive widths: greedy allocation of `budgetBits` (for codes and side information; the width table is
 * paid by the caller) over groups, best distortion decrease per bit first. Returns a width per group.
 */
export function allocateBits(
  groups: readonly { count: number; range: number; pruneError: number; weight: number }[],
  budgetBits: number,
  maxBits = MAX_BITS,
): number[] {
  const ds = groups as readonly Draft[];
  const widths = new Array<number>(groups.length).fill(0);
  let left = budgetBits;
  const cost = (g: Draft, from: number, to: number) => g.count * (to - from) + (from === 0 ? SIDE_BITS : 0);
  const best = (id: number): { ratio: number; to: number } | null => {
    const g = ds[id]!;
    const from = widths[id]!;
    let out: { ratio: number; to: number } | null = null;
    for (let to = from + 1; to <= maxBits; to++) {
      const c = cost(g, from, to);
      if (c > left) break;
      const gain = distortion(g, from) - distortion(g, to);
      const ratio = gain / c;
      if (gain > 0 && (out === null || ratio > out.ratio)) out = { ratio, to };
    }
    return out;
  };
  const heap = new Heap();
  for (let i = 0; i < groups.length; i++) {
    const b = best(i);
    if (b) heap.push(b.ratio, i);
  }
  while (heap.size) {
    const { key, id } = heap.pop();
    const b = best(id);
    if (!b) continue;
    // the budget only shrinks, so a group's best ratio only falls: re-queue stale entries
    if (b.ratio < key) {
      heap.push(b.ratio, id);
      continue;
    }
    left -= cost(ds[id]!, widths[id]!, b.to);
    widths[id] = b.to;
    const next = best(id);
    if (next) heap.push(next.ratio, id);
  }
  return widths;
}

/** Quantize named parameter tensors (uniform or adaptive widths; see the module comment). */
export function quantizeParams(tensors: readonly ParamTensor[], options: QuantOptions): QuantizedParams {
  const bits = checkBits(options.bits);
  const groupSize = checkGroupSize(options.groupSize ?? DEFAULT_GROUP_SIZE);
  const { streams, values, weights } = buildStreams(tensors);
  const ds = drafts(streams, values, weights, groupSize);
  let widths: number[];
  if (options.adaptive) {
    const n = streams.reduce((a, s) => a + s.count, 0);
    const perParam =
      options.budgetBitsPerParam ??
      uniformBitsPerParam(
        streams.map((s) => s.count),
        bits,
        groupSize,
      );
    if (!(Number.isFinite(perParam) && perParam >= 0))
      throw new InputError(`budgetBitsPerParam must be a non-negative number, got ${describe(perParam)}`);
    const budget = Math.floor(perParam * n + 1e-9) - WIDTH_BITS * ds.length;
    widths = allocateBits(ds, Math.max(0, budget));
  } else widths = ds.map(() => bits);
  const codes = streams.map((s) => new Uint8Array(s.count));
  const groups: QuantGroup[] = ds.map((d, gi) => {
    const width = widths[gi]!;
    if (width === 0)
      return { stream: d.stream, start: d.start, count: d.count, width, offset: 0, scale: 0, range: d.range };
    const { offset, scale } = sideInfo(d.lo, d.range, width);
    const levels = 2 ** width - 1;
    const c = codes[d.stream]!;
    for (let i = 0; i < d.count; i++) {
      const k = scale > 0 ? Math.round((d.line[i]! - offset) / scale) : 0;
      c[d.start + i] = Math.min(levels, Math.max(0, k));
    }
    return { stream: d.stream, start: d.start, count: d.count, width, offset, scale, range: d.range };
  });
  return { scheme: options.adaptive ? 'adaptive' : 'uniform', groupSize, bits, streams, groups, codes };
}

/** Decoded values per tensor name (float64: `offset + scale · code`, exactly 0 in pruned groups). */
export function dequantizeParams(q: QuantizedParams): Map<string, Float64Array> {
  const streamValues = q.streams.map((s) => new Float64Array(s.count));
  for (const g of q.groups) {
    const out = streamValues[g.stream]!;
    const c = q.codes[g.stream]!;
    for (let i = g.start; i < g.start + g.count; i++) out[i] = g.width === 0 ? 0 : g.offset + g.scale * c[i]!;
  }
  const out = new Map<string, Float64Array>();
  q.streams.forEach((s, si) => {
    let o = 0;
    for (const t of s.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      out.set(t.name, streamValues[si]!.slice(o, o + n));
      o += n;
    }
  });
  return out;
}

/** The exact storage of a quantized set (what `encodeQuantized` writes, header excluded). */
export function bitAccount(q: QuantizedParams): BitAccount {
  const params = q.streams.reduce((a, s) => a + s.count, 0);
  let payloadBits = 0;
  let prunedGroups = 0;
  let prunedParams = 0;
  for (const g of q.groups) {
    payloadBits += g.width * g.count;
    if (g.width === 0) {
      prunedGroups++;
      prunedParams += g.count;
    }
  }
  const sideBits = SIDE_BITS * (q.groups.length - prunedGroups);
  const widthBits = q.scheme === 'adaptive' ? WIDTH_BITS * q.groups.length : 0;
  const totalBits = payloadBits + sideBits + widthBits;
  return {
    params,
    groups: q.groups.length,
    prunedGroups,
    prunedParams,
    payloadBits,
    sideBits,
    widthBits,
    totalBits,
    bitsPerParam: params ? totalBits / params : 0,
  };
}
