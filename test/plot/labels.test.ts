import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeLabels, textWidth } from '../../src/plot/labels.ts';

const layout = {
  width: 460,
  height: 300,
  xDomain: [100, 1e6] as [number, number],
  yDomain: [0, 100] as [number, number],
  xLog: true,
  fontSize: 10,
};
// Pixel position of a data point, written out independently of the module (log x, y up).
const px = (x: number) => ((Math.log10(x) - 2) / 4) * 460;
const py = (y: number) => 300 - (y / 100) * 300;

describe('placeLabels', () => {
  it('never lets two labels overlap, nor a label cover a point, for crowded random charts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            x: fc.double({ min: 200, max: 5e5, noNaN: true }),
            y: fc.double({ min: 5, max: 95, noNaN: true }),
            text: fc.string({ minLength: 1, maxLength: 30 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (points) => {
          const placed = placeLabels(points, layout);
          expect(placed).toHaveLength(points.length);
          const h = 12;
          const boxes = placed.map((l) => {
            const x0 = px(l.x);
            const yc = py(l.y);
            return { x0, x1: x0 + textWidth(l.text, 10), y0: yc - h / 2, y1: yc + h / 2 };
          });
          const hit = (a: (typeof boxes)[0], b: (typeof boxes)[0]) =>
            a.x0 < b.x1 - 1e-6 && b.x0 < a.x1 - 1e-6 && a.y0 < b.y1 - 1e-6 && b.y0 < a.y1 - 1e-6;
          for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) expect(hit(boxes[i]!, boxes[j]!)).toBe(false);
            for (const p of points) {
              const dot = { x0: px(p.x) - 5, x1: px(p.x) + 5, y0: py(p.y) - 5, y1: py(p.y) + 5 };
              expect(hit(boxes[i]!, dot)).toBe(false);
            }
          }
          placed.forEach((l, i) => {
            expect(l.text).toBe(points[i]!.text);
            expect([l.px, l.py]).toEqual([points[i]!.x, points[i]!.y]);
          });
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  // Every label box inside the plot area and clear of every other label, point and error bar: checked in
  // pixels computed here, not by the module. `boxesOf` maps placed labels to their text boxes.
  const boxesOf = (placed: ReturnType<typeof placeLabels>, lay: typeof layout) => {
    const lpx = (x: number) =>
      ((Math.log10(x) - Math.log10(lay.xDomain[0])) /
        (Math.log10(lay.xDomain[1]) - Math.log10(lay.xDomain[0]))) *
      lay.width;
    const lpy = (y: number) =>
      lay.height - ((y - lay.yDomain[0]) / (lay.yDomain[1] - lay.yDomain[0])) * lay.height;
    return {
      lpx,
      lpy,
      boxes: placed.map((l) => {
        const x0 = lpx(l.x);
        const yc = lpy(l.y);
        return { x0, x1: x0 + textWidth(l.text, lay.fontSize), y0: yc - 6, y1: yc + 6 };
      }),
    };
  };
  const hits = (a: { x0: number; x1: number; y0: number; y1: number }, b: typeof a) =>
    a.x0 < b.x1 - 1e-6 && b.x0 < a.x1 - 1e-6 && a.y0 < b.y1 - 1e-6 && b.y0 < a.y1 - 1e-6;
  const expectInsideAndApart = (
    points: readonly { x: number; y: number; lo?: number; hi?: number }[],
    placed: ReturnType<typeof placeLabels>,
    lay: typeof layout,
  ) => {
    const { lpx, lpy, boxes } = boxesOf(placed, lay);
    boxes.forEach((b, i) => {
      expect(b.x0, `label ${i} left edge`).toBeGreaterThanOrEqual(-1e-6);
      expect(b.x1, `label ${i} right edge`).toBeLessThanOrEqual(lay.width + 1e-6);
      expect(b.y0, `label ${i} top edge`).toBeGreaterThanOrEqual(-1e-6);
      expect(b.y1, `label ${i} bottom edge`).toBeLessThanOrEqual(lay.height + 1e-6);
      for (let j = i + 1; j < boxes.length; j++) expect(hits(b, boxes[j]!), `labels ${i}, ${j}`).toBe(false);
      for (const p of points) {
        const dot = { x0: lpx(p.x) - 5, x1: lpx(p.x) + 5, y0: lpy(p.y) - 5, y1: lpy(p.y) + 5 };
        expect(hits(b, dot), `label ${i} on a point`).toBe(false);
        if (p.lo !== undefined && p.hi !== undefined) {
          const bar = { x0: lpx(p.x) - 1, x1: lpx(p.x) + 1, y0: lpy(p.hi), y1: lpy(p.lo) };
          expect(hits(b, bar), `label ${i} on an error bar`).toBe(false);
        }
      }
    });
  };

  it('keeps every label inside the plot area and apart when the points crowd into one corner', () => {
    // Clusters of long labels near an edge: no spot near a point is free for the last ones, so they must
    // go further away, still inside the area (the old fallback stacked them below the x axis).
    fc.assert(
      fc.property(
        fc.constantFrom<'bottom' | 'top' | 'left' | 'right'>('bottom', 'top', 'left', 'right'),
        fc.array(
          fc.record({
            u: fc.double({ min: 0, max: 1, noNaN: true }),
            v: fc.double({ min: 0, max: 1, noNaN: true }),
            text: fc.string({ minLength: 12, maxLength: 24 }),
            std: fc.double({ min: 0, max: 30, noNaN: true }),
          }),
          { minLength: 6, maxLength: 16 },
        ),
        (edge, raw) => {
          // A cluster 60 px wide and 40 px tall against the chosen edge (in pixels, then back to data).
          const cx = edge === 'left' ? 20 : edge === 'right' ? 440 : 230;
          const cy = edge === 'top' ? 15 : edge === 'bottom' ? 285 : 150;
          const points = raw.map(({ u, v, text, std }) => {
            const y = 100 - ((cy + (v - 0.5) * 20) / 300) * 100;
            // error bars clipped to the y domain, as a chart whose domain covers mean ± std would have
            return {
              x: 10 ** (2 + ((cx + (u - 0.5) * 40) / 460) * 4),
              y,
              text,
              lo: Math.max(0, y - std),
              hi: Math.min(100, y + std),
            };
          });
          const placed = placeLabels(points, {
            ...layout,
            bars: points.map((p) => ({ x: p.x, y0: p.lo, y1: p.hi })),
          });
          expectInsideAndApart(points, placed, layout);
        },
      ),
      { numRuns: 60, seed: 5 },
    );
  });

  it('places the labels of experiment 4 (12 methods, error bars) inside the plot area', () => {
    // The chart of results/mobilenet as first drawn: "Quantum-PEFT K=16 L=4" landed on the x axis.
    const rows: [string, number, number, number][] = [
      ['full fine-tuning of the 1×1 convs', 2137482, 30.17, 15.79],
      ['linear probe', 12810, 29, 1.89],
      ['BitFit', 22698, 30.83, 2.12],
      ['LoRA K=1', 31338, 35.67, 9.9],
      ['LoRA K=4', 86922, 35.67, 7.54],
      ['LoRA K=8', 161034, 35.5, 0.24],
      ['Quantum-PEFT K=4 L=1', 16524, 26.83, 12.96],
      ['Quantum-PEFT K=4 L=2', 18738, 30, 5.19],
      ['Quantum-PEFT K=4 L=4', 23166, 30.67, 0.47],
      ['Quantum-PEFT K=16 L=1', 16932, 25.33, 3.3],
      ['Quantum-PEFT K=16 L=2', 19146, 25.33, 9.43],
      ['Quantum-PEFT K=16 L=4', 23574, 37.83, 1.18],
    ];
    const lo = Math.min(...rows.map((r) => r[2] - r[3]));
    const hi = Math.max(...rows.map((r) => r[2] + r[3]));
    const pad = 0.06 * (hi - lo);
    const lay = {
      ...layout,
      xDomain: [1e4, 1e7] as [number, number],
      yDomain: [lo - pad, hi + pad] as [number, number],
    };
    const points = rows.map(([text, x, y, s]) => ({ text, x, y, lo: y - s, hi: y + s }));
    const placed = placeLabels(points, {
      ...lay,
      bars: points.map((p) => ({ x: p.x, y0: p.lo, y1: p.hi })),
    });
    expectInsideAndApart(points, placed, lay);
  });

  it('puts a lone label right beside its point, without a leader line', () => {
    const [l] = placeLabels([{ x: 1000, y: 50, text: 'LoRA K=1' }], layout);
    expect(px(l!.x) - px(1000)).toBeCloseTo(10, 6);
    expect(l!.y).toBeCloseTo(50, 9);
    expect(l!.leader).toBe(false);
  });
});
