/**
 * What the training engine trains on: a `Task` hands out seeded mini-batches, computes a batch's loss inside
 * the gradient tape and evaluates on held-out data. Pretraining, fine-tuning and the MobileNet experiment
 * each build one; the engine (`engine.ts`) does the rest.
 */
import type { tf } from '../tf/backend.ts';

/** How a metric is read: its name in tables, unit and direction. */
export interface MetricInfo {
  readonly name: 'accuracy' | 'bitsPerByte';
  readonly label: string;
  readonly higherIsBetter: boolean;
}

/** Classification accuracy (a fraction in results, a percentage in tables). */
export const ACCURACY: MetricInfo = { name: 'accuracy', label: 'accuracy (%)', higherIsBetter: true };
/** Validation bits per byte of a byte-level language model. */
export const BITS_PER_BYTE: MetricInfo = {
  name: 'bitsPerByte',
  label: 'bits per byte',
  higherIsBetter: false,
};

/** Running statistics a loss call adds to (the progress bar's training accuracy). */
export interface BatchStats {
  correct: number;
  count: number;
}

/** A training task bound to a model. */
export interface Task {
  readonly metric: MetricInfo;
  /**
   * Mini-batches of example indices for `epoch` (1-based), in order. Must be a pure function of the task's
   * seed, the epoch and the batch size: that is what makes a resumed run see the batches an uninterrupted one
   * would.
   */
  batches(epoch: number, batchSize: number): Int32Array[];
  /** Mean loss of a batch (called inside a gradient tape); adds accuracy counts to `stats` where it has them. */
  loss(batch: Int32Array, stats?: BatchStats): tf.Scalar;
  /** Held-out loss and metric (the metric in its natural unit: a fraction for accuracy). */
  evaluate(): { loss: number; metric: number };
}

/** `accuracy 97.12%` or `2.1340 bits/byte`. */
export function formatMetric(metric: MetricInfo, value: number): string {
  return metric.name === 'accuracy'
    ? `accuracy ${(100 * value).toFixed(2)}%`
    : `${value.toFixed(4)} bits/byte`;
}
