/** AdaLoRA: PEFT's budget schedule in closed form, and the allocator keeping the budget. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdaLoraAllocator,
  type AdaLoraLayer,
  adaloraBudget,
  getMethod,
  PeftModel,
} from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { randn, Tiny } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const cfg = (extra: Record<string, unknown>) =>
  getMethod('adalora').normalize({ method: 'adalora', targetModules: ['q'], ...extra }) as Parameters<
    typeof adaloraBudget
  >[0];

describe('adalora', () => {
  it('follows the cubic budget schedule: init budget, cubic decay, target at the end', () => {
    const c = cfg({ initR: 12, targetR: 4, tinit: 10, tfinal: 10, totalStep: 110, deltaT: 5 });
    expect(adaloraBudget(c, 3, 5)).toEqual({ budget: 36, mask: false });
    // halfway (step 55 of the 90 scheduled): (36 − 12)·(1 − 0.5)³ + 12 = 15
    expect(adaloraBudget(c, 3, 55)).toEqual({ budget: 15, mask: true });
    expect(adaloraBudget(c, 3, 56).mask).toBe(false);
    expect(adaloraBudget(c, 3, 105)).toEqual({ budget: 12, mask: true });
  });

  it('masks the least important singular values down to the budget and adds the orthogonality loss', () => {
    const model = new Tiny();
    const peft = new PeftModel(model, {
      method: 'adalora',
      initR: 6,
      targetR: 2,
      totalStep: 4,
      deltaT: 1,
      targetModules: ['q'],
    });
    const layers = peft.adapterLayers().map(([, l]) => l as AdaLoraLayer);
    for (const l of layers) l.loraE.assign(tf.randomNormal([6], 0, 1, 'float32', 3));
    const alloc = AdaLoraAllocator.forModel(peft);
    expect(alloc.layers).toEqual(layers);
    const x = randn(8, 16, 1);
    const target = randn(8, 8, 2);
    let last = { budget: 0, masked: 0 };
    for (let step = 1; step <= 4; step++) {
      const { grads } = tf.variableGrads(() => {
        const loss = model.forward(x).sub(target).square().mean() as tf.Scalar;
        return loss.add(peft.regularizationLoss()!) as tf.Scalar;
      }, peft.trainableVariables());
      last = alloc.update(step, grads);
      tf.dispose(grads);
    }
    expect(last.budget).toBe(4); // targetR · layers
    const kept = layers.reduce((s, l) => s + Array.from(l.loraE.dataSync()).filter((v) => v !== 0).length, 0);
    expect(kept).toBeLessThanOrEqual(4);
    expect(last.masked).toBe(12 - kept);
    const reg = peft.regularizationLoss()!;
    expect(reg.dataSync()[0]).toBeGreaterThan(0);
    reg.dispose();
  });
});
