export { adjointPass, expectationAndGradient, type VjpResult, vjp, vjpStates } from './adjoint.ts';
export { assertCapacity, memoryBudget, type RealDType } from './capacity.ts';
export { type CircuitMatrix, circuitMatrix } from './circuit-matrix.ts';
export { type ComplexMatrix, distanceUpToPhase, simulateComplex } from './complex.ts';
export { applyOp, assertReal, runProgram, type Vec } from './kernels.ts';
export { parameterShiftExpectation, parameterShiftGradient } from './parameter-shift.ts';
export { compile, gateAngles, OP, type Program, resolveTheta } from './program.ts';
export {
  allocate,
  applyToStates,
  basisBatch,
  checkSubspace,
  columns,
  leadingBasis,
  restrictRows,
  rowsTimes,
  type SimOptions,
  subspaceColumns,
  subspaceInputColumns,
  unitary,
} from './simulate.ts';
