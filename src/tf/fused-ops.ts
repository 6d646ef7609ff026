/**
 * Fused ops for the wasm backend: layer normalisation, GELU, the attention core (softmax(q·kᵀ/√d_h)·v over
 * heads), the dense layer x·W + b and LoRA's low-rank update base + s·(x·A)·B, each one kernel forward and
 * one per needed gradient backward, with closed-form gradients.
 *
 * Why: a training step of the shipped ViT (width 64, batch 32) ran ~1,630 tfjs kernels, and at that width
 * the engine's per-kernel work (tape node, saved-tensor clones, shape checks) cost more than the arithmetic:
 * PyTorch took 43 ms for the step, qpeft 107 (`npm run bench -- torch`, one thread). Built from tfjs's
 * primitives a layer norm is ~10 kernels forward and ~25 backward (two `moments`, whose gradient builds
 * a JavaScript array of ones per call), GELU 7 and ~15, the attention core with its head split 10 and ~20,
 * a dense layer 4 and ~6 (reshapes, bias add), a LoRA update 4 and ~8. With these ops the step runs 464
 * kernels.
 *
 * How: the arithmetic is C in the native addon (native/blas/qpeft_blas.c): this machine's V8 runs such loops
 * ~8× slower than gcc's code (4.7 vs 0.6 ns per element of GELU's polynomial, measured), and wasm's own
 * elementwise kernels would bring the kernel count back. The kernels work in place on the wasm heap (views
 * made after the outputs are allocated, because allocating can grow the heap). Products run on OpenBLAS;
 * the attention core's per batch and head, addressing the heads inside `[B, T, D]` through the leading
 * dimension (no transposes), with the softmax probabilities kept as a second output for the backward pass.
 * Where a kernel cannot run — another backend, no addon, no OpenBLAS for the ops with products, a
 * non-float32 input — each op computes the same function from tfjs's primitives (the `…Composite`
 * functions), so callers need not care which path runs. `QPEFT_FUSED=0` keeps the composite ops everywhere.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';
import { type NativeAddon, nativeAddon } from './native-addon.ts';
import { nativeMatMulActive } from './native-matmul.ts';
import { heapF32, type WasmBackendLike } from './wasm-heap.ts';

const LAYER_NORM = 'QpeftLayerNorm';
const LAYER_NORM_GRAD = 'QpeftLayerNormGrad';
const GELU = 'QpeftGelu';
const GELU_GRAD = 'QpeftGeluGrad';
const ATTENTION = 'QpeftAttention';
const ATTENTION_GRAD = 'QpeftAttentionGrad';
const LINEAR = 'QpeftLinear';
const LINEAR_GRAD_X = 'QpeftLinearGradX';
const LINEAR_GRAD_W = 'QpeftLinearGradW';
const COLUMN_SUMS = 'QpeftColumnSums';
const LOW_RANK = 'QpeftLowRank';
const LOW_RANK_GRAD_H = 'QpeftLowRankGradH';

/** √(2/π) and the cubic coefficient of GELU's tanh approximation. */
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** The addon while the kernels are installed, else null. */
let native: NativeAddon | null = null;
let installed = false;
let enabled = true;

const sizeOf = tf.util.sizeFromShape;
const lastDim = (shape: readonly number[]) => shape[shape.length - 1]!;

/** Whether the fused kernels are installed and the active backend is the one they are written for. */
export function fusedKernelsActive(): boolean {
  return native !== null && enabled && tf.getBackend() === 'wasm';
}

/**
 * Turn the fused kernels off (`false`: every op takes its composite path) or back on, in this process;
 * returns the previous setting. For side-by-side measurements and tests; `QPEFT_FUSED=0` is the switch
 * for a whole run.
 */
export function useFusedKernels(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

const allFloat32 = (...xs: tf.Tensor[]) => xs.every((x) => x.dtype === 'float32');

/** One row-major product on the wasm heap, `out = op(a)·op(b)` with op(a) m×k and op(b) k×n. */
function heapGemm(
  wb: WasmBackendLike,
  [transA, transB]: [boolean, boolean],
  [m, n, k]: [number, number, number],
  a: tf.TensorInfo | Float32Array,
  b: tf.TensorInfo | Float32Array,
  out: tf.TensorInfo | Float32Array,
): void {
  const view = (t: tf.TensorInfo | Float32Array, size: number) =>
    t instanceof Float32Array ? t : heapF32(wb, t, size);
  native!.gemm(transA, transB, 1, m, n, k, view(a, m * k), 0, view(b, k * n), 0, view(out, m * n));
}

const shapeText = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** The `InputError` naming the op, what it expected and the shapes it got (built only on failure). */
function shapeError(op: string, expected: string, got: Record<string, tf.Tensor>): InputError {
  const given = Object.entries(got)
    .map(([k, t]) => `${k} ${shapeText(t)}`)
    .join(', ');
  return new InputError(`${op} expects ${expected}, got ${given}`);
}

// ---------------------------------------------------------------------------------------------------------
// Layer normalisation over the last axis.

/** Layer norm from tfjs's primitives: (x − mean)/√(var + eps)·gamma + beta over the last axis. */
export function layerNormComposite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
  });
}

