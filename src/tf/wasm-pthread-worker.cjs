// The script each pthread of tfjs-backend-wasm's threaded SIMD build runs under Node's worker_threads
// (src/tf/wasm-threads.ts passes this file's path where emscripten asks for its `.worker.js`). The package
// ships the emscripten worker only as a string (`wasmWorkerContents`) and hands it to `new Worker` as a
// blob: URL, which Node refuses (ERR_WORKER_PATH); here the same string runs from a real file instead.
// Template-literal escaping turned its `\n` escapes into raw newlines inside string literals, so they are
// escaped back before it runs (the package does the same before making its Blob). The emscripten code
// expects `require` and `__filename` as globals, as in a classic script.
'use strict';
const vm = require('node:vm');
const {
  wasmWorkerContents,
} = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

globalThis.require = require;
globalThis.__filename = __filename;
vm.runInThisContext(wasmWorkerContents.replace(/\n/g, '\\n'), {
  filename: 'tfjs-backend-wasm-threaded-simd.worker.js',
});
