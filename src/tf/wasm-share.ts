/**
 * The wasm backend's `Identity` and same-dtype `Cast` as shared references instead of heap copies.
 *
 * Why: while gradients are recorded, tfjs's engine clones every tensor an op saves for its backward pass
 * (`saveTensorsForBackwardMode` → `Identity`), and tfjs's own gradients of `Multiply`, `RealDiv`, `Square`,
 * `Sqrt` and `moments` cast float32 tensors to float32. tfjs-backend-wasm implements both kernels as full
 * copies on the heap; the cpu backend shares the data (`incRef`). Measured: on a LoRA step of a 1024×1024
 * linear over 4,096 tokens, 12–14 copies of 16 MB (~50 ms of a ~400 ms step, and twice the activation
 * memory); on a step of the shipped ViT (batch 32), 107 casts. tfjs tensors are immutable (every kernel
 * writes a new allocation; `Variable.assign` swaps the data id), so sharing is safe — it is what the same
 * backend's `Reshape` already does.
 */
import * as tf from '@tensorflow/tfjs';

let installed = false;

/** Share `x`'s data under a new tensor info (the backend counts references). */
function share(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Replace `kernelName` on wasm with `when(args) ? share : the package's kernel`. */
function override(kernelName: string, when: (args: Parameters<tf.KernelFunc>[0]) => boolean): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => (when(args) ? share(args) : original.kernelFunc(args)),
  });
}

/**
 * Make wasm's `Identity` and same-dtype `Cast` share their input's data (strings, which live outside the
 * heap, and real conversions keep the package's kernels). Idempotent; call once wasm has started.
 */
export function installSharedCopies(): void {
  if (installed) return;
  installed = true;
  const x = (args: Parameters<tf.KernelFunc>[0]) => (args.inputs as { x: tf.TensorInfo }).x;
  override('Identity', (args) => x(args).dtype !== 'string');
  override('Cast', (args) => {
    const { dtype } = args.attrs as unknown as { dtype: string };
    return x(args).dtype === dtype && dtype !== 'string';
  });
}
