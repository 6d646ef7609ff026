export {
  COUNTS_FORMATS,
  type CountsFormat,
  checkComplete,
  countsToJson,
  type Histogram,
  keyToIndex,
  parseCountsObject,
  readCounts,
} from './counts.ts';
export {
  chooseLayout,
  DEVICE_NAMES,
  type Device,
  type DeviceErrors,
  deviceFromCouplingFile,
  deviceSuccessProbability,
  eagleEdges,
  findPath,
  getDevice,
  type LayoutChoice,
} from './devices.ts';
export {
  BASIS_CHANGE_ANGLE,
  columnSettings,
  measurementCircuit,
  type Setting,
  settingLabel,
} from './measurement.ts';
export { type IbmGate, type IbmProgram, optimizeIbm, type ProgramStats, programStats } from './optimize.ts';
export {
  adapterFactors,
  buildPlan,
  checkRowBasis,
  checkShots,
  MAX_PLAN_QUBITS,
  type MeasurementPlan,
  PLAN_BIT_ORDER,
  PLAN_FILE,
  type PlanCircuit,
  type PlanFactor,
  type PlanLayer,
  type PlanOptions,
  type PlanPrograms,
  planCircuitProgram,
  planFactorRecord,
  readPlan,
  type SignReference,
  templateFactor,
  widthPlanFactor,
  writePlan,
} from './plan.ts';
export {
  columnsOf,
  estimateColumn,
  type FactorEstimate,
  type LayerEstimate,
  polarFactor,
  type Reconstruction,
  reconstruct,
  reconstructFactor,
  reconstructionJson,
  reconstructionText,
  symmetricEigen,
  writeReconstructedAdapter,
} from './reconstruct.ts';
export {
  planProgram,
  SDK_CALLS,
  SDK_PROGRAM_FILES,
  SDK_PROGRAM_TARGETS,
  type SdkProgramTarget,
  singleCircuitProgram,
} from './sdk-programs.ts';
export {
  aliasSampler,
  checkNoise,
  NOISELESS,
  type NoiseModel,
  parseNoise,
  type SampleOptions,
  sampleCounts,
} from './shots.ts';
export { circuitSeed, type SimBatch, type SimulateOptions, simulateBatch, simulatePlan } from './simulate.ts';
