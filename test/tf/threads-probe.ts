// Child process of threads.test.ts and native-matmul.test.ts: start the wasm backend with QPEFT_THREADS from
// the environment, run a matMul and the gradient of a small loss, and a small causal attention block through
// the fused ops (fused-ops.ts) with its input gradient; print the results and the thread count as one JSON
// line.
import { backendThreads, describeBackend, initBackend, tf } from '../../src/tf/backend.ts';
import { fusedKernelsActive } from '../../src/tf/fused-ops.ts';
import { fusedBlock } from './wasm-probe.ts';

const [m, k, n] = [96, 80, 72];
const fill = (len: number, seed: number) =>
  Float32Array.from({ length: len }, (_, i) => Math.sin(0.37 * i + seed) * Math.cos(0.11 * i * seed + 1));

await initBackend('wasm');
const a = tf.tensor2d(fill(m * k, 1), [m, k]);
const b = tf.tensor2d(fill(k * n, 2), [k, n]);
const product = tf.matMul(a, b);
// L = Σ tanh(a·b)²: ∂L/∂b = aᵀ·(2·tanh·(1 − tanh²))
const grad = tf.grad((bb: tf.Tensor) => tf.sum(tf.square(tf.tanh(tf.matMul(a, bb)))))(b);
const block = fusedBlock();
const blockGrad = tf.grad(block.loss)(block.x);
process.stdout.write(
  `${JSON.stringify({
    describe: describeBackend(),
    threads: backendThreads(),
    product: Array.from(product.dataSync()),
    grad: Array.from(grad.dataSync()),
    fused: fusedKernelsActive(),
    blockValue: block.loss(block.x).dataSync()[0],
    blockGrad: Array.from(blockGrad.dataSync()),
  })}\n`,
);
