/** Quantized and mixed-precision adapters (METHOD.md §5): group quantization, packed storage, adapter dirs. */
export {
  adapterDeltas,
  adapterTensors,
  deltaSensitivities,
  type QuantizeReport,
  quantizeAdapterDir,
  relativeFrobenius,
  skeletonModel,
} from './adapter.ts';
export { BitReader, BitWriter } from './bitpack.ts';
export { exportPrunedQasm, isIdentityAngle, pruneCircuit } from './circuits.ts';
export { type DemoOptions, trainDemoAdapter } from './demo.ts';
export { isFinetuneRun, type RunEvaluator, runEvaluator } from './evaluate.ts';
export {
  CODES_TENSOR,
  decodeQuantized,
  dequantizeWeights,
  encodeQuantized,
  isQuantized,
  QUANT_METADATA_KEY,
  SIDE_TENSOR,
  WIDTHS_TENSOR,
} from './format.ts';
export { FP16_MAX, fp16Bits, fp16Ceil, fp16Floor, fp16Ulp, fp16Value } from './fp16.ts';
export {
  ANGLE_PERIOD,
  allocateBits,
  type BitAccount,
  bitAccount,
  checkBits,
  DEFAULT_GROUP_SIZE,
  dequantizeParams,
  distanceToZero,
  groupErrorBound,
  MAX_BITS,
  type ParamKind,
  type ParamTensor,
  type QuantGroup,
  type QuantizedParams,
  type QuantOptions,
  type QuantStream,
  quantizeParams,
  SIDE_BITS,
  sideInfo,
  uniformBitsPerParam,
  unwrapAngles,
  WIDTH_BITS,
} from './quantize.ts';
