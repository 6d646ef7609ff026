/**
 * Group quantization of parameter vectors and its packed safetensors storage (docs/method.md §5). Knows
 * nothing of adapters: `peft/serialize.ts` decodes packed files through it; `quant/` quantizes adapters.
 */
export { BitReader, BitWriter } from './bitpack.ts';
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
