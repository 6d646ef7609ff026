import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import type { ExpressivityRow } from '../../src/expressivity/index.ts';
import { metricSpec, plotSweep, SWEEP_METRICS, svgToPng, vegaLiteToSvg } from '../../src/plot/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'qpeft-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(qubits: number, layers: number | null): ExpressivityRow {
  return {
    circuit: 'simplified-two-design',
    qubits,
    layers,
    columns: 1,
    params: qubits + 2 * (layers ?? 0) * (qubits - 1),
    samples: 100,
    expressibility: 1 / (1 + (layers ?? 0)) / qubits,
    expressibilityError: 0.001,
    expressibilityHaar: 0.2,
    expressibilityFloor: 0.01,
    entanglement: 1 - 1 / (1 + (layers ?? 0)),
    entanglementReference: 0.7,
    effectiveDimension: qubits + (layers ?? 0),
    manifoldDimension: 2 ** qubits - 1,
    redundancy: 0,
    gradVariance: 10 ** -qubits,
    gradVarianceLocal: 0.01,
    reachability: 0.5,
  };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): [number, number] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

describe('plots', () => {
  it('write one valid SVG and PNG per metric, atomically (no temporary files left)', async () => {
    const rows = [2, 3].flatMap((n) => [0, 1, 2].map((l) => row(n, l)));
    const written = await plotSweep(rows, dir);
    expect(written.length).toBe(2 * SWEEP_METRICS.length);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const svg = readFileSync(join(dir, 'expressibility.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect((svg.match(/class="mark-line/g) ?? []).length).toBeGreaterThan(0);
    expect(svg).toContain('layers L');
    const png = readFileSync(join(dir, 'expressibility.png'));
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const [w, h] = pngSize(png);
    expect(w).toBeGreaterThan(400);
    expect(h).toBeGreaterThan(200);
  });

  it('draw one line per qubit count', () => {
    const rows = [2, 3, 4].flatMap((n) => [0, 1].map((l) => row(n, l)));
    const spec = metricSpec(rows, SWEEP_METRICS[0]!) as {
      data: { values: { qubits: number; reference?: number }[] };
      layer: { encoding: { color: { field: string } } }[];
    };
    expect(new Set(spec.data.values.map((v) => v.qubits))).toEqual(new Set([2, 3, 4]));
    expect(spec.layer[0]!.encoding.color.field).toBe('qubits');
    expect(spec.layer.length).toBe(2); // the sampling floor, dashed
    expect(spec.data.values.every((v) => v.reference === 0.01)).toBe(true);
  });

  it('render an SVG to PNG and refuse what cannot be drawn', async () => {
    const svg = await vegaLiteToSvg({
      data: { values: [{ a: 1, b: 2 }] },
      mark: 'point',
      encoding: { x: { field: 'a' } },
    });
    const png = await svgToPng(svg, { scale: 1 });
    expect(png[1]).toBe(80); // 'P'
    await expect(plotSweep([row(3, null)], dir)).rejects.toThrow(InputError);
    await expect(vegaLiteToSvg([] as unknown as Record<string, unknown>)).rejects.toThrow(InputError);
  });
});
