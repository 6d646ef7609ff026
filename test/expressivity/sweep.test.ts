import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import { computeRow, runSweep, type SweepProgress, templateTasks } from '../../src/expressivity/index.ts';

const FAST = { samples: 150, reachTargets: 1, reachStarts: 1, reachSteps: 30 };

describe('sweeps', () => {
  it('are identical on 2 worker threads and in this thread, in task order, with progress reports', async () => {
    const tasks = templateTasks('simplified-two-design', [2, 3, 4], [0, 1, 3]);
    const seen: SweepProgress[] = [];
    const threaded = await runSweep(tasks, { ...FAST, seed: 5, workers: 2, onProgress: (p) => seen.push(p) });
    const inline = await runSweep(tasks, { ...FAST, seed: 5, workers: 0 });
    expect(threaded).toEqual(inline);
    expect(threaded.map((r) => [r.qubits, r.layers])).toEqual(
      tasks.map((t) => (t.kind === 'template' ? [t.qubits, t.layers] : [])),
    );
    expect(seen.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.every((p) => p.total === 9)).toBe(true);
    const other = await runSweep(tasks.slice(0, 2), { ...FAST, seed: 6, workers: 0 });
    expect(other[1]!.expressibility).not.toBe(inline[1]!.expressibility);
  });

  it('rows carry the issue’s fields with consistent values', () => {
    const row = computeRow(
      { kind: 'template', template: 'simplified-two-design', qubits: 4, layers: 1 },
      {
        ...FAST,
        columns: 2,
        seed: 0,
        bins: 75,
        rankPoints: 2,
        rankTolerance: 1e-9,
      },
    );
    expect(row).toMatchObject({
      qubits: 4,
      layers: 1,
      params: 10,
      effectiveDimension: 9,
      manifoldDimension: 29,
      redundancy: 1,
      entanglementReference: 14 / 18,
      expressibilityHaar: null,
    });
    for (const k of [
      'expressibility',
      'entanglement',
      'gradVariance',
      'gradVarianceLocal',
      'reachability',
    ] as const) {
      expect(Number.isFinite(row[k])).toBe(true);
    }
    expect(simplifiedTwoDesign(4, 1).params.length).toBe(row.params);
  });

  it('rejects bad settings before starting workers', async () => {
    const tasks = templateTasks('simplified-two-design', [2], [0]);
    await expect(runSweep(tasks, { columns: 5, workers: 2 })).rejects.toThrow(/exceeds 2\^2/);
    await expect(runSweep(tasks, { samples: 1 })).rejects.toThrow(InputError);
    expect(() => templateTasks('nope', [2], [0])).toThrow(/unknown template/);
  });
});