/**
 * Layer normalisation over the last axis of `x` with scale `gamma` and shift `beta` (both `[d]`, d = the
 * last dimension): one kernel forward and one backward on wasm, else `layerNormComposite`.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape.at(-1);
  if (!(x.rank >= 1 && gamma.rank === 1 && beta.rank === 1 && gamma.shape[0] === d && beta.shape[0] === d))
    throw shapeError('layerNorm', 'gamma and beta of shape [d] for x [..., d]', { x, gamma, beta });
  if (!fusedKernelsActive() || !allFloat32(x, gamma, beta) || x.size === 0)
    return layerNormComposite(x, gamma, beta, eps);
  return tf
    .engine()
    .runKernel(LAYER_NORM, { x, gamma, beta }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

const layerNormKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  const b = backend as unknown as WasmBackendLike;
  const d = lastDim(x.shape);
  const n = sizeOf(x.shape);
  const out = b.makeOutput([...x.shape], 'float32');
  native!.layerNorm(
    n / d,
    d,
    eps,
    heapF32(b, x, n),
    heapF32(b, gamma, d),
    heapF32(b, beta, d),
    heapF32(b, out, n),
  );
  return out;
};

/** Outputs dx, dgamma, dbeta of layer norm for the upstream gradient dy. */
const layerNormGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, gamma } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; gamma: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  const b = backend as unknown as WasmBackendLike;
  const d = lastDim(x.shape);
  const n = sizeOf(x.shape);
  const dx = b.makeOutput([...x.shape], 'float32');
  const dgamma = b.makeOutput([d], 'float32');
  const dbeta = b.makeOutput([d], 'float32');
  native!.layerNormGrad(
    n / d,
    d,
    eps,
    heapF32(b, dy, n),
    heapF32(b, x, n),
    heapF32(b, gamma, d),
    heapF32(b, dx, n),
    heapF32(b, dgamma, d),
    heapF32(b, dbeta, d),
  );
  return [dx, dgamma, dbeta];
};

// ---------------------------------------------------------------------------------------------------------
// GELU, tanh approximation: 0.5·x·(1 + tanh z) = x·σ(2z), z = √(2/π)(x + 0.044715x³).

/** GELU from tfjs's primitives, computed as x·σ(2z) (wasm's sigmoid is vectorised, its tanh is not). */
export function geluComposite(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const z2 = tf.mul(2 * GELU_C, tf.add(x, tf.mul(GELU_A, tf.mul(x, tf.square(x)))));
    return tf.mul(x, tf.sigmoid(z2));
  });
}

/** GELU (tanh approximation, as GPT-2 and ViT use): one kernel forward and backward on wasm. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsActive() || !allFloat32(x) || x.size === 0) return geluComposite(x);
  return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
}

const geluKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as WasmBackendLike;
  const n = sizeOf(x.shape);
  const out = b.makeOutput([...x.shape], 'float32');
  native!.gelu(n, heapF32(b, x, n), heapF32(b, out, n));
  return out;
};

const geluGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const b = backend as unknown as WasmBackendLike;
  const n = sizeOf(x.shape);
  const out = b.makeOutput([...x.shape], 'float32');
  native!.geluGrad(n, heapF32(b, dy, n), heapF32(b, x, n), heapF32(b, out, n));
  return out;
};

// ---------------------------------------------------------------------------------------------------------
// Attention core: q, k, v [B, T, D] with `heads` heads of D/heads → softmax(q_h·k_hᵀ/√d_h [+ mask])·v_h,
// heads concatenated back to [B, T, D].

/** An additive mask `[T, T]`: 0 where query i may see key j (j ≤ i), −1e9 above the diagonal. */
export function causalMask(t: number): tf.Tensor2D {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
  return tf.tensor2d(m, [t, t]);
}

