/**
 * The wasm backend's `Identity` as a shared reference instead of a copy.
 *
 * Why: while gradients are recorded, tfjs's engine clones every tensor an op saves for its backward pass
 * (`saveTensorsForBackwardMode` → `Identity`). tfjs-backend-wasm implements `Identity` as a full copy on the
 * heap, the cpu backend as a reference (`incRef`). Measured on a LoRA step of a 1024×1024 linear over 4,096
 * tokens (`npm run bench -- torch`): 12–14 copies of 16 MB per step, ~50 ms of a ~400 ms step, and twice the
 * activation memory. tfjs tensors are immutable (every kernel writes a new allocation; `Variable.assign`
 * swaps the data id), so sharing the data is safe — it is what the same backend's `Reshape` already does.
 */
import * as tf from '@tensorflow/tfjs';

let installed = false;

/** Replace wasm's copying `Identity` with a reference-counted share. Idempotent; call once wasm has started. */
export function installSharedIdentity(): void {
  if (installed) return;
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return;
  installed = true;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      // Strings live outside the heap; the package's kernel handles them.
      if (x.dtype === 'string') return original.kernelFunc(args);
      (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  });
}
