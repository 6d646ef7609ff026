/**
 * One worker message's work: sample a batch of plan circuits. Kept apart from simulate.ts and plan.ts so that
 * a worker thread loads only the circuit IR, the kernels and the sampler: plan.ts reaches the adapter code and
 * tfjs, whose loading took 3.6 s per worker (measured), longer than sampling a 176-program plan in one thread.
 */
import { type Circuit, makeCircuit } from '../circuit/ir.ts';
import { measurementCircuit, type Setting } from './measurement.ts';
import { type NoiseModel, sampleCounts } from './shots.ts';

/** One batch of circuits for a worker: the factor circuits it needs and its tasks. */
export interface SimBatch {
  readonly factors: Readonly<Record<string, Circuit>>;
  readonly tasks: readonly {
    readonly index: number;
    readonly factor: string;
    /** The basis state prepared before the circuit (the plan circuit's `prepared`). */
    readonly prepared: number;
    readonly setting: Setting;
    readonly shots: number;
    readonly seed: number;
  }[];
  readonly noise: NoiseModel;
}

/** Sample every task of a batch: `[index, [[basis index, count], …]]` per task. */
export function simulateBatch(batch: SimBatch): [number, [number, number][]][] {
  const built = new Map<string, Circuit>();
  return batch.tasks.map((t) => {
    let c = built.get(t.factor);
    if (!c) {
      c = makeCircuit(batch.factors[t.factor]!);
      built.set(t.factor, c);
    }
    const counts = sampleCounts(measurementCircuit(c, t.prepared, t.setting), t.shots, {
      noise: batch.noise,
      seed: t.seed,
    });
    return [t.index, [...counts]];
  });
}