/** The attention core from tfjs's primitives (head split by reshape/transpose, additive causal mask). */
export function attentionComposite(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  causal: boolean,
): tf.Tensor {
  const [b, t, dim] = q.shape as [number, number, number];
  const dh = dim / heads;
  return tf.tidy(() => {
    const split = (y: tf.Tensor) => y.reshape([b, t, heads, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    let scores: tf.Tensor = tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(dh));
    if (causal) scores = tf.add(scores, causalMask(t));
    const attn = tf.softmax(scores, -1) as tf.Tensor4D;
    return tf.matMul(attn, split(v)).transpose([0, 2, 1, 3]).reshape([b, t, dim]);
  });
}

/**
 * Multi-head scaled dot-product attention of `q`, `k`, `v` (`[B, T, D]`, heads side by side along D) →
 * `[B, T, D]`; with `causal`, position i sees positions ≤ i. One kernel forward and backward on wasm with
 * OpenBLAS, else `attentionComposite`.
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  causal: boolean,
): tf.Tensor {
  const dim = q.shape[2];
  if (
    !(
      q.rank === 3 &&
      Number.isInteger(heads) &&
      heads >= 1 &&
      dim! % heads === 0 &&
      tf.util.arraysEqual(k.shape, q.shape) &&
      tf.util.arraysEqual(v.shape, q.shape)
    )
  )
    throw shapeError('attention', `q, k, v of one shape [batch, tokens, heads·d_h] with ${heads} heads`, {
      q,
      k,
      v,
    });
  if (!fusedKernelsActive() || !nativeMatMulActive() || !allFloat32(q, k, v) || q.size === 0)
    return attentionComposite(q, k, v, heads, causal);
  const [ctx, probs] = tf.engine().runKernel(ATTENTION, { q, k, v }, {
    heads,
    causal,
  } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  probs!.dispose();
  return ctx!;
}

interface AttentionAttrs {
  heads: number;
  causal: boolean;
}

/** Outputs ctx `[B, T, D]` and the probabilities `[B, H, T, T]` (saved for the backward pass). */
const attentionKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { q, k, v } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo; v: tf.TensorInfo };
  const { heads, causal } = attrs as unknown as AttentionAttrs;
  const [b, t, dim] = q.shape as [number, number, number];
  const n = b * t * dim;
  const wb = backend as unknown as WasmBackendLike;
  const ctx = wb.makeOutput([...q.shape], 'float32');
  const probs = wb.makeOutput([b, heads, t, t], 'float32');
  native!.attention(
    b,
    t,
    heads,
    dim / heads,
    causal,
    heapF32(wb, q, n),
    heapF32(wb, k, n),
    heapF32(wb, v, n),
    heapF32(wb, ctx, n),
    heapF32(wb, probs, b * heads * t * t),
  );
  return [ctx, probs];
};

/** Outputs dq, dk, dv for the upstream gradient dctx, from q, k, v and the saved probabilities. */
const attentionGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, q, k, v, probs } = inputs as Record<'dy' | 'q' | 'k' | 'v' | 'probs', tf.TensorInfo>;
  const { heads } = attrs as unknown as AttentionAttrs;
  const [b, t, dim] = q.shape as [number, number, number];
  const n = b * t * dim;
  const wb = backend as unknown as WasmBackendLike;
  const dq = wb.makeOutput([...q.shape], 'float32');
  const dk = wb.makeOutput([...q.shape], 'float32');
  const dv = wb.makeOutput([...q.shape], 'float32');
  const view = (info: tf.TensorInfo) => heapF32(wb, info, n);
  native!.attentionGrad(
    b,
    t,
    heads,
    dim / heads,
    view(dy),
    view(q),
    view(k),
    view(v),
    heapF32(wb, probs, b * heads * t * t),
    view(dq),
    view(dk),
    view(dv),
  );
  return [dq, dk, dv];
};

// ---------------------------------------------------------------------------------------------------------
// Dense layer: y = x·W + b over the last axis of x (any leading shape; W is d_in × d_out).

/** The dense layer from tfjs's primitives: rows of x times W, plus the bias, leading shape kept. */
export function linearComposite(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    let y: tf.Tensor = tf.matMul(x.reshape([-1, w.shape[0]!]) as tf.Tensor2D, w as tf.Tensor2D);
    if (bias) y = tf.add(y, bias);
    return y.reshape([...lead, w.shape[1]!]);
  });
}

/**
 * The dense layer `x·W + b` (x `[…, d_in]`, W `[d_in, d_out]`, b `[d_out]` or null): one kernel forward on
 * wasm with OpenBLAS (the product, then the bias, on the leading dimensions flattened in place: no
 * reshapes), and backward only the gradients that are needed (a frozen W costs nothing); else
 * `linearComposite`.
 */
