/** qpeft: Quantum-PEFT adapters from small real quantum circuits. Named re-exports only. */
export * from './circuit/index.ts';
export * from './data/index.ts';
export * from './errors.ts';
export * from './experiments/index.ts';
export * from './expressivity/index.ts';
export * from './hardware/index.ts';
export {
  LOCK_FILE,
  lockOutputDir,
  type OutputDirLock,
  prepareOutputDir,
  releaseAllLocks,
  withOutputDir,
} from './io/output.ts';
export { READ_LIMITS, readFileBounded, readJsonBounded, readTextBounded, resolveInside } from './io/read.ts';
export * from './models/index.ts';
export * from './nn/index.ts';
export * from './peft/index.ts';
export * from './qasm/index.ts';
export * from './quant/index.ts';
export * from './sim/index.ts';
export * from './sim/tf/index.ts';
export {
  BACKENDS,
  type BackendName,
  type BackendOptions,
  backendThreads,
  describeBackend,
  initBackend,
  parseThreads,
} from './tf/backend.ts';
export { installFastMatMulGradient } from './tf/fast-matmul.ts';
export * from './train/index.ts';
export { gram, type Matrix, orthogonalityError, toRows, transposeData } from './util/matrix.ts';
export { createRng, type Rng, uniformAngles } from './util/random.ts';
