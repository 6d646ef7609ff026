/**
 * The three convolution-gradient kernels the tfjs wasm backend (4.22) does not register:
 * `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter`.
 * Without them no gradient flows back through a depthwise convolution on wasm (so nothing upstream of
 * MobileNet's depthwise layers can train), and a conv2d kernel cannot be trained. Each is registered for
 * wasm as a call of the CPU backend's kernel of the same name (bundled with @tensorflow/tfjs): inputs are
 * copied to the CPU backend, the CPU kernel runs, the result is copied back. Correct, and as fast as tfjs's
 * CPU loops; the forward passes and every other kernel stay on wasm.
 *
 * The depthwise input gradient is on the path of every backward pass through a MobileNet, so on wasm it
 * gets a faster form: the gradient of a (strided) depthwise correlation is the "full" correlation of the
 * zero-upsampled output gradient with the spatially flipped filter, which is one forward depthwise
 * convolution (wasm runs it natively), then a crop to the input.
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

/**
 * ∂/∂x of a depthwise convolution (depth multiplier 1) as a forward depthwise convolution: upsample dy by
 * the stride (zeros between), pad it by the dilated kernel extent minus one on every side, correlate with
 * the flipped filter, then crop the padded-input gradient back to x (the file comment says why).
 */
export function depthwiseInputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: [number, number] | number,
  pad: 'same' | 'valid' | number,
  dilations: [number, number] | number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      xShape,
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      undefined,
      true,
    );
    const [n, h, w, c] = xShape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const oh = info.outHeight;
    const ow = info.outWidth;
    let u: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const lh = (oh - 1) * sh + 1;
      const lw = (ow - 1) * sw + 1;
      u = tf
        .pad(dy.reshape([n, oh, 1, ow, 1, c]), [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ])
        .reshape([n, oh * sh, ow * sw, c])
        .slice([0, 0, 0, 0], [n, lh, lw, c]) as tf.Tensor4D;
    }
    const eh = (info.filterHeight - 1) * dh;
    const ew = (info.filterWidth - 1) * dw;
    const full = tf.depthwiseConv2d(
      tf.pad(u, [
        [0, 0],
        [eh, eh],
        [ew, ew],
        [0, 0],
      ]),
      tf.reverse(filter, [0, 1]),
      1,
      'valid',
      'NHWC',
      [dh, dw],
    );
    const { top, left } = info.padInfo;
    const [, gh, gw] = full.shape;
    const grown = tf.pad(full, [
      [0, 0],
      [0, Math.max(0, top + h - gh)],
      [0, Math.max(0, left + w - gw)],
      [0, 0],
    ]);
    return grown.slice([0, top, left, 0], [n, h, w, c]);
  });
}

let installed = false;

/** Register the missing kernels on wasm (idempotent; a no-op where wasm already has them). */
export function installWasmConvGradients(): void {
  if (installed) return;
  installed = true;
  installDepthwiseGradient();
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

/**
 * tfjs's gradient of `DepthwiseConv2dNative` with the input half replaced on wasm by
 * `depthwiseInputGradient` (depth multiplier 1; otherwise, and on other backends, tfjs's own kernels).
 */
function installDepthwiseGradient(): void {
  const original = tf.getGradient('DepthwiseConv2dNative');
  if (!original) return;
  tf.registerGradient({
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      if (tf.getBackend() !== 'wasm' || filter.shape[3] !== 1) return grads;
      const a = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'same' | 'valid' | number;
        dilations?: [number, number] | number;
      };
      return {
        ...grads,
        x: () =>
          depthwiseInputGradient(
            x.shape as [number, number, number, number],
            dy as tf.Tensor4D,
            filter,
            a.strides,
            a.pad,
            a.dilations ?? 1,
          ),
      };
    },
  });
}
