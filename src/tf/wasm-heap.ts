/**
 * Views of tensors on tfjs-backend-wasm's heap, for kernels written in TypeScript or handed to the BLAS
 * addon (native-matmul.ts, fused-ops.ts). A view is valid until the next allocation: allocating can
 * grow the heap and replace its buffer, so a kernel allocates its outputs first and makes views after.
 */
import type * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels read. */
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** A Float32Array over the first `size` elements of `info`'s data on the wasm heap (no copy). */
export function heapF32(backend: WasmBackendLike, info: tf.TensorInfo, size: number): Float32Array {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('wasm kernel: a tensor is not on the wasm heap');
  return new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, size);
}
