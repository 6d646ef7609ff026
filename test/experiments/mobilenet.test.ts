/**
 * nsfwjs's MobileNetV2 as shipped, and the classifier experiment 4 builds from it (smaller input, global
 * pooling, a new head), wrapped with adapters in its pointwise convolutions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobilenetAvailable } from '../../src/experiments/experiment.ts';
import {
  loadMobileNetV2,
  loadMobileNetV2Classifier,
  mobilenetPointwise,
} from '../../src/experiments/mobilenet.ts';
import { getPeftModel } from '../../src/peft/index.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';

describe.skipIf(!mobilenetAvailable())('nsfwjs MobileNetV2', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await initBackend('wasm');
    model = await loadMobileNetV2();
  });
  afterAll(() => model?.dispose());

  it('loads offline from the npm tarball with its 224×224×3 input and 5-way output', () => {
    expect(model.inputs[0]!.shape).toEqual([null, 224, 224, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 5]);
    expect(model.countParams()).toBe(2_619_461);
  });

  it('the classifier at 224×224 pools exactly the features the shipped model pools (7×7 average = global)', async () => {
    const clf = await loadMobileNetV2Classifier(224, 10, 0);
    try {
      const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 3);
      const shipped = tf.model({ inputs: model.inputs, outputs: model.getLayer('flatten_1').output });
      const ours = tf.model({ inputs: clf.inputs, outputs: clf.getLayer('global_pool').output });
      const diff = tf.tidy(
        () =>
          tf
            .max(tf.abs(tf.sub(shipped.predict(x) as tf.Tensor, ours.predict(x) as tf.Tensor)))
            .dataSync()[0]!,
      );
      x.dispose();
      expect(diff).toBeLessThan(1e-4);
    } finally {
      clf.dispose();
    }
  });

  it('the 32×32 classifier: 10 outputs, a seeded head, 34 pointwise convs of widths 16…1280', async () => {
    const a = await loadMobileNetV2Classifier(32, 10, 5);
    const b = await loadMobileNetV2Classifier(32, 10, 5);
    try {
      expect(a.inputs[0]!.shape).toEqual([null, 32, 32, 3]);
      expect(a.outputs[0]!.shape).toEqual([null, 10]);
      const k = (m: tf.LayersModel) => m.getLayer('head').getWeights()[0]!.dataSync();
      expect(Array.from(k(a))).toEqual(Array.from(k(b)));
      const pw = mobilenetPointwise(a);
      expect(pw.length).toBe(34);
      const widths = pw.flatMap((n) => {
        const s = a.getLayer(n).getWeights()[0]!.shape;
        return [s[2]!, s[3]!];
      });
      expect([Math.min(...widths), Math.max(...widths)]).toEqual([16, 1280]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('LoRA r=1 in every pointwise conv with the head in modulesToSave: base output at init, closed-form count', async () => {
    const clf = await loadMobileNetV2Classifier(32, 10, 1);
    try {
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4);
      const base = tf.tidy(() => (clf.predict(x) as tf.Tensor).dataSync());
      const pw = mobilenetPointwise(clf);
      const peft = getPeftModel(clf, { method: 'lora', r: 1, targetModules: pw, modulesToSave: ['head'] });
      const adapted = tf.tidy(() => (clf.predict(x) as tf.Tensor).dataSync());
      x.dispose();
      let d = 0;
      for (let i = 0; i < base.length; i++) d = Math.max(d, Math.abs(base[i]! - adapted[i]!));
      expect(d).toBeLessThan(1e-5);
      const expected = pw.reduce(
        (s, n) => {
          const sh = (clf.getLayer(n) as unknown as { kernel: tf.LayerVariable }).kernel.shape;
          return s + sh[2]! + sh[3]!;
        },
        1280 * 10 + 10,
      );
      expect(peft.countParameters().trainable).toBe(expected);
      peft.unload();
    } finally {
      clf.dispose();
    }
  });
});
