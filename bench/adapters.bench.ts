/**
 * Adapters benchmark (issue 4): one training step (forward + backward + SGD update) of a frozen d×d linear
 * layer over B tokens, LoRA against Quantum-PEFT with the same K (two-design, L layers), for
 * (B, d, K, L) ∈ {(2048, 512, 8, 2), (4096, 1024, 8, 2), (8192, 1024, 8, 2)}. Quantum-PEFT runs with both
 * ways of building P and Q: `kernel` (the typed-array kernels through tf.customGrad, adjoint VJP) and `ops`
 * (the tfjs-ops statevector path, tfjs autodiff). The faster of the two is the adapters' default (`path`).
 * A second table times building P and Q alone (forward + backward), the cost that separates the methods.
 *
 * Goal: Quantum-PEFT ≤ 1.15× LoRA at (4096, 1024, 8, 2). Times are medians in ms from this one run.
 */
import { performance } from 'node:perf_hooks';
import { Linear } from '../src/nn/linear.ts';
import { Module } from '../src/nn/module.ts';
import { type ColumnsPath, factorColumns, planFactor } from '../src/peft/factor.ts';
import { PeftModel } from '../src/peft/index.ts';
import { initBackend, tf } from '../src/tf/backend.ts';
import { timeMs } from './timing.ts';

const SHAPES: readonly [B: number, d: number, K: number, L: number][] = [
  [2048, 512, 8, 2],
  [4096, 1024, 8, 2],
  [8192, 1024, 8, 2],
];

class One extends Module {
  readonly layer: Linear;
  constructor(d: number) {
    super();
    this.layer = this.setModule('layer', new Linear({ inFeatures: d, outFeatures: d, seed: 1 }));
  }
}

/** A training step of one adapted layer, as a closure (and its cleanup). */
function makeStep(
  d: number,
  x: tf.Tensor2D,
  config: Record<string, unknown>,
): { step: () => void; dispose: () => void } {
  const model = new One(d);
  const peft = new PeftModel(model, config);
  const opt = tf.train.sgd(1e-3);
  const vars = peft.trainableVariables();
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.layer.forward(x).square().mean() as tf.Scalar, vars);
      opt.applyGradients(grads);
      // read one value so that the step has finished when timing stops (asynchronous backends)
      vars[0]!.dataSync();
    });
  return {
    step,
    dispose: () => {
      opt.dispose();
      model.dispose();
    },
  };
}

/**
 * Median ms per step of each config, measured interleaved (one step of each in turn, `rounds` times) so
 * that drift in machine load and memory state hits every method alike.
 */
function interleaved(steps: (() => void)[], rounds: number): number[] {
  for (const s of steps) for (let i = 0; i < 2; i++) s();
  const times = steps.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    steps.forEach((s, i) => {
      const t0 = performance.now();
      s();
      times[i]!.push(performance.now() - t0);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

async function factorTime(d: number, k: number, layers: number, path: ColumnsPath): Promise<number> {
  const { plan, count } = planFactor(d, { template: 'simplified-two-design', layers });
  const theta = tf.variable(tf.randomUniform([count], -Math.PI, Math.PI));
  const g = tf.randomNormal([d, k]);
  const run = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () =>
          factorColumns(plan, theta as unknown as tf.Tensor1D, k, path)
            .mul(g)
            .sum() as tf.Scalar,
        [theta],
      );
      return grads[theta.name]!.dataSync()[0];
    });
  const ms = await timeMs(run, { warmup: 2, minRuns: 5, minMs: 300, maxRuns: 100 });
  theta.dispose();
  g.dispose();
  return ms;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

export default async function adaptersBench(): Promise<void> {
  const backend = await initBackend();
  console.log(`tfjs backend: ${backend}`);
  console.log('one training step of a frozen d×d layer over B tokens (median ms)');
  console.log(
    `${pad('B', 6)} ${pad('d', 5)} ${pad('K', 3)} ${pad('L', 2)} | ${pad('LoRA', 8)} ${pad('QP kernel', 10)} ${pad('QP ops', 8)} | ${pad('kernel/LoRA', 11)} ${pad('ops/LoRA', 9)}`,
  );
  for (const [B, d, K, L] of SHAPES) {
    const x = tf.randomNormal([B, d], 0, 1, 'float32', 7) as tf.Tensor2D;
    const runs = [
      makeStep(d, x, { method: 'lora', r: K, loraAlpha: K, targetModules: ['layer'] }),
      makeStep(d, x, {
        method: 'quantum-peft',
        rank: K,
        layers: L,
        path: 'kernel',
        targetModules: ['layer'],
      }),
      makeStep(d, x, { method: 'quantum-peft', rank: K, layers: L, path: 'ops', targetModules: ['layer'] }),
    ];
    const [lora, kernel, ops] = interleaved(
      runs.map((r) => r.step),
      B >= 8192 ? 7 : 11,
    ) as [number, number, number];
    for (const r of runs) r.dispose();
    x.dispose();
    console.log(
      `${pad(B, 6)} ${pad(d, 5)} ${pad(K, 3)} ${pad(L, 2)} | ${pad(lora.toFixed(1), 8)} ${pad(kernel.toFixed(1), 10)} ${pad(ops.toFixed(1), 8)} | ${pad(`${(kernel / lora).toFixed(3)}×`, 11)} ${pad(`${(ops / lora).toFixed(3)}×`, 9)}`,
    );
  }
  console.log('\nbuilding P (d×K) with its gradient, forward + backward (median ms)');
  console.log(
    `${pad('d', 5)} ${pad('K', 3)} ${pad('L', 2)} | ${pad('kernel', 8)} ${pad('ops', 8)} | ${pad('ops/kernel', 10)}`,
  );
  for (const [d, K, L] of [
    [512, 8, 2],
    [1024, 8, 2],
    [768, 8, 2],
    [4096, 8, 2],
  ] as const) {
    const kernel = await factorTime(d, K, L, 'kernel');
    const ops = await factorTime(d, K, L, 'ops');
    console.log(
      `${pad(d, 5)} ${pad(K, 3)} ${pad(L, 2)} | ${pad(kernel.toFixed(2), 8)} ${pad(ops.toFixed(2), 8)} | ${pad(`${(ops / kernel).toFixed(2)}×`, 10)}`,
    );
  }
}
