/**
 * A small, genuinely trained adapter for the quantization table when no experiment adapter is at hand:
 * `blocks.{0..B−1}.attn.{query,value}` (d×d) and a `head` (d×10, a direct-sum factor), adapted with
 * quantum-peft (or quantum-peft-lie) from its default initialisation, trained with Adam to fit a fixed
 * random rank-K teacher update ΔW*ₜ per layer (loss Σₜ ‖ΔWₜ − ΔW*ₜ‖²_F / ‖ΔW*ₜ‖²_F). Seeded and
 * deterministic on one backend. It is a synthetic regression task, not a fine-tuning benchmark.
 */
import { InputError } from '../errors.ts';
import { PeftModel } from '../peft/model.ts';
import { saveAdapter } from '../peft/serialize.ts';
import { tf } from '../tf/backend.ts';
import { createRng } from '../util/random.ts';
import { skeletonModel } from './adapter.ts';

export interface DemoOptions {
  readonly method?: 'quantum-peft' | 'quantum-peft-lie';
  /** Hidden size d (default 64). */
  readonly dim?: number;
  /** Blocks B (default 6). */
  readonly blocks?: number;
  readonly rank?: number;
  readonly steps?: number;
  readonly seed?: number;
}

/** Train the demo adapter and save it (float32) to `dir`; returns the final loss and the parameter count. */
export function trainDemoAdapter(dir: string, options: DemoOptions = {}): { loss: number; params: number } {
  const method = options.method ?? 'quantum-peft';
  if (method !== 'quantum-peft' && method !== 'quantum-peft-lie')
    throw new InputError(`demo method must be quantum-peft or quantum-peft-lie, got ${String(method)}`);
  const d = options.dim ?? 64;
  const blocks = options.blocks ?? 6;
  const rank = options.rank ?? 4;
  const steps = options.steps ?? 150;
  const seed = options.seed ?? 0;
  const targets = [
    ...Array.from({ length: blocks }, (_, b) =>
      ['query', 'value'].map((n) => ({ name: `blocks.${b}.attn.${n}`, in_features: d, out_features: d })),
    ).flat(),
    { name: 'head', in_features: d, out_features: 10 },
  ];
  const peft = new PeftModel(skeletonModel(targets), {
    method,
    rank,
    seed,
    targetModules: ['query', 'value', 'head'],
    // the published figures of this demo predate mixed radix: its 10-wide head stays a direct sum
    ...(method === 'quantum-peft' ? { layers: 2, factorForm: 'direct-sum' } : {}),
  });
  try {
    const rng = createRng(seed + 1);
    const teacher = peft.adapterLayers().map(([, l]) => {
      const u = Float32Array.from(
        { length: l.inFeatures * rank },
        () => rng.normal() / Math.sqrt(l.inFeatures),
      );
      const v = Float32Array.from({ length: l.outFeatures * rank }, () => rng.normal());
      return tf.tidy(() =>
        tf.matMul(tf.tensor2d(u, [l.inFeatures, rank]), tf.tensor2d(v, [l.outFeatures, rank]), false, true),
      );
    });
    const norms = teacher.map((t) => tf.tidy(() => t.square().sum().dataSync()[0]!));
    const vars = peft.trainableVariables();
    const opt = tf.train.adam(0.05);
    const lossFn = () =>
      tf.tidy(() => {
        const terms = peft
          .adapterLayers()
          .map(([, l], i) => l.deltaWeight().sub(teacher[i]!).square().sum().div(norms[i]!));
        return tf.addN(terms).div(terms.length) as tf.Scalar;
      });
    let loss = Number.NaN;
    for (let s = 0; s < steps; s++) {
      const v = opt.minimize(lossFn, true, vars);
      loss = v!.dataSync()[0]!;
      v!.dispose();
    }
    opt.dispose();
    for (const t of teacher) t.dispose();
    const params = vars.reduce((a, v) => a + v.size, 0);
    saveAdapter(peft, dir);
    return { loss, params };
  } finally {
    peft.unload();
  }
}
