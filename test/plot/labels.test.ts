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

  it('puts a lone label right beside its point, without a leader line', () => {
    const [l] = placeLabels([{ x: 1000, y: 50, text: 'LoRA K=1' }], layout);
    expect(px(l!.x) - px(1000)).toBeCloseTo(10, 6);
    expect(l!.y).toBeCloseTo(50, 9);
    expect(l!.leader).toBe(false);
  });
});