export function linear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  if (
    !(
      x.rank >= 1 &&
      w.rank === 2 &&
      x.shape.at(-1) === w.shape[0] &&
      (bias === null || (bias.rank === 1 && bias.shape[0] === w.shape[1]))
    )
  )
    throw shapeError('linear', 'x [..., d_in], W [d_in, d_out] and bias [d_out]', {
      x,
      W: w,
      ...(bias ? { bias } : {}),
    });
  if (
    !fusedKernelsActive() ||
    !nativeMatMulActive() ||
    !allFloat32(x, w, ...(bias ? [bias] : [])) ||
    x.size === 0 ||
    w.size === 0
  )
    return linearComposite(x, w, bias);
  return tf.engine().runKernel(LINEAR, bias ? { x, w, bias } : { x, w }) as tf.Tensor;
}

const linearKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x, w, bias } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; bias?: tf.TensorInfo };
  const [din, dout] = w.shape as [number, number];
  const rows = sizeOf(x.shape) / din;
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([...x.shape.slice(0, -1), dout], 'float32');
  native!.linear(
    rows,
    din,
    dout,
    heapF32(b, x, rows * din),
    heapF32(b, w, din * dout),
    bias ? heapF32(b, bias, dout) : null,
    heapF32(b, out, rows * dout),
  );
  return out;
};

/** dx = dy·Wᵀ, shaped like x. */
const linearGradXKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, w } = inputs as { dy: tf.TensorInfo; w: tf.TensorInfo };
  const [din, dout] = w.shape as [number, number];
  const rows = sizeOf(dy.shape) / dout;
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([...dy.shape.slice(0, -1), din], 'float32');
  heapGemm(b, [false, true], [rows, din, dout], dy, w, out);
  return out;
};

/** dW = xᵀ·dy over the flattened rows. */
const linearGradWKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const din = lastDim(x.shape);
  const dout = lastDim(dy.shape);
  const rows = sizeOf(x.shape) / din;
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([din, dout], 'float32');
  heapGemm(b, [true, false], [din, dout, rows], x, dy, out);
  return out;
};

/** Column sums of dy over the flattened rows (the bias's gradient). */
const columnSumsKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const n = lastDim(x.shape);
  const rows = sizeOf(x.shape) / n;
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([n], 'float32');
  native!.colSums(rows, n, heapF32(b, x, rows * n), heapF32(b, out, n));
  return out;
};

// ---------------------------------------------------------------------------------------------------------
// Low-rank update (LoRA's forward): y = base + s·(x·down)·up, x [rows, d_in], down [d_in, r], up [r, d_out].

/** The low-rank update from tfjs's primitives. */
export function lowRankUpdateComposite(
  x: tf.Tensor2D,
  base: tf.Tensor2D,
  down: tf.Tensor2D,
  up: tf.Tensor2D,
  scaling: number,
): tf.Tensor2D {
  return tf.tidy(() => base.add(tf.matMul(tf.matMul(x, down).mul(scaling), up)) as tf.Tensor2D);
}

/**
 * `base + scaling·(x·down)·up` (LoRA's adapted output): one kernel forward on wasm with OpenBLAS, which
 * keeps h = scaling·x·down for the backward pass; backward one kernel for dh = scaling·dy·upᵀ and one product
 * per needed gradient (dx = dh·downᵀ, d down = xᵀ·dh, d up = hᵀ·dy). Else `lowRankUpdateComposite`.
 */
export function lowRankUpdate(
  x: tf.Tensor2D,
  base: tf.Tensor2D,
  down: tf.Tensor2D,
  up: tf.Tensor2D,
  scaling: number,
): tf.Tensor2D {
  if (
    !(
      x.rank === 2 &&
      base.rank === 2 &&
      down.rank === 2 &&
      up.rank === 2 &&
      x.shape[1] === down.shape[0] &&
      down.shape[1] === up.shape[0] &&
      base.shape[0] === x.shape[0] &&
      base.shape[1] === up.shape[1]
    )
  )
    throw shapeError('lowRankUpdate', 'x [rows, d_in], base [rows, d_out], down [d_in, r], up [r, d_out]', {
      x,
      base,
      down,
      up,
    });
  if (
    !fusedKernelsActive() ||
    !nativeMatMulActive() ||
    !allFloat32(x, base, down, up) ||
    x.size === 0 ||
    down.size === 0
  )
    return lowRankUpdateComposite(x, base, down, up, scaling);
  const [y, h] = tf.engine().runKernel(LOW_RANK, { x, base, down, up }, {
    scaling,
  } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  h!.dispose();
  return y as tf.Tensor2D;
}

/** Outputs y and h = scaling·x·down. */
const lowRankKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, base, down, up } = inputs as Record<'x' | 'base' | 'down' | 'up', tf.TensorInfo>;
  const { scaling } = attrs as unknown as { scaling: number };
  const [rows, din] = x.shape as [number, number];
  const [r, dout] = up.shape as [number, number];
  const b = backend as unknown as WasmBackendLike;
  const yInfo = b.makeOutput([rows, dout], 'float32');
  const hInfo = b.makeOutput([rows, r], 'float32');
  native!.lowRank(
    rows,
    din,
    r,
    dout,
    scaling,
    heapF32(b, x, rows * din),
    heapF32(b, down, din * r),
    heapF32(b, up, r * dout),
    heapF32(b, base, rows * dout),
    heapF32(b, hInfo, rows * r),
    heapF32(b, yInfo, rows * dout),
  );
  return [yInfo, hInfo];
};

