/**
 * The N-API addon in native/blas (built by `npm ci`, see scripts/build-native.mjs): OpenBLAS's batched
 * `gemm` for the wasm backend's matMul (native-matmul.ts) and the fused transformer kernels
 * (fused-ops.ts). Loaded once, lazily; where it is not built or does not load, both modules keep
 * tfjs's own kernels and `nativeAddonStatus()` says why. The addon checks every size and array length it
 * is given before reading or writing (a wrong call is an exception, never an access outside an array).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** What the addon exports (native/blas/qpeft_blas.c); arrays are row-major float32. */
export interface NativeAddon {
  /** Open the first library of `candidates` that has `cblas_sgemm`; its path, or null. */
  load(candidates: string[]): string | null;
  /** Set OpenBLAS's thread count; the count in use afterwards (−1 when the library cannot say). */
  threads(n: number): number;
  /** c[i] = op(a[i·strideA])·op(b[i·strideB]) for i < batch; op(a) m×k, op(b) k×n; stride 0 broadcasts. */
  gemm(
    transA: boolean,
    transB: boolean,
    batch: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    strideA: number,
    b: Float32Array,
    strideB: number,
    c: Float32Array,
  ): void;
  layerNorm(
    rows: number,
    d: number,
    eps: number,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
  ): void;
  layerNormGrad(
    rows: number,
    d: number,
    eps: number,
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  gelu(n: number, x: Float32Array, y: Float32Array): void;
  /** y = x·w + bias (x rows × din, w din × dout; bias null for none). Needs OpenBLAS loaded. */
  linear(
    rows: number,
    din: number,
    dout: number,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
  ): void;
  /** h = scaling·x·down (rows × r), y = base + h·up (rows × dout). Needs OpenBLAS loaded. */
  lowRank(
    rows: number,
    din: number,
    r: number,
    dout: number,
    scaling: number,
    x: Float32Array,
    down: Float32Array,
    up: Float32Array,
    base: Float32Array,
    h: Float32Array,
    y: Float32Array,
  ): void;
  /** out[j] = Σ_r x[r][j]. */
  colSums(rows: number, n: number, x: Float32Array, out: Float32Array): void;
  geluGrad(n: number, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** Needs OpenBLAS loaded (`load`). */
  attention(
    b: number,
    t: number,
    h: number,
    dh: number,
    causal: boolean,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    ctx: Float32Array,
    probs: Float32Array,
  ): void;
  /** Needs OpenBLAS loaded (`load`). */
  attentionGrad(
    b: number,
    t: number,
    h: number,
    dh: number,
    dy: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
  ): void;
}

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'native',
  'blas',
  'build',
  'Release',
  'qpeft_blas.node',
);

let loaded: NativeAddon | null | undefined;
let whyNot: string | null = null;

/** The addon, loaded on first use, or null when it is not built or does not load (see `nativeAddonStatus`). */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!existsSync(ADDON)) {
    whyNot = `the addon is not built (${path.relative(process.cwd(), ADDON)}; npm ci builds it with node-gyp)`;
    return null;
  }
  try {
    const a = require(ADDON) as Partial<NativeAddon>;
    // An addon built from an older checkout lacks the newer functions: rebuild rather than half-use it.
    if (typeof a.lowRank !== 'function') {
      whyNot = 'the addon is out of date (node scripts/build-native.mjs rebuilds it)';
      return null;
    }
    loaded = a as NativeAddon;
  } catch (e) {
    whyNot = `the addon did not load: ${(e as Error).message.split('\n')[0]}`;
  }
  return loaded;
}

/** Null when the addon is loaded, else why it is not. */
export function nativeAddonStatus(): string | null {
  nativeAddon();
  return whyNot;
}
