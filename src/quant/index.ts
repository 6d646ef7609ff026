/**
 * Quantized and mixed-precision adapters (docs/method.md §5): adapter directories in and out, pruned
 * circuits, a synthetic demo adapter. The numeric codec underneath lives in `io/quant/`; sweeps that score
 * quantized adapters on a task live in `experiments/`.
 */

export * from '../io/quant/index.ts';
export {
  adapterDeltas,
  adapterTensors,
  deltaSensitivities,
  type QuantizeReport,
  quantizeAdapterDir,
  relativeFrobenius,
  skeletonModel,
} from './adapter.ts';
export { exportPrunedQasm, isIdentityAngle, pruneCircuit } from './circuits.ts';
export { type DemoOptions, trainDemoAdapter } from './demo.ts';
