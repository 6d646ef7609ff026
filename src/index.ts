export * from './circuit/index.ts';
export * from './errors.ts';
export * from './expressivity/index.ts';
export * from './qasm/index.ts';
export * from './sim/index.ts';
export { gram, type Matrix, orthogonalityError, toRows, transposeData } from './util/matrix.ts';
export { createRng, type Rng, uniformAngles } from './util/random.ts';
