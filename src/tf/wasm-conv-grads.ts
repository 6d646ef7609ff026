/**
 * The three convolution-gradient kernels the tfjs wasm backend (4.22) does not register:
 * `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter`.
 * Without them no gradient flows back through a depthwise convolution on wasm (so nothing upstream of
 * MobileNet's depthwise layers can train), and a conv2d kernel cannot be trained. Each is registered for
 * wasm as a call of the CPU backend's kernel of the same name (bundled with @tensorflow/tfjs): inputs are
 * copied to the CPU backend, the CPU kernel runs, the result is copied back. Correct, and as fast as tfjs's
 * CPU loops; the forward passes and every other kernel stay on wasm.
 */
import * as tf from '@tensorflow/tfjs';

const MISSING = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
] as const;

interface DataBackend {
  readSync(dataId: unknown): ArrayLike<number>;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values: ArrayLike<number>): tf.TensorInfo;
  makeOutput?(
    shape: number[],
    dtype: tf.DataType,
    offset?: number,
    values?: ArrayLike<number>,
  ): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

let installed = false;

/** Register the missing kernels on wasm (idempotent; a no-op where wasm already has them). */
export function installWasmConvGradients(): void {
  if (installed) return;
  installed = true;
  for (const name of MISSING) {
    if (tf.getKernel(name, 'wasm')) continue;
    const cpuKernel = tf.getKernel(name, 'cpu');
    if (!cpuKernel) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const wasm = backend as unknown as DataBackend;
        const cpu = tf.findBackend('cpu') as unknown as DataBackend;
        const copied: tf.TensorInfo[] = [];
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [k, t] of Object.entries(inputs)) {
          if (!t) continue;
          const info = cpu.makeTensorInfo!([...t.shape], t.dtype, wasm.readSync(t.dataId));
          copied.push(info);
          cpuInputs[k] = info;
        }
        try {
          const out = cpuKernel.kernelFunc({
            inputs: cpuInputs,
            backend: cpu as unknown as tf.KernelBackend,
            attrs,
          }) as tf.TensorInfo;
          const values = cpu.readSync(out.dataId);
          cpu.disposeData(out.dataId, true);
          return wasm.makeOutput!([...out.shape], out.dtype, undefined, values);
        } finally {
          for (const t of copied) cpu.disposeData(t.dataId, true);
        }
      },
    });
  }
}
