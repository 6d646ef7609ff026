/**
 * TensorFlow.js backend selection: `tensorflow` (@tensorflow/tfjs-node, native, when it is installed;
 * it cannot install on machines without access to its binary download), else `wasm`, else `cpu`.
 * `QPEFT_BACKEND` or an explicit name chooses. The wasm backend runs single-threaded (SIMD build) or on
 * several cores (the threaded SIMD build, started as wasm-threads.ts explains); `QPEFT_THREADS` or the
 * `threads` option chooses, `1` is the single-threaded build. On wasm, products run on OpenBLAS where the
 * addon and the library are present (native-matmul.ts; `QPEFT_BLAS=0` keeps XNNPACK). Starting a backend
 * also installs the rank-2 `matMul` gradient that keeps XNNPACK off its naive transposed loop
 * (fast-matmul.ts), mean/sum gradients without JavaScript arrays of ones (fast-reductions.ts), the
 * batch-norm gradient without full-size tiles (fast-batchnorm.ts), the convolution-gradient kernels wasm
 * lacks (wasm-conv-grads.ts), wasm's shared Identity/Cast (wasm-share.ts) and the fused kernels of the dense
 * layer, LoRA update, layer norm, GELU and attention core (fused-ops.ts; the addon, `QPEFT_FUSED=0` off).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, InputError } from '../errors.ts';
import { installFastBatchNormGradient } from './fast-batchnorm.ts';
import { installFastMatMulGradient } from './fast-matmul.ts';
import { installFastReductionGradients } from './fast-reductions.ts';
import { installFusedKernels } from './fused-ops.ts';
import { installNativeMatMul, nativeMatMulDescription } from './native-matmul.ts';
import { installWasmConvGradients } from './wasm-conv-grads.ts';
import { installSharedCopies } from './wasm-share.ts';
import { MAX_WASM_THREADS, registerThreadedWasm } from './wasm-threads.ts';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);

/** How the wasm backend was registered in this process: `null` until the first `tryWasm`. */
let wasmThreads: number | null = null;
let wasmActualThreads: (() => number) | null = null;

/**
 * The thread count `auto` picks for the wasm backend: 1, the single-threaded SIMD build. XNNPACK wakes its
 * pool for every operation, which pays off only on large products (bench/torch.bench.ts measures the
 * 4096×1024 layer step both ways) and only while the cores are free: on the shipped ViT (width 64, batch 32)
 * a LoRA training step took 2.2–3.2× longer with 2 threads than with 1 on this project's busy 2-core
 * machine (notes/issue-17.md). Ask for threads explicitly (`--threads N`, `QPEFT_THREADS=N`) for wide layers.
 */
export function autoThreads(): number {
  return 1;
}

/** Every core this process may use, up to the threaded build's maximum (what `--threads max` asks for). */
export function maxThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, MAX_WASM_THREADS));
}

/**
 * Parse a thread request (`--threads`, `QPEFT_THREADS`): `auto`/empty/undefined → `autoThreads()`, `max` →
 * `maxThreads()`, else an integer 1…8. Anything else is an `InputError`.
 */
export function parseThreads(value: string | number | undefined): number {
  if (value === undefined || value === '' || value === 'auto') return autoThreads();
  if (value === 'max') return maxThreads();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new InputError(
      `threads must be "auto", "max" or an integer from 1 to ${MAX_WASM_THREADS} (1 = the single-threaded wasm build), got ${describe(value)}`,
    );
  }
  return n;
}

async function tryTensorflow(): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

async function tryWasm(threads: number): Promise<boolean> {
  if (wasmThreads !== null && wasmThreads !== threads) {
    throw new InputError(
      `the wasm backend already runs with ${wasmThreads} thread(s) in this process; it cannot restart with ${threads} (set QPEFT_THREADS before the first start)`,
    );
  }
  try {
    if (wasmThreads === null) {
      if (threads > 1) {
        wasmActualThreads = await registerThreadedWasm(threads);
      } else {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const dist = path.dirname(
          require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
        );
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        wasm.setWasmPaths(`${dist}${path.sep}`);
        wasmActualThreads = () => wasm.getThreadsCount();
      }
      wasmThreads = threads;
    }
    return await dropProcessHandlers(() => tf.setBackend('wasm'));
  } catch {
    return false;
  }
}

