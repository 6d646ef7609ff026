/** qpeft: Quantum-PEFT adapters from small real quantum circuits. Named re-exports only. */
export * from './circuit/index.ts';
export * from './errors.ts';
export * from './sim/index.ts';
export { type Matrix, gram, orthogonalityError, toRows, transposeData } from './util/matrix.ts';
export { createRng, type Rng, uniformAngles } from './util/random.ts';
