/**
 * qpeft against PyTorch on the same work (issue 17), timed interleaved in one run: one step of qpeft, then
 * one of PyTorch (a persistent `/usr/bin/python3 bench/torch_worker.py` child), round after round, so that
 * the machine's load hits both alike. Both sides use the same thread count: the wasm backend's
 * (`QPEFT_THREADS`, `--threads`) and `torch.set_num_threads`.
 *
 * - Layer step: a frozen 1024×1024 linear over B = 4096 tokens, loss mean(y²), SGD: LoRA r = 8 and
 *   Quantum-PEFT K = 8 (two-design, L = 2; PyTorch builds P and Q with autograd through its own statevector).
 * - ViT step: the shipped ViT (checkpoints/vit-fashion-mnist, rebuilt in PyTorch by python/qpeft_torch.py),
 *   batch 32, LoRA r = 4 on every attention query/value, cross-entropy, SGD; once on the fused kernels
 *   (src/tf/fused-ops.ts) and once on tfjs's composite ops, each against a PyTorch step of the same round.
 *
 * Goals: LoRA layer step qpeft/PyTorch ≤ 1.2; Quantum-PEFT/LoRA in qpeft ≤ 1.05; ViT step qpeft/PyTorch ≤ 1.0.
 * Skipped with the reason printed when /usr/bin/python3 cannot import torch (bash scripts/setup-apt.sh).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../src/experiments/experiment.ts';
import { loadModel } from '../src/models/checkpoint.ts';
import type { ViT } from '../src/models/vit.ts';
import { Linear } from '../src/nn/linear.ts';
import { Module } from '../src/nn/module.ts';
import { PeftModel } from '../src/peft/index.ts';
import { backendThreads, describeBackend, initBackend, tf } from '../src/tf/backend.ts';
import { fusedKernelsActive, useFusedKernels } from '../src/tf/fused-ops.ts';

const PYTHON = '/usr/bin/python3';
const [B, D, K, L] = [4096, 1024, 8, 2];
const ROUNDS = 15;

class One extends Module {
  readonly layer: Linear;
  constructor(d: number) {
    super();
    this.layer = this.setModule('layer', new Linear({ inFeatures: d, outFeatures: d, seed: 1 }));
  }
}

/**
 * A persistent PyTorch worker answering one JSON line per request, on `threads` threads. The thread count
 * goes into the environment too: `torch.set_num_threads` sets PyTorch's own pool, but Debian's torch calls
 * OpenBLAS's pthreads build, which starts one thread per core unless OPENBLAS_NUM_THREADS says otherwise
 * (measured: a 4096×1024·1024×1024 product under `set_num_threads(1)` used 2.0 CPU-seconds per second).
 */