/** dh = scaling·dy·upᵀ. */
const lowRankGradHKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, up } = inputs as { dy: tf.TensorInfo; up: tf.TensorInfo };
  const { scaling } = attrs as unknown as { scaling: number };
  const [rows, dout] = dy.shape as [number, number];
  const r = up.shape[0]!;
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([rows, r], 'float32');
  const dh = heapF32(b, out, rows * r);
  heapGemm(b, [false, true], [rows, r, dout], dy, up, dh);
  for (let i = 0; i < dh.length; i++) dh[i]! *= scaling;
  return out;
};

// ---------------------------------------------------------------------------------------------------------

/**
 * Register the fused kernels and their gradients for the wasm backend (idempotent; call once wasm has
 * started). `QPEFT_FUSED=0` or a missing addon leaves them out, so every op takes its composite path.
 */
export function installFusedKernels(): void {
  if (installed || process.env.QPEFT_FUSED === '0') return;
  installed = true;
  native = nativeAddon();
  if (!native) return;
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: object = {}) =>
    tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor[];
  for (const [kernelName, kernelFunc] of [
    [LAYER_NORM, layerNormKernel],
    [LAYER_NORM_GRAD, layerNormGradKernel],
    [GELU, geluKernel],
    [GELU_GRAD, geluGradKernel],
    [ATTENTION, attentionKernel],
    [ATTENTION_GRAD, attentionGradKernel],
    [LINEAR, linearKernel],
    [LINEAR_GRAD_X, linearGradXKernel],
    [LINEAR_GRAD_W, linearGradWKernel],
    [COLUMN_SUMS, columnSumsKernel],
    [LOW_RANK, lowRankKernel],
    [LOW_RANK_GRAD_H, lowRankGradHKernel],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma] = saved as [tf.Tensor, tf.Tensor];
      const [dx, dgamma, dbeta] = run(LAYER_NORM_GRAD, { dy: dy as tf.Tensor, x, gamma }, attrs);
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.engine().runKernel(GELU_GRAD, { dy: dy as tf.Tensor, x }) as tf.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: ATTENTION,
    inputsToSave: ['q', 'k', 'v'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [q, k, v, probs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [dq, dk, dv] = run(ATTENTION_GRAD, { dy, q, k, v, probs }, attrs);
      return { q: () => dq!, k: () => dk!, v: () => dv! };
    },
  });
  tf.registerGradient({
    kernelName: LINEAR,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const [x, w] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const one = (name: string, inputs: tf.NamedTensorMap) => () =>
        tf.engine().runKernel(name, inputs) as tf.Tensor;
      return {
        x: one(LINEAR_GRAD_X, { dy: g, w }),
        w: one(LINEAR_GRAD_W, { dy: g, x }),
        bias: one(COLUMN_SUMS, { x: g }),
      };
    },
  });
  tf.registerGradient({
    kernelName: LOW_RANK,
    inputsToSave: ['x', 'down', 'up'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, down, up, h] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      // dh is needed for both dx and d down; one kernel, computed once here.
      const dh = tf.engine().runKernel(LOW_RANK_GRAD_H, { dy, up }, attrs as tf.NamedAttrMap) as tf.Tensor;
      const one = (name: string, inputs: tf.NamedTensorMap) => () =>
        tf.engine().runKernel(name, inputs) as tf.Tensor;
      return {
        x: one(LINEAR_GRAD_X, { dy: dh, w: down }),
        down: one(LINEAR_GRAD_W, { dy: dh, x }),
        up: one(LINEAR_GRAD_W, { dy, x: h }),
        base: () => dy.clone(),
      };
    },
  });
}
