/**
 * tfjs-backend-wasm's multi-threaded SIMD build, started so that it works under Node.
 *
 * The package's own start-up (`init()` in backend_wasm.js) fails or falls back under Node for three reasons,
 * each fixed here without touching node_modules:
 * 1. It hands emscripten the pthread worker as a `blob:` URL; Node's `worker_threads.Worker` accepts only
 *    file paths (and file:/data: URL objects) and throws `ERR_WORKER_PATH`. Here the worker is a real file,
 *    `wasm-pthread-worker.cjs`, that evaluates the package's worker source.
 * 2. It passes the main script to each worker as a `Blob`; the emscripten worker loads it with
 *    `fs.readFileSync`, which cannot read a blob. Here it is the path of the package's own
 *    `wasm-out/tfjs-backend-wasm-threaded-simd.js`.
 * 3. The C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes two hyper-threads per
 *    core), and that import is `os.cpus().length` under Node: on a 2-core machine every thread count is
 *    capped to 1, whatever `setThreadsCount` asked for. Here the import answers `2 × threads` so that the
 *    requested count is what XNNPACK's pool gets (still capped at the 8 workers the build pre-creates).
 * The module is then wrapped in the package's own `BackendWasm`, so every registered wasm kernel runs as
 * usual. Emscripten pre-creates 8 workers; the ones the pool will not use are terminated before they load
 * the wasm module, and the pool's workers are unref'd so that they never keep the process alive.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';

const require = createRequire(import.meta.url);

/** The most threads the threaded build can use (its emscripten pthread pool has 8 workers). */
export const MAX_WASM_THREADS = 8;

/** What this file needs from the emscripten module object. */
interface EmscriptenThreadedModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => unknown;
  PThread: { unusedWorkers: Worker[]; runningWorkers: Worker[] };
  tfjs?: Record<string, unknown>;
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<EmscriptenThreadedModule>;

/** The one WebAssembly call used here (the project's TypeScript lib has no DOM/WebAssembly types). */
interface WasmInstantiate {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmInstantiate };

function wasmOutFile(name: string): string {
  return require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${name}`);
}

/** Instantiate the threaded SIMD module with `threads` pool threads (main thread included). */
async function instantiateThreaded(threads: number): Promise<EmscriptenThreadedModule> {
  const mainScript = wasmOutFile('tfjs-backend-wasm-threaded-simd.js');
  const wasmFile = wasmOutFile('tfjs-backend-wasm-threaded-simd.wasm');
  const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wasm-pthread-worker.cjs');
  const factory = require(mainScript) as ThreadedFactory;
  const config: Record<string, unknown> = {
    mainScriptUrlOrBlob: mainScript,
    locateFile: (file: string, prefix: string) =>
      file.endsWith('.worker.js') ? workerScript : file.endsWith('.wasm') ? wasmFile : prefix + file,
    instantiateWasm: (
      info: { env: Record<string, unknown> },
      receive: (instance: object, module: object) => void,
    ) => {
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      // Emscripten made its 8 workers before asking for the instance (config is its Module object); the
      // pool starts threads − 1 of them, so the rest are stopped before they compile the module.
      const pool = (config as unknown as EmscriptenThreadedModule).PThread;
      for (const w of pool.unusedWorkers.splice(Math.max(threads - 1, 1))) void w.terminate();
      wasmApi.instantiate(readFileSync(wasmFile), info).then(
        (r) => receive(r.instance, r.module),
        (e: unknown) => (config.onAbort as (e: unknown) => void)(e),
      );
      return {};
    },
  };
  const failed = new Promise<never>((_, reject) => {
    config.onAbort = (what: unknown) =>
      reject(new InputError(`the threaded wasm backend failed to start: ${String(what)}`));
  });
  const module = await Promise.race([factory(config), failed]);
  // The same bridge functions the package's init() attaches (BackendWasm and the kernels call them).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Register tfjs's `wasm` backend as the threaded SIMD build with `threads` threads (2…8), replacing the
 * package's registration; `tf.setBackend('wasm')` then starts it. Returns a function that reports the
 * thread count XNNPACK actually got once the backend has started.
 */
export async function registerThreadedWasm(threads: number): Promise<() => number> {
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WASM_THREADS) {
    throw new InputError(`threaded wasm needs 2…${MAX_WASM_THREADS} threads, got ${threads}`);
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(threads);
  if ('wasm' in tf.engine().registryFactory) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await instantiateThreaded(threads);
      // biome-ignore lint/suspicious/noExplicitAny: BackendWasm's constructor type is the package's internal module type.
      const backend = new wasm.BackendWasm(module as any);
      for (const w of module.PThread.runningWorkers) w.unref();
      return backend;
    },
    2,
  );
  return () => wasm.getThreadsCount();
}
