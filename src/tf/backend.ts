/**
 * TensorFlow.js backend selection: `tensorflow` (@tensorflow/tfjs-node, native, when it is installed;
 * it cannot install on machines without access to its binary download), else `wasm` (SIMD, single
 * thread: the threaded build fails under Node), else `cpu`. `QPEFT_BACKEND` or an explicit name chooses.
 * Starting a backend also installs the rank-2 `matMul` gradient that keeps wasm on XNNPACK (fast-matmul.ts).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';
import { installFastMatMulGradient } from './fast-matmul.ts';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);
let wasmRegistered = false;

async function tryTensorflow(): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    if (!wasmRegistered) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setWasmPaths(`${dist}${path.sep}`);
      wasmRegistered = true;
    }
    return await dropProcessHandlers(() => tf.setBackend('wasm'));
  } catch {
    return false;
  }
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
 * Activate a backend and return its name. With no choice (and no `QPEFT_BACKEND`), the first that works of
 * tensorflow, wasm, cpu. An explicit choice that cannot start is an error, not a silent fallback.
 */
export async function initBackend(
  choice: string | undefined = process.env.QPEFT_BACKEND,
): Promise<BackendName> {
  if (choice !== undefined && choice !== '' && choice !== 'auto') {
    if (!(BACKENDS as readonly string[]).includes(choice)) {
      throw new InputError(`unknown tfjs backend "${choice}"; expected one of auto, ${BACKENDS.join(', ')}`);
    }
    const ok =
      choice === 'tensorflow'
        ? await tryTensorflow()
        : choice === 'wasm'
          ? await tryWasm()
          : await tf.setBackend('cpu');
    if (!ok) {
      throw new InputError(
        choice === 'tensorflow'
          ? 'backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed here (npm i @tensorflow/tfjs-node)'
          : `backend "${choice}" failed to start`,
      );
    }
    await tf.ready();
    installFastMatMulGradient();
    return choice as BackendName;
  }
  for (const name of BACKENDS) {
    const ok =
      name === 'tensorflow'
        ? await tryTensorflow()
        : name === 'wasm'
          ? await tryWasm()
          : await tf.setBackend('cpu');
    if (ok) {
      await tf.ready();
      installFastMatMulGradient();
      return name;
    }
  }
  throw new InputError('no tfjs backend could start');
}

export { tf };
