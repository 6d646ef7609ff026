/**
 * Point labels that never print over each other. Vega-Lite has no collision avoidance for text marks, so
 * the chart's scales are fixed here (explicit domains) and each label gets a position in data coordinates:
 * the first of a few candidate spots around its point (right, left, above, below, at growing distance)
 * whose box lies inside the plot area and overlaps no placed label, no point and no error bar; when all of
 * those are taken, the free box nearest to the point anywhere inside the area (with a leader line). Text
 * widths are estimated from the font size, with a margin, since no font metrics are available before
 * rendering.
 */

/** A point to label, in data coordinates. */
export interface LabelPoint {
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

export interface LabelLayout {
  /** Plot area in pixels. */
  readonly width: number;
  readonly height: number;
  /** Explicit domains of the scales (the chart must use the same). */
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  readonly xLog?: boolean;
  readonly fontSize?: number;
  /** Vertical bars (error bars) labels must not cross, in data coordinates. */
  readonly bars?: readonly { readonly x: number; readonly y0: number; readonly y1: number }[];
}

/** Where a label's text starts (left-aligned, vertically centred), in data coordinates. */
export interface PlacedLabel {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  /** The point it labels, for a leader line when the label sits away from it. */
  readonly px: number;
  readonly py: number;
  /** Whether the label is far enough from its point to need a leader line. */
  readonly leader: boolean;
  /** Where a leader line from the point meets the label's box (data coordinates). */
  readonly lx: number;
  readonly ly: number;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

// A gap of `GAP` px around everything already drawn, so that a label never sits closer to a neighbour's
// mark than to its own point.
const GAP = 3;
const overlaps = (a: Box, b: Box) =>
  a.x0 - GAP < b.x1 && b.x0 - GAP < a.x1 && a.y0 - GAP < b.y1 && b.y0 - GAP < a.y1;

/** Estimated rendered width of `text` at `size` px in DejaVu Sans (wide glyphs: 0.6 em on average, generous). */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * 0.6 + 2;
}

// Labels keep this far from the left and right edges of the plot area (the axis line and the legend).
const EDGE = 2;
// Grid step, in px, of the search for a free box once the preferred spots around a point are taken.
const SCAN_STEP = 2;

/** Area shared by two boxes (0 when apart), counting the `GAP` margin as `overlaps` does. */
function overlapArea(a: Box, b: Box): number {
  const dx = Math.min(a.x1, b.x1 + GAP) - Math.max(a.x0, b.x0 - GAP);
  const dy = Math.min(a.y1, b.y1 + GAP) - Math.max(a.y0, b.y0 - GAP);
  return dx > 0 && dy > 0 ? dx * dy : 0;
}

/**
 * The `w`×`h` box inside the plot area (`width`×`height` px) that overlaps none of `taken` and lies nearest
 * to the point (`cx`, `cy`), found on a `SCAN_STEP` grid. When the area is so full that no such box exists,
 * the in-area box with the least overlap: a label is never pushed outside the plot, where it would sit on
 * an axis or the legend.
 */
function nearestFreeBox(
  cx: number,
  cy: number,
  w: number,
  h: number,
  width: number,
  height: number,
  taken: readonly Box[],
): Box {
  const xMax = Math.max(EDGE, width - EDGE - w);
  const yMax = Math.max(0, height - h);
  let best: Box | null = null;
  let bestKey = Infinity;
  let fallback: Box | null = null;
  let fallbackKey = Infinity;
  const along = (lo: number, hi: number) => {
    const out: number[] = [];
    for (let v = lo; v < hi; v += SCAN_STEP) out.push(v);
    out.push(hi);
    return out;
  };
  for (const x0 of along(EDGE, xMax)) {
    for (const y0 of along(0, yMax)) {
      const box = { x0, y0, x1: x0 + w, y1: y0 + h };
      // distance from the point to the nearest point of the box
      const dx = Math.max(box.x0 - cx, 0, cx - box.x1);
      const dy = Math.max(box.y0 - cy, 0, cy - box.y1);
      const dist = Math.hypot(dx, dy);
      if (!taken.some((t) => overlaps(t, box))) {
        if (dist < bestKey) {
          best = box;
          bestKey = dist;
        }
      } else if (!best) {
        const area = taken.reduce((a, t) => a + overlapArea(box, t), 0);
        const key = area * 1e6 + dist;
        if (key < fallbackKey) {
          fallback = box;
          fallbackKey = key;
        }
      }
    }
  }
  return best ?? fallback!;
}

/** Place one label per point without overlaps; see the module comment. */
export function placeLabels(points: readonly LabelPoint[], layout: LabelLayout): PlacedLabel[] {
  const size = layout.fontSize ?? 10;
  const [xa, xb] = layout.xLog
    ? [Math.log10(layout.xDomain[0]), Math.log10(layout.xDomain[1])]
    : layout.xDomain;
  const [ya, yb] = layout.yDomain;
  const toPx = (x: number) => (((layout.xLog ? Math.log10(x) : x) - xa) / (xb - xa)) * layout.width;
  const toPy = (y: number) => layout.height - ((y - ya) / (yb - ya)) * layout.height;
  const fromPx = (px: number) => {
    const v = xa + (px / layout.width) * (xb - xa);
    return layout.xLog ? 10 ** v : v;
  };
  const fromPy = (py: number) => ya + ((layout.height - py) / layout.height) * (yb - ya);
  const pts = points.map((p) => ({ ...p, cx: toPx(p.x), cy: toPy(p.y) }));
  const taken: Box[] = pts.map((p) => ({ x0: p.cx - 6, y0: p.cy - 6, x1: p.cx + 6, y1: p.cy + 6 }));
  for (const b of layout.bars ?? []) {
    const bx = toPx(b.x);
    taken.push({
      x0: bx - 1.5,
      y0: toPy(Math.max(b.y0, b.y1)),
      x1: bx + 1.5,
      y1: toPy(Math.min(b.y0, b.y1)),
    });
  }
  const h = size + 2;
  // Label crowded points first (most neighbours nearby), so they get the spots closest to them.
  const order = pts
    .map((p, i) => ({ i, crowd: pts.filter((q) => Math.hypot(q.cx - p.cx, q.cy - p.cy) < 60).length }))
    .sort((a, b) => b.crowd - a.crowd || a.i - b.i)
    .map((o) => o.i);
  const placed = new Map<number, PlacedLabel>();
  for (const i of order) {
    const p = pts[i]!;
    const w = textWidth(p.text, size);
    let best: Box | null = null;
    let bestDist = 0;
    for (let step = 0; step < 40 && !best; step++) {
      const d = 8 + step * (h / 2);
      const candidates: [number, number][] = [
        [p.cx + 10, p.cy - (step === 0 ? 0 : d - 8)],
        [p.cx + 10, p.cy + (step === 0 ? 0 : d - 8)],
        [p.cx - 10 - w, p.cy - (step === 0 ? 0 : d - 8)],
        [p.cx - 10 - w, p.cy + (step === 0 ? 0 : d - 8)],
        [p.cx - w / 2, p.cy - d - h / 2],
        [p.cx - w / 2, p.cy + d + h / 2],
      ];
      for (const [lx, ly] of candidates) {
        const box = { x0: lx, y0: ly - h / 2, x1: lx + w, y1: ly + h / 2 };
        // Inside the plot area: outside it, text would run into the axes or the legend.
        if (box.x0 < EDGE || box.x1 > layout.width - EDGE || box.y0 < 0 || box.y1 > layout.height) continue;
        if (taken.some((t) => overlaps(t, box))) continue;
        best = box;
        bestDist = Math.hypot(lx + (lx < p.cx ? w : 0) - p.cx, ly - p.cy);
        break;
      }
    }
    if (!best) {
      // Nowhere free at the preferred spots: the free box nearest to the point anywhere in the area.
      best = nearestFreeBox(p.cx, p.cy, w, h, layout.width, layout.height, taken);
      bestDist = Infinity;
    }
    taken.push(best);
    const endX = best.x0 > p.cx ? best.x0 - 1 : best.x1 < p.cx ? best.x1 + 1 : p.cx;
    const endY =
      best.x0 > p.cx || best.x1 < p.cx ? (best.y0 + best.y1) / 2 : best.y1 < p.cy ? best.y1 : best.y0;
    placed.set(i, {
      text: p.text,
      x: fromPx(best.x0),
      y: fromPy((best.y0 + best.y1) / 2),
      px: p.x,
      py: p.y,
      leader: bestDist > 14,
      lx: fromPx(endX),
      ly: fromPy(endY),
    });
  }
  return pts.map((_, i) => placed.get(i)!);
}
