/**
 * The wasm backend's `BatchMatMul` on OpenBLAS, through the small N-API addon in native/blas (built by
 * `npm ci`, see scripts/build-native.mjs) that opens the Debian library with dlopen.
 *
 * Why: tfjs-backend-wasm multiplies with XNNPACK compiled to 128-bit wasm SIMD. Measured on this project's
 * 2-core Xeon (`npm run bench -- torch`, one thread): a 4096×1024·1024×1024 float32 product takes ~700 ms in
 * XNNPACK and ~150 ms in OpenBLAS (~57 vs ~10 GFLOP/s), and that one product is two thirds of a LoRA layer
 * step. OpenBLAS also takes the transpose flags for free, so the gradient needs no explicit transposes.
 *
 * How: the operands and the output stay on the wasm heap; the addon gets Float32Array views of it (no copy)
 * and checks every extent before calling `cblas_sgemm`. Batch dimensions are flattened as tfjs's own kernel
 * does (equal batch sizes, or one side of batch size 1, broadcast); anything else — other dtypes, empty
 * shapes, other broadcasts, mismatched inner sizes — goes to the package's own kernel, so its results and
 * error messages are unchanged. The sums run in a different order than XNNPACK's, so results differ from the
 * plain wasm backend at float32 rounding (relative ~1e-7 per accumulated term).
 *
 * Off switch: `QPEFT_BLAS=0` (or no OpenBLAS / no addon) keeps tfjs's kernel; `describeBackend()` names the
 * library when it is in use.
 */
import * as tf from '@tensorflow/tfjs';
import { type NativeAddon, nativeAddon, nativeAddonStatus } from './native-addon.ts';
import { heapF32, type WasmBackendLike } from './wasm-heap.ts';

/** Where OpenBLAS lives on Debian (threaded build first) and the loader's own search as a fallback. */
const LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0',
  'libopenblas.so.0',
  'libopenblas.so',
];

let addon: NativeAddon | null = null;
let installedThreads = 0;

/** Why the native matMul is not in use (for `describeBackend` and tests), or null when it is. */
let unavailable: string | null = 'not started';

function loadAddon(): NativeAddon | null {
  if (process.env.QPEFT_BLAS === '0') {
    unavailable = 'QPEFT_BLAS=0';
    return null;
  }
  const a = nativeAddon();
  if (!a) {
    unavailable = nativeAddonStatus();
    return null;
  }
  if (a.load(LIBRARIES) === null) {
    unavailable = 'OpenBLAS was not found (apt-get install libopenblas0-pthread)';
    return null;
  }
  return a;
}

const sizeOf = tf.util.sizeFromShape;

/**
 * Route the wasm backend's `BatchMatMul` through OpenBLAS with `threads` BLAS threads. Returns true when the
 * kernel is installed (idempotent; a later call only changes the thread count), false when it cannot be
 * (`nativeMatMulStatus()` says why). Call after the wasm backend has started.
 */
export function installNativeMatMul(threads: number): boolean {
  if (installedThreads > 0) {
    if (addon && threads !== installedThreads) addon.threads(threads);
    installedThreads = threads;
    return true;
  }
  addon = loadAddon();
  if (!addon) return false;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) {
    unavailable = 'the wasm backend has no BatchMatMul kernel registered';
    return false;
  }
  const blas = addon;
  blas.threads(threads);
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const plain =
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      ra >= 2 &&
      rb >= 2 &&
      k === kb &&
      m * n * k > 0 &&
      (batchA === batchB || batchA === 1 || batchB === 1);
    if (!plain) return original.kernelFunc(args);
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput([...outer, m, n], 'float32');
    // Views after makeOutput: allocating may grow the heap and replace its buffer.
    blas.gemm(
      transposeA,
      transposeB,
      batch,
      m,
      n,
      k,
      heapF32(backend, a, batchA * m * k),
      batchA === 1 ? 0 : m * k,
      heapF32(backend, b, batchB * k * n),
      batchB === 1 ? 0 : k * n,
      heapF32(backend, out, batch * m * n),
    );
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
  installedThreads = threads;
  unavailable = null;
  return true;
}

/** Whether the wasm backend's products run on OpenBLAS in this process. */
export function nativeMatMulActive(): boolean {
  return installedThreads > 0 && addon !== null;
}

/** `OpenBLAS matMul (1 thread)` while the native matMul is in use, else null. */
export function nativeMatMulDescription(): string | null {
  if (!nativeMatMulActive()) return null;
  return `OpenBLAS matMul (${installedThreads} thread${installedThreads === 1 ? '' : 's'})`;
}

/** Null while the native matMul is in use, else the reason it is not. */
export function nativeMatMulStatus(): string | null {
  return unavailable;
}
