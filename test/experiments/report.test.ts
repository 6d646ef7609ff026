import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import type { FinetuneResult } from '../../src/experiments/finetune.ts';
import { aggregate, markdownTable, meanStd, plotSpec } from '../../src/experiments/report.ts';
import { ACCURACY, BITS_PER_BYTE } from '../../src/train/tasks.ts';

function run(label: string, method: string, seed: number, value: number, params = 100): FinetuneResult {
  return {
    label,
    method: { method },
    data: 'mnist',
    base: 'b',
    seed,
    metric: ACCURACY,
    value,
    evalLoss: 1,
    trainableParams: params,
    adapterParams: params - 10,
    headParams: 10,
    closedFormParams: params,
    totalParams: 1000,
    targets: [],
    steps: 5,
    seconds: seed + 1,
    samplesPerSecond: 10,
    resumedFromStep: 0,
    settings: {
      epochs: 1,
      lr: 1,
      batchSize: 1,
      weightDecay: 0,
      warmupSteps: null,
      trainLimit: null,
      evalLimit: null,
      maxSteps: null,
    },
    history: [],
    backend: 'cpu',
    files: [],
  };
}

describe('experiment reports', () => {
  it('mean and sample standard deviation', () => {
    expect(meanStd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, std: Math.sqrt(32 / 7) });
    expect(meanStd([3])).toEqual({ mean: 3, std: 0 });
    expect(() => meanStd([])).toThrow(InputError);
  });

  it('aggregates seeds per method, accuracy in percent', () => {
    const rows = aggregate([
      run('LoRA K=1', 'lora', 0, 0.9),
      run('QP', 'quantum-peft', 0, 0.8, 50),
      run('LoRA K=1', 'lora', 1, 0.8),
    ]);
    expect(rows.map((r) => r.label)).toEqual(['LoRA K=1', 'QP']);
    expect(rows[0]!.mean).toBeCloseTo(85, 10);
    expect(rows[0]!.std).toBeCloseTo(Math.sqrt(50), 10);
    expect(rows[0]!.seconds).toBe(1.5);
    expect(rows[0]!.seeds).toEqual([0, 1]);
  });

  it('refuses runs of one method that disagree on the parameter count', () => {
    expect(() => aggregate([run('A', 'lora', 0, 0.5, 10), run('A', 'lora', 1, 0.5, 11)])).toThrow(
      /disagree on the trainable parameter count \(10, 11\)/,
    );
  });

  it('formats the table and the log-scale plot', () => {
    const rows = aggregate([run('LoRA K=1', 'lora', 0, 0.9, 12345), run('LoRA K=1', 'lora', 1, 0.7, 12345)]);
    expect(markdownTable(rows, ACCURACY).split('\n')[2]).toBe(
      '| LoRA K=1 | 12,345 | 12,335 | 80.00 ± 14.14 | 2 | 1.5 s |',
    );
    const spec = plotSpec(rows, BITS_PER_BYTE, 't') as {
      layer: { encoding: { x: { scale: { type: string } } } }[];
    };
    expect(spec.layer[0]!.encoding.x.scale.type).toBe('log');
  });
});
