import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { fp16Ulp } from '../../../src/io/quant/fp16.ts';
import {
  ANGLE_PERIOD,
  bitAccount,
  dequantizeParams,
  type ParamTensor,
  quantizeParams,
  unwrapAngles,
} from '../../../src/io/quant/quantize.ts';
import { createRng } from '../../../src/util/random.ts';

const T = 4 * Math.PI;
/** Circular distance on the 4π circle. */
const circ = (a: number, b: number) => {
  const d = (((a - b) % T) + T) % T;
  return Math.min(d, T - d);
};

/** Independent reference for the shortest covering arc: try every value as the arc's start. */
function bruteArc(xs: number[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (const s of xs) {
    let r = 0;
    for (const x of xs) r = Math.max(r, (((x - s) % T) + T) % T);
    best = Math.min(best, r);
  }
  return best;
}

function tensor(name: string, kind: 'angle' | 'real', values: number[]): ParamTensor {
  return { name, kind, shape: [values.length], values };
}

/** Check |x − q(x)| ≤ scale/2 per group, and scale against the textbook Δ/(2^b − 1) up to the fp16 slack. */
function checkBounds(tensors: ParamTensor[], bits: number, groupSize: number) {
  const q = quantizeParams(tensors, { bits, groupSize });
  const dec = dequantizeParams(q);
  for (const g of q.groups) {
    const s = q.streams[g.stream]!;
    // the stream's original values, in name order
    const orig = [...s.tensors].flatMap((t) => Array.from(tensors.find((x) => x.name === t.name)!.values));
    const got = s.tensors.flatMap((t) => [...dec.get(t.name)!]);
    let lo = Number.POSITIVE_INFINITY;
    for (let i = g.start; i < g.start + g.count; i++) {
      const d = s.kind === 'angle' ? circ(orig[i]!, got[i]!) : Math.abs(orig[i]! - got[i]!);
      expect(d).toBeLessThanOrEqual(g.scale / 2 + 1e-12 * (1 + Math.abs(orig[i]!)));
      lo = Math.min(lo, orig[i]!);
    }
    const levels = 2 ** g.width - 1;
    // scale = fp16Ceil((hi − fp16Floor(lo)) / levels): at most (Δ + one fp16 ulp of the offset)/levels, rounded up
    const slackLo = fp16Ulp(g.offset === 0 ? 2 ** -14 : Math.abs(g.offset) * 2);
    expect(g.scale).toBeLessThanOrEqual(((g.range + slackLo) / levels) * (1 + 2 ** -10) + 2 ** -24);
    expect(g.scale * levels).toBeGreaterThanOrEqual(g.range * (1 - 1e-12));
    if (s.kind === 'real')
      expect(g.range).toBeCloseTo(Math.max(...orig.slice(g.start, g.start + g.count)) - lo, 12);
  }
  return q;
}

describe('uniform quantization: the per-group error bound', () => {
  it('holds for random real groups of every width and scale', () => {
    const rng = createRng(7);
    for (const bits of [8, 4, 3, 2, 1]) {
      for (const scale of [1e-4, 0.01, 1, 300]) {
        const v = Array.from({ length: 300 }, () => scale * (rng.normal() + 0.5));
        checkBounds([tensor('lambda', 'real', v)], bits, 128);
      }
    }
  });

  it('holds for angles placed anywhere, across the ±π and ±2π seams', () => {
    const rng = createRng(11);
    for (const bits of [8, 4, 3, 2, 1]) {
      for (const c of [0, Math.PI, -Math.PI, 2 * Math.PI, -2 * Math.PI, 5]) {
        // a tight cluster around c, each value shown shifted by a random multiple of 4π
        const v = Array.from(
          { length: 200 },
          () => c + 0.2 * rng.normal() + T * Math.round(4 * rng.next() - 2),
        );
        const q = checkBounds([tensor('theta', 'angle', v)], bits, 64);
        for (const g of q.groups) expect(g.range).toBeLessThan(2.5); // not ~4π
      }
      const wide = Array.from({ length: 256 }, () => -Math.PI + 2 * Math.PI * rng.next());
      checkBounds([tensor('theta', 'angle', wide)], bits, 128);
    }
  });

  it('finds the shortest covering arc (checked against a brute-force search)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -40, max: 40, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (xs) => {
          const u = unwrapAngles(xs, ANGLE_PERIOD);
          expect(u.range).toBeCloseTo(bruteArc(xs), 9);
          xs.forEach((x, i) => {
            expect(u.values[i]).toBeGreaterThanOrEqual(u.lo);
            expect(u.values[i]).toBeLessThanOrEqual(u.lo + u.range);
            expect(circ(u.values[i]!, x)).toBeLessThan(1e-9);
          });
          expect(Math.abs(u.lo + u.range / 2)).toBeLessThanOrEqual(T / 2 + 1e-9);
        },
      ),
    );
  });

  it('is exact on values already on the grid (1 bit: two values)', () => {
    const q = quantizeParams([tensor('x', 'real', [0.5, 1.5, 0.5, 1.5])], { bits: 1 });
    expect([...dequantizeParams(q).get('x')!]).toEqual([0.5, 1.5, 0.5, 1.5]);
    expect(q.groups[0]).toMatchObject({ offset: 0.5, scale: 1, width: 1 });
  });
});

