// Helpers of the wasm backend tests (threads.test.ts, native-matmul.test.ts): run threads-probe.ts in a
// child process under a chosen QPEFT_THREADS / QPEFT_BLAS, and the same computation in float64 loops.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../../src/tf/backend.ts';
import { attention, gelu, layerNorm, linear } from '../../src/tf/fused-ops.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const PROBE = path.join(ROOT, 'test/tf/threads-probe.ts');

export interface Probe {
  describe: string;
  threads: number;
  product: number[];
  grad: number[];
  /** Whether the probe's block ran on the fused kernels. */
  fused: boolean;
  /** Loss and input gradient of the probe's attention block (fusedBlock). */
  blockValue: number;
  blockGrad: number[];
}

/**
 * The probe's attention block: x [2, 5, 8] and its loss Σ r·gelu(linear(attention(layerNorm(x), x, x, 2 heads,
 * causal))), on the fused kernels or, under `useFusedKernels(false)`, on tfjs's composite ops.
 */
export function fusedBlock(): { x: tf.Tensor3D; loss: (x: tf.Tensor) => tf.Scalar } {
  const vals = (len: number, seed: number) =>
    Float32Array.from({ length: len }, (_, i) => Math.sin(0.53 * i + seed) * Math.cos(0.29 * i * seed + 0.4));
  const g = tf.tensor1d(vals(8, 2));
  const b = tf.tensor1d(vals(8, 3));
  const w = tf.tensor2d(vals(64, 4), [8, 8]);
  const r = tf.tensor3d(vals(80, 5), [2, 5, 8]);
  return {
    x: tf.tensor3d(vals(80, 1), [2, 5, 8]),
    loss: (x) => tf.sum(tf.mul(gelu(linear(attention(layerNorm(x, g, b, 1e-5), x, x, 2, true), w, b)), r)),
  };
}

/** Run the probe; `blas` '0' keeps every product on XNNPACK (the build under test), '1' allows OpenBLAS. */
export function probe(threads: string, blas = '0'): Probe {
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE], {
    cwd: ROOT,
    env: { ...process.env, QPEFT_THREADS: threads, QPEFT_BLAS: blas },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0)
    throw new Error(`probe with ${threads} threads failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe;
}

/** The same computation as the probe, in float64 plain loops. */
export function reference(): { product: Float64Array; grad: Float64Array } {
  const [m, k, n] = [96, 80, 72];
  const fill = (len: number, seed: number) =>
    Float64Array.from({ length: len }, (_, i) =>
      Math.fround(Math.sin(0.37 * i + seed) * Math.cos(0.11 * i * seed + 1)),
    );
  const a = fill(m * k, 1);
  const b = fill(k * n, 2);
  const product = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
      product[i * n + j] = s;
    }
  const g = product.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
  const grad = new Float64Array(k * n);
  for (let t = 0; t < k; t++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += a[i * k + t]! * g[i * n + j]!;
      grad[t * n + j] = s;
    }
  return { product, grad };
}

export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

/** Largest absolute difference relative to the largest |want| (a scale-free error for float32 results). */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / Math.max(den, 1e-30);
}

const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0';

/**
 * Whether a native-path test file runs: true when `active`; otherwise it prints why and skips — except
 * where skipping would hide a broken set-up, which throws: an addon built from older sources (a pull without
 * `npm ci`), or CI with OpenBLAS installed (scripts/setup-apt.sh) and the switch `offSwitch` not set.
 */
export function nativePathOrSkip(
  what: string,
  active: boolean,
  why: string | null,
  offSwitch: string,
): boolean {
  if (active) return true;
  if (why?.includes('out of date'))
    throw new Error(`${what}: ${why}; the tests would skip and check nothing`);
  if (
    process.env.CI &&
    existsSync(OPENBLAS) &&
    process.env[offSwitch] !== '0' &&
    process.env.QPEFT_BLAS !== '0'
  )
    throw new Error(`CI has OpenBLAS but ${what} is not active: ${why}`);
  console.log(`${what} tests skipped: ${why}`);
  return false;
}