function torchWorker(threads: number) {
  const n = String(threads);
  const child = spawn(PYTHON, [path.join(PACKAGE_ROOT, 'bench', 'torch_worker.py')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
      child.stdin.write(`${JSON.stringify(msg)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error('the PyTorch worker exited');
      const out = JSON.parse(next.value) as Record<string, unknown>;
      if (out.error) throw new Error(`PyTorch worker: ${out.error}`);
      return out;
    },
    close: () => child.stdin.end(),
  };
}

function layerStep(config: Record<string, unknown>, x: tf.Tensor2D): () => void {
  const model = new One(D);
  const peft = new PeftModel(model, config);
  const opt = tf.train.sgd(1e-3);
  const vars = peft.trainableVariables();
  return () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.layer.forward(x).square().mean() as tf.Scalar, vars);
      opt.applyGradients(grads);
      vars[0]!.dataSync();
    });
}

function vitStep(): () => void {
  const model = loadModel(path.join(PACKAGE_ROOT, 'checkpoints', 'vit-fashion-mnist')) as ViT;
  const peft = new PeftModel(model, {
    method: 'lora',
    r: 4,
    loraAlpha: 4,
    targetModules: ['query', 'value'],
  });
  const vars = peft.trainableVariables();
  const opt = tf.train.sgd(1e-3);
  const x = tf.randomUniform([32, 28, 28], 0, 1, 'float32', 3);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  return () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tf.Scalar,
        vars,
      );
      opt.applyGradients(grads);
      vars[0]!.dataSync();
    });
}

const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

export default async function torchBench(): Promise<void> {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log(
      `skipped: ${PYTHON} cannot import torch (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}); install python3-torch and libopenblas0-pthread (bash scripts/setup-apt.sh)`,
    );
    return;
  }
  await initBackend();
  const threads = backendThreads() ?? 1;
  const py = torchWorker(threads);
  try {
    const info = await py.ask({ cmd: 'init', threads, root: PACKAGE_ROOT });
    console.log(`qpeft: tfjs ${describeBackend()}; PyTorch ${info.torch} with ${info.threads} thread(s)`);
    if (info.blas) console.log(`PyTorch BLAS: ${info.blas}`);
    const x = tf.randomNormal([B, D], 0, 1, 'float32', 7) as tf.Tensor2D;
    const vit = vitStep();
    const fused = fusedKernelsActive();
    const ours: Record<string, () => void> = {
      lora: layerStep({ method: 'lora', r: K, loraAlpha: K, targetModules: ['layer'] }, x),
      'quantum-peft': layerStep({ method: 'quantum-peft', rank: K, layers: L, targetModules: ['layer'] }, x),
      vit,
    };
    // The same ViT step on tfjs's composite ops (what QPEFT_FUSED=0 runs), timed in the same rounds.
    if (fused)
      ours['vit-composite'] = () => {
        useFusedKernels(false);
        try {
          vit();
        } finally {
          useFusedKernels(true);
        }
      };
    await py.ask({ cmd: 'layer', method: 'lora', B, d: D, K, L });
    await py.ask({ cmd: 'layer', method: 'quantum-peft', B, d: D, K, L });
    await py.ask({ cmd: 'vit', batch: 32, r: 4 });
    const names = Object.keys(ours);
    const tq: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const tt: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = -1; r < ROUNDS; r++) {
      for (const n of names) {
        const t0 = performance.now();
        ours[n]!();
        const ms = performance.now() - t0;
        const torchMs = (await py.ask({ cmd: 'step', name: n === 'vit-composite' ? 'vit' : n })).ms as number;
        if (r >= 0) {
          tq[n]!.push(ms);
          tt[n]!.push(torchMs);
        }
      }
    }
    const row = (label: string, n: string) => {
      const a = median(tq[n]!);
      const b = median(tt[n]!);
      console.log(
        `${label.padEnd(44)} ${a.toFixed(1).padStart(9)} ${b.toFixed(1).padStart(9)} ${`${(a / b).toFixed(2)}×`.padStart(8)}`,
      );
    };
    console.log(`median ms of ${ROUNDS} interleaved steps`);
    console.log(
      `${'step'.padEnd(44)} ${'qpeft'.padStart(9)} ${'PyTorch'.padStart(9)} ${'ratio'.padStart(8)}`,
    );
    row(`layer B=${B} d=${D}: LoRA r=${K}`, 'lora');
    row(`layer B=${B} d=${D}: Quantum-PEFT K=${K} L=${L}`, 'quantum-peft');
    row('ViT (shipped) batch 32: LoRA r=4 query/value', 'vit');
    if (fused) row('  same, composite ops (QPEFT_FUSED=0)', 'vit-composite');
    else console.log('  (fused kernels inactive: the ViT row above ran the composite ops)');
    const qp = median(tq['quantum-peft']!) / median(tq.lora!);
    const qpTorch = median(tt['quantum-peft']!) / median(tt.lora!);
    console.log(
      `Quantum-PEFT / LoRA layer step: qpeft ${qp.toFixed(2)}× (goal ≤ 1.05), PyTorch ${qpTorch.toFixed(2)}×`,
    );
    console.log('goals: LoRA layer qpeft/PyTorch ≤ 1.2; ViT step ≤ 1.0 at the same thread count');
    x.dispose();
  } finally {
    py.close();
  }
}