async function tryBackend(name: BackendName, threads: number): Promise<boolean> {
  if (name === 'tensorflow') return tryTensorflow();
  if (name === 'wasm') return tryWasm(threads);
  return tf.setBackend('cpu');
}

/** Options of `initBackend`. */
export interface BackendOptions {
  /** Threads of the wasm backend: a count 1…8, `max` or `auto` (default `QPEFT_THREADS`, else `auto`). */
  threads?: number | string;
}

/**
 * Run `start` and remove the `uncaughtException`/`unhandledRejection` listeners it added. The wasm
 * backend's emscripten glue installs listeners that re-throw every error from inside the handler, so Node
 * prints the handler's line (tens of kB of minified source) before the real error; without them an error
 * thrown after `initBackend()` reaches the user as Node reports any other.
 */
async function dropProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await start();
  } finally {
    for (const e of events) {
      for (const l of emitter.listeners(e)) {
        if (!before.get(e)?.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }
}

/**
 * The gradients and kernels every start installs (each idempotent); on wasm also the shared `Identity`/`Cast`
 * (wasm-share.ts), OpenBLAS's matMul (native-matmul.ts) and the fused transformer kernels.
 */
function installKernels(threads: number): void {
  if (tf.getBackend() === 'wasm') {
    installSharedCopies();
    installNativeMatMul(threads);
    installFusedKernels();
  }
  installFastMatMulGradient();
  installFastReductionGradients();
  installFastBatchNormGradient();
  installWasmConvGradients();
}

/**
 * Activate a backend and return its name. With no choice (and no `QPEFT_BACKEND`), the first that works of
 * tensorflow, wasm, cpu. An explicit choice that cannot start is an error, not a silent fallback. The wasm
 * backend's thread count is fixed by the first start in a process (see `BackendOptions.threads`).
 */
export async function initBackend(
  choice: string | undefined = process.env.QPEFT_BACKEND,
  options: BackendOptions = {},
): Promise<BackendName> {
  const threads = parseThreads(options.threads ?? process.env.QPEFT_THREADS);
  if (choice !== undefined && choice !== '' && choice !== 'auto') {
    if (!(BACKENDS as readonly string[]).includes(choice)) {
      throw new InputError(`unknown tfjs backend "${choice}"; expected one of auto, ${BACKENDS.join(', ')}`);
    }
    if (!(await tryBackend(choice as BackendName, threads))) {
      throw new InputError(
        choice === 'tensorflow'
          ? 'backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed here (npm i @tensorflow/tfjs-node)'
          : `backend "${choice}" failed to start${choice === 'wasm' && threads > 1 ? ` with ${threads} threads (QPEFT_THREADS=1 selects the single-threaded build)` : ''}`,
      );
    }
    await tf.ready();
    installKernels(threads);
    return choice as BackendName;
  }
  for (const name of BACKENDS) {
    if (await tryBackend(name, threads)) {
      await tf.ready();
      installKernels(threads);
      return name;
    }
  }
  throw new InputError('no tfjs backend could start');
}

/**
 * Threads the active backend computes on: XNNPACK's pool size for wasm, 1 for cpu, `null` for tensorflow
 * (its own intra-op pool, not visible from JavaScript).
 */
export function backendThreads(): number | null {
  const name = tf.getBackend();
  if (name === 'wasm') return wasmActualThreads ? wasmActualThreads() : null;
  if (name === 'cpu') return 1;
  return null;
}

/**
 * The active backend and its thread count for logs: `wasm (2 threads)`, `wasm (1 thread)`, `tensorflow`;
 * on wasm with products on OpenBLAS (native-matmul.ts) `wasm (1 thread) + OpenBLAS matMul (1 thread)`.
 */
export function describeBackend(): string {
  const name = tf.getBackend();
  const n = backendThreads();
  const base = n === null ? name : `${name} (${n} thread${n === 1 ? '' : 's'})`;
  const blas = name === 'wasm' ? nativeMatMulDescription() : null;
  return blas ? `${base} + ${blas}` : base;
}

export { tf };