describe('bits-per-parameter accounting', () => {
  const rng = createRng(3);
  const vals = (n: number) => Array.from({ length: n }, () => rng.normal());

  it('is b + 0.25 for full groups of 128', () => {
    for (const b of [8, 4, 3, 2, 1]) {
      const a = bitAccount(quantizeParams([tensor('t', 'real', vals(1280))], { bits: b }));
      expect(a.bitsPerParam).toBe(b + 0.25);
      expect(a.totalBits).toBe(1280 * b + 10 * 32);
    }
  });

  it('counts a last partial group per stream exactly', () => {
    // 300 angles (3 groups: 128, 128, 44) + 50 reals in two tensors (1 group of 50)
    const t = [
      tensor('a.theta_p', 'angle', vals(200)),
      tensor('b.theta_q', 'angle', vals(100)),
      tensor('a.lambda', 'real', vals(20)),
      tensor('b.lambda', 'real', vals(30)),
    ];
    for (const b of [8, 4, 3, 2, 1]) {
      const a = bitAccount(quantizeParams(t, { bits: b }));
      expect(a.params).toBe(350);
      expect(a.groups).toBe(4);
      expect(a.totalBits).toBe(350 * b + 4 * 32);
      expect(a.bitsPerParam).toBe(b + 128 / 350);
    }
    const g100 = bitAccount(quantizeParams(t, { bits: 4, groupSize: 100 }));
    expect(g100.totalBits).toBe(350 * 4 + (3 + 1) * 32);
  });

  it('adaptive: width table counted, budget respected, same budget as uniform by default', () => {
    const t = [
      tensor(
        'theta',
        'angle',
        vals(1000).map((x) => 0.3 * x),
      ),
      tensor('lambda', 'real', vals(300)),
    ];
    for (const b of [8, 4, 3, 2, 1]) {
      const u = bitAccount(quantizeParams(t, { bits: b }));
      const q = quantizeParams(t, { bits: b, adaptive: true });
      const a = bitAccount(q);
      const g = q.groups.length;
      expect(a.widthBits).toBe(4 * g);
      expect(a.totalBits).toBe(
        q.groups.reduce((s, x) => s + x.width * x.count + (x.width ? 32 : 0), 0) + 4 * g,
      );
      expect(a.totalBits).toBeLessThanOrEqual(u.totalBits);
    }
  });
});

describe('adaptive bit loading', () => {
  it('gives wide groups more bits and prunes groups of near-zero values', () => {
    const rng = createRng(5);
    // 4 groups of 128: ranges 1e-6, 0.01, 1, 10
    const v = [1e-6, 0.01, 1, 10].flatMap((s) => Array.from({ length: 128 }, () => s * rng.normal()));
    const q = quantizeParams([tensor('x', 'real', v)], { bits: 2, adaptive: true });
    const w = q.groups.map((g) => g.width);
    expect(w[0]).toBe(0);
    expect(w[1]!).toBeLessThanOrEqual(w[2]!);
    expect(w[2]!).toBeLessThanOrEqual(w[3]!);
    const dec = dequantizeParams(q).get('x')!;
    for (let i = 0; i < 128; i++) expect(dec[i]).toBe(0);
    // with a budget of 8.25 + 4/128 bits everything fits at 8 bits
    const full = quantizeParams([tensor('x', 'real', v)], {
      bits: 8,
      adaptive: true,
      budgetBitsPerParam: 8.25 + 4 / 128,
    });
    expect(full.groups.map((g) => g.width)).toEqual([8, 8, 8, 8]);
    // and a budget of 0 prunes everything
    const none = quantizeParams([tensor('x', 'real', v)], { bits: 1, adaptive: true, budgetBitsPerParam: 0 });
    expect(bitAccount(none).prunedParams).toBe(512);
  });

  it('never increases the squared error over uniform at the same budget on skewed groups', () => {
    const rng = createRng(9);
    const v = Array.from({ length: 2048 }, (_, i) => (i < 1024 ? 0.001 : 1) * rng.normal());
    const err = (adaptive: boolean, b: number) => {
      const q = quantizeParams([tensor('x', 'real', v)], { bits: b, adaptive });
      const d = dequantizeParams(q).get('x')!;
      return v.reduce((s, x, i) => s + (x - d[i]!) ** 2, 0);
    };
    for (const b of [4, 3, 2, 1]) expect(err(true, b)).toBeLessThan(err(false, b));
  });
});

describe('errors', () => {
  it('refuses bad bit widths, group sizes and values', () => {
    const t = [tensor('x', 'real', [1, 2, 3])];
    for (const bits of [0, 9, 2.5, Number.NaN, '4' as unknown as number])
      expect(() => quantizeParams(t, { bits })).toThrow(/bits must be an integer in 1..8/);
    expect(() => quantizeParams(t, { bits: 4, groupSize: 0 })).toThrow(InputError);
    expect(() => quantizeParams([tensor('x', 'real', [1, Number.NaN])], { bits: 4 })).toThrow(
      /value 1 is NaN/,
    );
    expect(() => quantizeParams([tensor('x', 'real', [1e6, 0])], { bits: 4 })).toThrow(/fp16 range/);
    expect(() =>
      quantizeParams([{ name: 'x', kind: 'real', shape: [2, 2], values: [1] }], { bits: 4 }),
    ).toThrow(/needs 4 values, got 1/);
    expect(() => quantizeParams([...t, ...t], { bits: 4 })).toThrow(/given twice/);
  });
});
